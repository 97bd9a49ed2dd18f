"""`opencx metrics` on small files: as a subprocess (no Django) and in-process for the errors."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from opencx.analytics.cli import main
from opencx.analytics.metrics.nps import nps_from_counts

HEADER = "location,created_at,score\n"
ROWS = [
    ("Bath", "2024-01-03T10:00:00", 9),
    ("Bath", "2024-01-20 11:00", 10),
    ("Bath", "2024-01-31T23:30:00-02:00", 3),  # 01:30 UTC on 1 February
    ("Leeds", "2024-02-01T00:00:00Z", 3),
    ("Leeds", "2024-02-02", 7),
    ("Leeds", "2024-02-05", 10),
]


def _write(tmp_path: Path, rows=ROWS, name="responses.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["location", "created_at", "score"])
        writer.writerows(rows)
    return path


def _opencx(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "no.such.settings"}  # Django must not load
    return subprocess.run(
        [sys.executable, "-m", "opencx.cli", "metrics", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_nps_by_location_and_month_as_a_subprocess(tmp_path):
    path = _write(tmp_path)
    done = _opencx("--input", str(path), "--metric", "nps", "--by", "location,month")
    assert done.returncode == 0, done.stderr
    result = pd.read_csv(io.StringIO(done.stdout))
    assert list(result.columns) == ["location", "month", "value", "n", "ci_low", "ci_high"]
    assert result[["location", "month", "n"]].values.tolist() == [
        ["Bath", "2024-01", 2],
        ["Bath", "2024-02", 1],
        ["Leeds", "2024-02", 3],
    ]
    leeds = nps_from_counts(n=3, promoters=1, detractors=1)  # 3, 7, 10
    row = result.iloc[2]
    assert row["value"] == pytest.approx(leeds.value)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((leeds.ci_low, leeds.ci_high))


def test_a_bad_score_names_file_line_and_column_and_exits_2(tmp_path):
    rows = [*ROWS[:3], ("Leeds", "2024-02-01", "ten"), *ROWS[4:]]
    path = _write(tmp_path, rows)
    done = _opencx("--input", str(path), "--metric", "nps", "--by", "location")
    assert done.returncode == 2
    assert "responses.csv line 5, column score: 'ten' is not a whole number 0–10" in done.stderr
    assert done.stdout == ""


def test_parquet_in_json_out_to_a_file(tmp_path):
    frame = pd.DataFrame(
        {
            "shop": ["a", "a", "b"],
            "rating": [5, 4, 2],
            "created_at": pd.to_datetime(["2024-03-04"] * 3),
        }
    )
    source = tmp_path / "answers.parquet"
    frame.to_parquet(source)
    out = tmp_path / "out.json"
    done = _opencx(
        "--input",
        str(source),
        "--metric",
        "csat",
        "--scale",
        "1-5",
        "--satisfied",
        "4,5",
        "--score-column",
        "rating",
        "--by",
        "shop,week",
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    records = json.loads(out.read_text())
    assert [(r["shop"], r["week"], r["value"], r["n"]) for r in records] == [
        ("a", "2024-03-04", 100.0, 2),
        ("b", "2024-03-04", 0.0, 1),
    ]
    assert records[1]["ci_low"] == 0.0


def test_other_subcommands_still_go_to_django():
    done = subprocess.run(
        [sys.executable, "-m", "opencx.cli", "help", "--commands"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert done.returncode == 0, done.stderr
    assert "migrate" in done.stdout


# In-process from here on: the same main(), without a new interpreter per case.


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("11", "'11'"), ("7.5", "'7.5'"), ("", "an empty cell"), ("-1", "'-1'"), ("9 ", None)],
)
def test_every_bad_score_is_refused_with_its_line(tmp_path, capsys, cell, shown):
    path = _write(tmp_path, [*ROWS, ("Leeds", "2024-02-06", cell)])
    code, out, err = _run(capsys, "--input", str(path), "--metric", "nps")
    if shown is None:  # surrounding spaces are tolerated: " 9 " is the whole number 9
        assert code == 0, err
        return
    assert code == 2
    assert f"responses.csv line 8, column score: {shown} is not a whole number 0–10" in err


def test_ces_needs_its_polarity(tmp_path, capsys):
    path = _write(tmp_path, [("x", "2024-01-01", 6), ("x", "2024-01-01", 2)])
    code, _, err = _run(capsys, "--input", str(path), "--metric", "ces", "--scale", "1-7")
    assert code == 2 and "--polarity" in err
    code, out, _ = _run(
        capsys, "--input", str(path), "--metric", "ces", "--scale", "1-7", "--polarity", "lower"
    )
    assert code == 0
    # lower is better on this scale: 2 is on the good side, 6 is not
    assert pd.read_csv(io.StringIO(out))["value"].tolist() == [50.0]


@pytest.mark.parametrize("engine", ["duckdb", "pandas", "polars", "arrow"])
def test_every_engine_gives_the_same_csv(tmp_path, capsys, engine):
    path = _write(tmp_path)
    args = ["--input", str(path), "--metric", "nps", "--by", "location,day"]
    _, reference, _ = _run(capsys, *args, "--engine", "pandas")
    code, out, err = _run(capsys, *args, "--engine", engine)
    assert code == 0, err
    assert out == reference


def test_missing_columns_and_bad_timestamps_are_named(tmp_path, capsys):
    path = _write(tmp_path)
    code, _, err = _run(capsys, "--input", str(path), "--metric", "nps", "--by", "region")
    assert code == 2 and "no column 'region'" in err
    bad = _write(tmp_path, [*ROWS, ("Leeds", "yesterday", 5)], name="bad.csv")
    code, _, err = _run(capsys, "--input", str(bad), "--metric", "nps", "--by", "month")
    assert code == 2
    assert "bad.csv line 8, column created_at: 'yesterday' is not an ISO 8601 time" in err


def test_parquet_scores_are_checked_by_row(tmp_path, capsys):
    source = tmp_path / "answers.parquet"
    pd.DataFrame({"score": [10.0, 9.5, 3.0]}).to_parquet(source)
    code, _, err = _run(capsys, "--input", str(source), "--metric", "nps")
    assert code == 2
    assert "answers.parquet row 2, column score: 9.5 is not a whole number 0–10" in err
