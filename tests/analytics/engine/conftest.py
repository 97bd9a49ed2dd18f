"""Engine fixtures: one SparkSession per test session (it takes seconds to start)."""

import logging
import os
import sys

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "spark: runs on a local PySpark session (part of `make test`, needs Java)"
    )


@pytest.fixture(scope="session")
def spark():
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="the spark extra is not installed")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("opencx-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    logging.getLogger("py4j").setLevel(logging.WARNING)  # no "closing" chatter at exit
