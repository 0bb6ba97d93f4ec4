"""Fixed statements for the hottest reads, compiled once and run on the driver's cursor.

SQLAlchemy writes the SQL for the engine's dialect, as for any Core statement; skipping its execution
layer (cache lookup, parameter processing, result rows) more than halves the cost of a page of flows
or of a counter read. Only statements whose columns need no type conversion belong here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ClauseElement, Dialect
from sqlalchemy.sql.compiler import Compiled


class Prepared:
    """A Core statement as SQL text for one dialect, with its parameters in the driver's style."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled: Compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("statements with expanding parameters cannot be prepared")
        self.sql = compiled.string
        self._order: list[str] | None = getattr(compiled, "positiontup", None)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | Mapping[str, Any]:
        """``values`` by name, as a tuple for positional paramstyles, as they are for named ones."""
        if self._order is None:
            return values
        return tuple(values[name] for name in self._order)
