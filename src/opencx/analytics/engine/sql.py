"""The histogram as portable SQL text: SQLite, PostgreSQL, DuckDB and Spark SQL.

One query per metric: `SELECT keys, score, COUNT(*) FROM table GROUP BY keys, score`. No ratio is
computed in SQL (every ratio is taken later, in Python, from exact integer counts), so integer
division (PostgreSQL's `count/count` → 0) cannot bite. Only the period expressions differ by
dialect; periods are truncated inside the scan and labelled after it, on the few grouped rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opencx.analytics.engine.histogram import ROWS, VALUE
from opencx.analytics.engine.spec import PERIODS

DIALECTS = ("sqlite", "postgresql", "duckdb", "spark")


def quote(name: str, dialect: str) -> str:
    """A quoted identifier; a dotted name (schema.table) is quoted part by part."""
    mark = "`" if dialect == "spark" else '"'
    if not name or "\x00" in name:
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return ".".join(mark + part.replace(mark, mark * 2) + mark for part in name.split("."))


def _column(name: str, dialect: str) -> str:
    mark = "`" if dialect == "spark" else '"'
    return mark + name.replace(mark, mark * 2) + mark


def _bucket(created_at: str, unit: str, dialect: str) -> str:
    """An expression truncating created_at to its period, cheap enough to run on every row."""
    column = _column(created_at, dialect)
    if dialect == "sqlite":  # SQLite keeps timestamps as ISO text: the label is the bucket
        return {
            "month": f"strftime('%Y-%m', {column})",
            "week": f"date({column}, 'weekday 0', '-6 days')",  # the Monday on or before
            "day": f"date({column})",
        }[unit]
    return f"date_trunc('{unit}', {column})"


def _label(expression: str, unit: str, dialect: str) -> str:
    """The period label of a bucket: month 'YYYY-MM', week (its Monday) and day 'YYYY-MM-DD'."""
    if dialect == "sqlite":
        return expression
    if dialect == "postgresql":
        return f"to_char({expression}, '{'YYYY-MM' if unit == 'month' else 'YYYY-MM-DD'}')"
    if dialect == "spark":
        return f"date_format({expression}, '{'yyyy-MM' if unit == 'month' else 'yyyy-MM-dd'}')"
    return f"strftime({expression}, '{'%Y-%m' if unit == 'month' else '%Y-%m-%d'}')"


def histogram_sql(
    table: str, by: Sequence[str], score: str, created_at: str, dialect: str, *, quoted: bool = True
) -> str:
    """SELECT group keys, the raw score and COUNT(*) per (keys, score)."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, got {dialect!r}")
    source = quote(table, dialect) if quoted else table
    inner = []
    for name in by:
        expression = (
            _bucket(created_at, name, dialect) if name in PERIODS else _column(name, dialect)
        )
        inner.append(f"{expression} AS {_column(name, dialect)}")
    inner.append(f"{_column(score, dialect)} AS {_column(VALUE, dialect)}")
    positions = ", ".join(str(i + 1) for i in range(len(inner)))
    query = (
        f"SELECT {', '.join(inner)}, COUNT(*) AS {_column(ROWS, dialect)} "
        f"FROM {source} GROUP BY {positions}"
    )
    outer = [
        f"{_label(_column(name, dialect), name, dialect)} AS {_column(name, dialect)}"
        if name in PERIODS
        else _column(name, dialect)
        for name in by
    ]
    outer += [_column(VALUE, dialect), _column(ROWS, dialect)]
    return f"SELECT {', '.join(outer)} FROM ({query}) AS h"


def dialect_of(connection: Any) -> str:
    """Guess the dialect from a DB-API connection's module (sqlite3, psycopg, psycopg2, duckdb)."""
    module = type(connection).__module__
    for prefix, dialect in (
        ("sqlite3", "sqlite"),
        ("psycopg", "postgresql"),
        ("duckdb", "duckdb"),
        ("_duckdb", "duckdb"),
    ):
        if module.startswith(prefix):
            return dialect
    raise ValueError(f"cannot tell the SQL dialect of {type(connection)!r}; pass dialect=")


@dataclass(frozen=True)
class SqlTable:
    """A table (or view) on a DB-API connection: SQLite, PostgreSQL or DuckDB."""

    connection: Any
    table: str
    dialect: str | None = None

    @property
    def resolved_dialect(self) -> str:
        return self.dialect or dialect_of(self.connection)


def sql_histogram(source: SqlTable, by: Sequence[str], score: str, created_at: str) -> pd.DataFrame:
    """Run the histogram query on the table's own database and fetch the grouped rows."""
    dialect = source.resolved_dialect
    query = histogram_sql(source.table, by, score, created_at, dialect)
    cursor = source.connection.cursor()
    try:
        cursor.execute(query)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return _frame(rows, by)


def _frame(rows: Sequence[Sequence[Any]], by: Sequence[str]) -> pd.DataFrame:
    columns = [*by, VALUE, ROWS]
    histogram = pd.DataFrame([tuple(row) for row in rows], columns=columns, dtype=object)
    histogram[ROWS] = histogram[ROWS].astype("int64")
    return histogram


def duckdb_histogram(data: Any, by: Sequence[str], score: str, created_at: str) -> pd.DataFrame:
    """Run the histogram in DuckDB over a pandas/Polars/Arrow table or a DuckDB relation.

    In-memory tables are scanned in place through Arrow (no copy into a database file).
    """
    import duckdb

    if isinstance(data, duckdb.DuckDBPyRelation):
        query = histogram_sql("_opencx_rows", by, score, created_at, "duckdb")
        result = data.query("_opencx_rows", query)
    else:
        connection = duckdb.connect()
        connection.register("_opencx_rows", data)
        result = connection.sql(histogram_sql("_opencx_rows", by, score, created_at, "duckdb"))
    assert result is not None  # a SELECT always yields a relation
    histogram = result.df()
    histogram[ROWS] = histogram[ROWS].astype("int64")
    return histogram


def spark_histogram(data: Any, by: Sequence[str], score: str, created_at: str) -> pd.DataFrame:
    """Run the same histogram as Spark SQL over a temporary view of a PySpark DataFrame."""
    import uuid

    view = f"opencx_rows_{uuid.uuid4().hex}"
    data.createOrReplaceTempView(view)
    session = data.sparkSession
    try:
        rows = session.sql(histogram_sql(view, by, score, created_at, "spark")).collect()
    finally:
        session.catalog.dropTempView(view)
    return _frame([tuple(row) for row in rows], by)
