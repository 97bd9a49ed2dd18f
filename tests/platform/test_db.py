"""write_turn: SQLite writers take turns on locks instead of SQLite's sleeping busy handler."""

import os
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from opencx.platform import db as turns
from opencx.platform.db import column_sql, first_by_sql, table_sql
from opencx.platform.models import Location
from tests.factories import LocationFactory


def test_a_database_file_gets_a_lock_file_and_memory_databases_none(tmp_path):
    database = str(tmp_path / "opencx.sqlite3")
    descriptor = turns._lock_file(database)
    assert descriptor is not None and os.path.exists(f"{database}-writers")
    assert turns._lock_file(database) == descriptor  # opened once per process
    assert turns._lock_file(":memory:") is None
    assert turns._lock_file("file:memorydb_default?mode=memory&cache=shared") is None


def test_threads_take_turns_and_no_two_writers_overlap(monkeypatch, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the turns are for SQLite")
    monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "x.sqlite3"))
    # The writers run in threads, whose connections are outside any transaction.
    inside, overlaps = [], []

    def writer():
        for _ in range(20):
            with turns.write_turn():
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(len(inside))
                time.sleep(0.0005)
                inside.pop()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


def test_inside_an_outer_transaction_nothing_is_taken(db):
    # The test itself runs in a transaction: write_turn must not block or take the lock.
    assert connection.in_atomic_block
    with turns.write_turn():
        assert not turns._sqlite_writers.locked()


@pytest.mark.django_db
def test_first_by_sql_gives_the_model_as_the_orm_does_and_none_for_no_row():
    store = LocationFactory(name="Harbour St")
    assert (table_sql(Location), column_sql(Location, "brand")) == (
        '"platform_location"',
        '"brand_id"',
    )
    sql = f"SELECT * FROM {table_sql(Location)} WHERE {column_sql(Location, 'id')} = %s"
    found = first_by_sql(Location, sql, [store.pk])
    assert isinstance(found, Location) and found == store
    assert (found.name, found.path, found.brand_id) == (store.name, store.path, store.brand_id)
    assert first_by_sql(Location, sql, [store.pk + 1000]) is None


@pytest.mark.django_db(transaction=True)
def test_first_by_sql_locks_the_row_where_the_database_can():
    store = LocationFactory()
    sql = f"SELECT * FROM {table_sql(Location)} WHERE {column_sql(Location, 'id')} = %s"
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert first_by_sql(Location, sql, [store.pk], for_update=True) == store
    [read] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert read.endswith("FOR UPDATE") == connection.features.has_select_for_update
