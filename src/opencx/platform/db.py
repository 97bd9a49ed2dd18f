"""Database helpers that keep one code path fast on both SQLite and PostgreSQL."""

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

try:
    import fcntl
except ImportError:  # not POSIX: the threads of one process still take turns
    fcntl = None  # type: ignore[assignment]

M = TypeVar("M", bound=Model)

_sqlite_writers = threading.Lock()
_lock_files: dict[str, int] = {}


@contextmanager
def write_turn(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Wrap a hot write transaction: on SQLite, writers take turns on a lock.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
    1–100 ms between retries, so under load the sleeping, not the work, sets the latency. The
    threads of a process queue on a lock, and the server's processes on an advisory lock on a
    file beside the database; both wake the next writer the moment the write is done. Inside an
    outer transaction nothing is taken (the outer block may hold the database already).
    PostgreSQL: no-op.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_writers:
        descriptor = _lock_file(str(connection.settings_dict["NAME"]))
        if descriptor is None:
            yield
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


def _lock_file(database: str) -> int | None:
    """The process's descriptor of `<database>-writers`; None for in-memory databases."""
    if fcntl is None or database in ("", ":memory:") or database.startswith("file:"):
        return None
    if database not in _lock_files:
        _lock_files[database] = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    return _lock_files[database]


def table_sql(model: type[Model]) -> str:
    """`model`'s table, quoted for hand-written SQL (`first_by_sql`)."""
    return f'"{model._meta.db_table}"'


def column_sql(model: type[Model], field: str) -> str:
    """The column of `model`'s `field`, quoted for hand-written SQL (`first_by_sql`)."""
    return f'"{model._meta.get_field(field).column}"'


def first_by_sql(
    model: type[M],
    sql: str,
    params: Sequence,
    *,
    for_update: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> M | None:
    """The first row of a hand-written SELECT of `model`'s columns, as `.first()` gives it;
    `for_update` locks it where the database can, as `select_for_update()` does (SQLite lets
    one writer in at a time anyway).

    For the few reads on the busiest write path, a customer's message (100 a second in
    bench/inbox_load.py): the ORM compiles a queryset's SQL again on every run, and for a join
    of wide tables that costs about three times running it (a contact by its identity: 0.95 ms
    of CPU against 0.3 ms). Write the SQL once, with `table_sql` and `column_sql`."""
    if for_update and connections[using].features.has_select_for_update:
        sql += " FOR UPDATE"
    return next(iter(model.objects.using(using).raw(sql, params)), None)
