"""Many rows into one table in one go: one statement or ``COPY`` on PostgreSQL, the driver's
executemany elsewhere.

Imports write tens of thousands of flows and five times as many plate grams a second. SQLAlchemy's
per-row parameter handling costs more than SQLite's own insert, and psycopg's pipelined executemany
spends ~30 us of Python per row; ``COPY`` streams the rows through psycopg's C writer instead. The
values need no conversion (integers, floats, strings, ``NULL``), so they go to the driver as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

COPY_FROM = 100
"""Rows from which PostgreSQL gets them by ``COPY``: it costs a round trip more than an INSERT."""


def insert_rows(conn: Connection, table: Table, rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows``, each a value for every column of ``table`` in its order, in the caller's
    transaction."""
    params: list[Any] = rows if isinstance(rows, list) else list(rows)
    if not params:
        return
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(column.name) for column in table.columns)
    places = f"({', '.join(['%s'] * len(table.columns))})"
    if conn.dialect.name == "postgresql":
        if len(params) < COPY_FROM:
            # One statement of all the rows: an executemany pipelines a statement per row.
            values = ", ".join([places] * len(params))
            flat = tuple(value for row in params for value in row)
            conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES {values}", flat)
            return
        driver = conn.connection.driver_connection
        assert driver is not None, "a connection in a transaction has its driver connection"
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        return
    if conn.dialect.name in ("mysql", "mariadb"):
        # Positional: PyMySQL escapes a tuple of values for half the cost of a dict of them, and
        # makes the executemany one statement of all the rows.
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES {places}", params)
        return
    compiled = insert(table).compile(dialect=conn.dialect)
    if compiled.positiontup is None:  # a driver that binds by name (psycopg)
        columns = table.columns.keys()
        params = [dict(zip(columns, row, strict=True)) for row in params]
    conn.exec_driver_sql(compiled.string, params)
