"""Counts kept in tables of their own: a row per key with its ``flows``, added to by an upsert,
subtracted from, and dropped when it reaches 0, so a table holds the keys that have flows and
nothing else (:mod:`.hours`, :mod:`.grams`).

Changes are given as rows of parameters, ``n`` the flows and ``k_<column>`` each key column's value;
callers pass them in their lock order (ascending key order, where :mod:`.counting` says no other).
The count is the table's one column outside its primary key.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, update
from sqlalchemy.sql import Executable

Changes = list[Mapping[str, Any]]


def add(conn: Connection, table: Table, rows: Changes) -> None:
    """Add ``n`` flows to each row's count (made at ``n`` if it has none), in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # One statement of one array per column: an executemany pipelines a statement per row, and
        # a multi-row VALUES would be compiled anew for every count of rows.
        columns = [*_key(table).values(), "n"]
        conn.exec_driver_sql(_adding_arrays(table), tuple([row[name] for row in rows] for name in columns))
        return
    if conn.dialect.name in ("mysql", "mariadb"):
        sql, params = adding_sql(table, rows)
        conn.exec_driver_sql(sql, tuple(params))
        return
    # Tuples to the driver: SQLAlchemy's own executemany spent ~20 us a row binding dicts, and an
    # import batch adds thousands of rows of pieces and days.
    names = itemgetter(*_key(table).values(), "n")
    conn.exec_driver_sql(_adding_sqlite(table), list(map(names, rows)))


def adding_sql(table: Table, rows: Changes) -> tuple[str, list[Any]]:
    """MariaDB's upsert of ``rows`` as one statement, with its parameters in order (the driver's
    ``%s``); :mod:`.pipeline` sends it with the other statements of a write."""
    key = _key(table)
    count = _count(table)
    places = f"({', '.join(['%s'] * (len(key) + 1))})"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(key)}, {count}) VALUES {', '.join([places] * len(rows))} "
        f"ON DUPLICATE KEY UPDATE {count} = {count} + VALUES({count})"
    )
    names = [*key.values(), "n"]
    return sql, [row[name] for row in rows for name in names]


def subtract(conn: Connection, table: Table, rows: Changes) -> None:
    """Take ``n`` flows off each row's count, and drop the rows left at 0, in the caller's transaction."""
    if rows:
        conn.execute(_subtracting(table), rows)
        conn.execute(_dropping_empty(table), [{k: v for k, v in row.items() if k != "n"} for row in rows])


def _key(table: Table) -> dict[str, str]:
    """The parameter name of each primary key column."""
    return {column.name: f"k_{column.name}" for column in table.primary_key}


def _count(table: Table) -> str:
    """The name of the column that holds the count."""
    (count,) = (column.name for column in table.columns if not column.primary_key)
    return count


@cache
def _adding_sqlite(table: Table) -> str:
    """SQLite's upsert of one row, for executemany: ``?`` for each key column, then for ``n``."""
    key = list(_key(table))
    count = _count(table)
    return (
        f"INSERT INTO {table.name} ({', '.join(key)}, {count}) VALUES ({', '.join(['?'] * (len(key) + 1))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {count} = {count} + excluded.{count}"
    )


@cache
def _adding_arrays(table: Table) -> str:
    """PostgreSQL's upsert of rows given as one array per key column, then one of ``n``."""
    key = list(_key(table))
    arrays = ", ".join(
        "%s::bigint[]" if table.c[column].type.python_type is int else "%s::text[]" for column in key
    )
    count = _count(table)
    return (
        f"INSERT INTO {table.name} ({', '.join(key)}, {count}) SELECT * FROM unnest({arrays}, %s::bigint[]) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {count} = {table.name}.{count} + EXCLUDED.{count}"
    )


@cache
def _subtracting(table: Table) -> Executable:
    where = [table.c[column] == bindparam(name) for column, name in _key(table).items()]
    count = _count(table)
    return update(table).where(*where).values({count: table.c[count] - bindparam("n")})


@cache
def _dropping_empty(table: Table) -> Executable:
    where = [table.c[column] == bindparam(name) for column, name in _key(table).items()]
    return delete(table).where(*where, table.c[_count(table)] == 0)
