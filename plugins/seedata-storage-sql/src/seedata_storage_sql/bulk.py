"""Many rows into one table in one go: ``COPY`` on PostgreSQL, multi-row INSERTs on MariaDB, the
driver's executemany on SQLite.

Imports write tens of thousands of flows and five times as many plate grams a second. The drivers'
own row handling costs more than the databases' inserts: psycopg's executemany spends ~30 us of
Python per row, PyMySQL's ~2 us per value. The rows' values are integers, floats, strings and
``NULL``, so they are written out here, as ``COPY`` text or as SQL, with a fast path for strings
of letters and digits (plates, grams), which need no escaping.

Writing the rows out (:func:`bulk_rows`) is apart from sending them (:func:`insert_bulk`): an
import writes out the next batch while the database stores the last (see :mod:`.write_behind`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, Dialect, Table, insert

STATEMENT_CHARS = 1_000_000
"""About the size of each INSERT on MariaDB and each piece of a ``COPY``: the size at which PyMySQL
cuts an executemany, well below the server's smallest default ``max_allowed_packet`` (16 MiB)."""

COPY_FROM = 100
"""Rows from which PostgreSQL gets them by ``COPY``: it costs a round trip more than an INSERT."""


class BulkRows(NamedTuple):
    """Rows for one table, written out for its database."""

    table: Table
    rows: list[Sequence[Any]]
    """As given: what SQLite's executemany and a short PostgreSQL INSERT take."""
    text: list[str]
    """``COPY`` data on PostgreSQL, whole INSERT statements on MariaDB, in pieces of about
    :data:`STATEMENT_CHARS`; empty where ``rows`` go as they are."""


def bulk_rows(dialect: Dialect, table: Table, rows: Iterable[Sequence[Any]]) -> BulkRows:
    """``rows``, each a value (``int``, ``float``, ``str`` or ``None``) for every column of ``table``
    in its order, written out for ``dialect``."""
    given: list[Sequence[Any]] = rows if isinstance(rows, list) else list(rows)
    if dialect.name == "postgresql" and len(given) >= COPY_FROM:
        return BulkRows(
            table, given, list(_pieces(("\t".join(map(_copy_value, row)) for row in given), "\n"))
        )
    if dialect.name in ("mysql", "mariadb") and given:
        head = f"INSERT INTO {_quote(dialect, table.name)} ({_names(dialect, table)}) VALUES "
        values = (f"({','.join(map(_mysql_value, row))})" for row in given)
        return BulkRows(table, given, [head + text for text in _pieces(values, ",", end="")])
    return BulkRows(table, given, [])


def insert_bulk(conn: Connection, bulk: BulkRows) -> None:
    """Insert rows written out by :func:`bulk_rows` for this connection's database, in the caller's
    transaction."""
    table = bulk.table
    dialect = conn.dialect
    if bulk.text and dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None, "a connection in a transaction has its driver connection"
        statement = f"COPY {_quote(dialect, table.name)} ({_names(dialect, table)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for piece in bulk.text:
                copy.write(piece)
        return
    if bulk.text:
        for statement in bulk.text:
            # No parameters: the statement's values are written out, and a % in them is a percent sign.
            conn.exec_driver_sql(statement, execution_options={"no_parameters": True})
        return
    if not bulk.rows:
        return
    names = _names(dialect, table)
    places = f"({', '.join(['%s'] * len(table.columns))})"
    if dialect.name == "postgresql":
        # One statement of all the rows: an executemany pipelines a statement per row.
        values = ", ".join([places] * len(bulk.rows))
        flat = tuple(value for row in bulk.rows for value in row)
        conn.exec_driver_sql(f"INSERT INTO {_quote(dialect, table.name)} ({names}) VALUES {values}", flat)
        return
    compiled = insert(table).compile(dialect=dialect)
    params: list[Any] = bulk.rows
    if compiled.positiontup is None:  # a driver that binds by name
        columns = table.columns.keys()
        params = [dict(zip(columns, row, strict=True)) for row in params]
    conn.exec_driver_sql(compiled.string, params)


def insert_rows(conn: Connection, table: Table, rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (as :func:`bulk_rows` takes them) in the caller's transaction."""
    insert_bulk(conn, bulk_rows(conn.dialect, table, rows))


def _quote(dialect: Dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


def _names(dialect: Dialect, table: Table) -> str:
    return ", ".join(_quote(dialect, column.name) for column in table.columns)


def _pieces(items: Iterable[str], separator: str, end: str | None = None) -> Iterator[str]:
    """``items`` joined by ``separator`` into strings of about :data:`STATEMENT_CHARS`, each ending
    with ``end`` (``separator`` where not given)."""
    ending = separator if end is None else end
    held: list[str] = []
    size = 0
    for item in items:
        held.append(item)
        size += len(item) + 1
        if size >= STATEMENT_CHARS:
            yield separator.join(held) + ending
            held, size = [], 0
    if held:
        yield separator.join(held) + ending


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    """A value as ``COPY`` text."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        text: str = value
        return text if text.isalnum() else text.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is float:
        return repr(value)
    raise TypeError(f"no bulk form for {kind.__name__}")


def _mysql_value(value: Any) -> str:
    """A value as a MariaDB literal. A string of letters and digits is quoted; any other is written in
    hexadecimal with its character set, which reads the same whether or not the server takes
    backslash escapes (``NO_BACKSLASH_ESCAPES``)."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return f"'{value}'" if value.isalnum() else f"_utf8mb4 X'{value.encode().hex()}'"
    if value is None:
        return "NULL"
    if kind is float:
        return repr(value)
    raise TypeError(f"no bulk form for {kind.__name__}")
