"""`opencx metrics` on small files: as a subprocess (no Django) and in-process for the errors."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opencx.analytics.cli import main
from opencx.analytics.cli_tables import parse_hours
from opencx.analytics.metrics import churn, clv, conversion, response_times, ux
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


# --------------------------------------------------------------------------- table metrics

EVENTS = [
    ("c1", "2024-01-02T09:00:00Z", "customer", "chat"),
    ("c1", "2024-01-02T09:05:00Z", "bot", "chat"),  # a bot never stops the clock
    ("c1", "2024-01-02T10:00:00Z", "agent", "chat"),
    ("c1", "2024-01-02T12:00:00Z", "resolved", "chat"),
    ("c2", "2024-01-05T16:00:00Z", "customer", "email"),  # Friday 16:00
    ("c2", "2024-01-08T10:00:00Z", "agent", "email"),  # Monday 10:00
    ("c3", "2024-02-01T09:00:00Z", "customer", "email"),
    ("c3", "2024-02-01T09:30:00Z", "note", "email"),  # still waiting: censored
    ("c4", "2024-02-03T09:00:00Z", "customer", "chat"),
    ("c4", "2024-02-03T09:10:00Z", "agent_reply", "chat"),  # library names work too
]


def _table(tmp_path: Path, name: str, header: list[str], rows: list) -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _events(tmp_path: Path, rows=EVENTS) -> Path:
    return _table(tmp_path, "events.csv", ["conversation_id", "at", "kind", "channel"], rows)


def _library_events(rows=EVENTS) -> pd.DataFrame:
    names = {"customer": "customer_message", "agent": "agent_reply", "note": "internal_note"}
    return pd.DataFrame(
        {
            "conversation_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows], utc=True),
            "kind": [names.get(r[2], r[2]) for r in rows],
            "channel": [r[3] for r in rows],
        }
    )


def test_first_response_time_by_channel_as_a_subprocess(tmp_path):
    done = _opencx(
        "--input", str(_events(tmp_path)), "--metric", "first-response-time", "--by", "channel"
    )
    assert done.returncode == 0, done.stderr
    result = pd.read_csv(io.StringIO(done.stdout))
    assert list(result.columns) == [
        "channel",
        "statistic",
        "value",
        "n",
        "ci_low",
        "ci_high",
        "answered",
        "censored",
        "unit",
    ]
    per = response_times.first_response_times(_library_events())
    per["channel"] = ["chat", "email", "email", "chat"]
    for channel, rows in result.groupby("channel"):
        expected = response_times.summarize(per.loc[per["channel"] == channel])
        got = rows.set_index("statistic")
        for name in ("median", "p90", "mean"):
            assert got.loc[name, "value"] == pytest.approx(getattr(expected, name).value)
            assert got.loc[name, "n"] == getattr(expected, name).n
        assert got["censored"].iloc[0] == expected.censored
    email = result.loc[(result["channel"] == "email") & (result["statistic"] == "median")]
    assert email[["n", "answered", "censored"]].values.tolist() == [[2, 1, 1]]


def test_business_hours_string_json_and_holidays_agree(tmp_path, capsys):
    path = _events(tmp_path, EVENTS[4:6])  # Friday 16:00 → Monday 10:00
    base = ["--input", str(path), "--metric", "first-response-time", "--format", "json"]
    code, out, err = _run(capsys, *base, "--hours", "mon-fri 09:00-17:00", "--timezone", "UTC")
    assert code == 0, err
    median = json.loads(out)[0]
    assert (median["statistic"], median["value"], median["unit"]) == (
        "median",
        2.0,
        "business hours",
    )
    hours = tmp_path / "hours.json"
    hours.write_text(json.dumps({"weekdays": ["09:00-17:00"]}))
    _, from_json, _ = _run(capsys, *base, "--hours", str(hours))
    assert from_json == out
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# bank holiday\n2024-01-08\n")
    _, out, _ = _run(capsys, *base, "--hours", "mon-fri 09:00-17:00", "--holidays", str(holidays))
    assert json.loads(out)[0]["value"] == 1.0  # Monday does not count: Friday 16–17 only
    holidays.write_text("2024-01-08\nsoon\n")
    code, _, err = _run(
        capsys, *base, "--hours", "mon-fri 09:00-17:00", "--holidays", str(holidays)
    )
    assert code == 2 and "holidays.txt line 2: 'soon' is not a date" in err
    code, _, err = _run(capsys, *base, "--timezone", "Europe/Paris")
    assert code == 2 and "--hours" in err


def test_parse_hours_expands_day_ranges_and_refuses_repeats():
    assert parse_hours("mon-wed 09:00-12:00,13:00-17:00; sat 10:00-14:00") == {
        "mon": ["09:00-12:00", "13:00-17:00"],
        "tue": ["09:00-12:00", "13:00-17:00"],
        "wed": ["09:00-12:00", "13:00-17:00"],
        "sat": ["10:00-14:00"],
    }
    with pytest.raises(Exception, match="more than once"):
        parse_hours("mon-fri 09:00-17:00; fri 10:00-12:00")


def test_response_time_errors_name_the_line(tmp_path, capsys):
    rows = [*EVENTS[:2], ("c1", "2024-01-02T10:00:00Z", "reply", "chat"), *EVENTS[3:]]
    code, _, err = _run(
        capsys, "--input", str(_events(tmp_path, rows)), "--metric", "resolution-time"
    )
    assert code == 2
    assert "events.csv line 4, column kind: 'reply' is not an event kind" in err
    rows = [*EVENTS[:3], ("c1", "2024-01-02T12:00:00Z", "resolved", "email"), *EVENTS[4:]]
    code, _, err = _run(
        capsys,
        "--input",
        str(_events(tmp_path, rows)),
        "--metric",
        "resolution-time",
        "--by",
        "channel",
    )
    assert code == 2 and "events.csv line 5, column channel: conversation 'c1'" in err


def test_resolution_time_by_month_uses_the_library(tmp_path, capsys):
    path = _events(tmp_path)
    code, out, err = _run(
        capsys, "--input", str(path), "--metric", "resolution-time", "--by", "month"
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    january = result.loc[(result["month"] == "2024-01") & (result["statistic"] == "median")]
    # only c1 is resolved (3 h); c2 is still waiting, so the KM median is c1's 3 h
    expected = response_times.summarize(response_times.resolution_times(_library_events()[:6]))
    assert january["value"].item() == pytest.approx(expected.median.value) == pytest.approx(3.0)
    assert january["censored"].item() == 1


SESSIONS_HEADER = [
    "user_id",
    "started_at",
    "device",
    "converted",
    "duration_seconds",
    "page_views",
    "key_events",
    "interaction_events",
]
SESSIONS = [
    ("u1", "2024-01-02T10:00:00Z", "mobile", 1, 3, 1, 1, 0),
    ("u1", "2024-01-03T10:00:00Z", "mobile", 0, 30, 1, 0, 0),  # long one-page read
    ("u2", "2024-01-04T10:00:00Z", "mobile", 0, 2, 1, 0, 0),
    ("u3", "2024-02-04T10:00:00Z", "desktop", "true", 50, 3, 0, 1),
    ("u3", "2024-02-05T10:00:00Z", "desktop", "no", 5, 1, 0, 1),
    ("u4", "2024-02-06T10:00:00Z", "desktop", 0, 1, 2, 0, 0),
]


def _sessions(tmp_path: Path, rows=SESSIONS) -> Path:
    return _table(tmp_path, "sessions.csv", SESSIONS_HEADER, rows)


def test_conversion_per_sessions_and_per_users(tmp_path, capsys):
    base = ["--input", str(_sessions(tmp_path)), "--metric", "conversion", "--by", "device"]
    code, out, err = _run(capsys, *base)
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out)).set_index("device")
    mobile = conversion.conversion_rate(conversions=1, denominator=3, per="sessions")
    assert result.loc["mobile", "value"] == pytest.approx(mobile.value)
    assert result.loc["mobile", "ci_high"] == pytest.approx(mobile.ci_high)
    _, out, _ = _run(capsys, *base, "--per", "users")
    result = pd.read_csv(io.StringIO(out)).set_index("device")
    users = conversion.conversion_rate(conversions=1, denominator=2, per="users")
    assert result.loc["desktop", "value"] == pytest.approx(users.value)  # u3 converted once
    assert result.loc["desktop", "n"] == 2
    bad = _sessions(tmp_path, [*SESSIONS, ("u5", "2024-02-07", "mobile", "2", 1, 1, 0, 0)])
    code, _, err = _run(capsys, "--input", str(bad), "--metric", "conversion")
    assert code == 2 and "sessions.csv line 8, column converted: '2' is not 0/1" in err


def test_ga4_and_ua_bounce_differ_on_a_long_single_page_read(tmp_path, capsys):
    path = _sessions(tmp_path)
    code, out, err = _run(capsys, "--input", str(path), "--metric", "bounce-ga4", "--by", "device")
    assert code == 0, err
    ga4 = pd.read_csv(io.StringIO(out)).set_index("device")
    _, out, _ = _run(capsys, "--input", str(path), "--metric", "bounce-ua", "--by", "device")
    ua = pd.read_csv(io.StringIO(out)).set_index("device")
    # mobile: GA4 engaged = key event (u1), 30 s read; bounced = the 2 s session only
    expected = conversion.ga4_bounce_rate(sessions=3, engaged_sessions=2)
    assert ga4.loc["mobile", "value"] == pytest.approx(expected.value)
    assert ga4.loc["mobile", "ci_low"] == pytest.approx(expected.ci_low)
    assert ua.loc["mobile", "value"] == pytest.approx(100.0)  # all single-page, no interaction
    assert ua.loc["desktop", "value"] == pytest.approx(0.0)
    code, _, err = _run(
        capsys, "--input", str(path), "--metric", "bounce-ua", "--interaction-column", "none"
    )
    assert code == 0, err
    bad = _sessions(tmp_path, [*SESSIONS, ("u5", "2024-02-07", "mobile", 0, "-4", 1, 0, 0)])
    code, _, err = _run(capsys, "--input", str(bad), "--metric", "bounce-ga4")
    assert code == 2 and "sessions.csv line 8, column duration_seconds: '-4'" in err


ORDERS = [
    ("a", "2024-01-05", "north"),
    ("a", "2024-02-07", "north"),
    ("b", "2024-01-20", "north"),
    ("c", "2024-02-01", "south"),
    ("c", "2024-02-03", "south"),
    ("c", "2024-03-09", "south"),
    ("d", "2024-03-10", "south"),
]


def _library_orders(rows=ORDERS) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows]),
            "region": [r[2] for r in rows],
        }
    )


def test_repeat_purchase_and_cohort_retention(tmp_path, capsys):
    path = _table(tmp_path, "orders.csv", ["customer", "placed_at", "region"], ORDERS)
    code, out, err = _run(
        capsys, "--input", str(path), "--metric", "repeat-purchase", "--by", "region"
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out)).set_index("region")
    orders = _library_orders()
    for region in ("north", "south"):
        expected = churn.repeat_purchase_rate_from_orders(orders[orders["region"] == region])
        assert result.loc[region, "value"] == pytest.approx(expected.value)
        assert result.loc[region, "n"] == expected.n
    _, out, _ = _run(capsys, "--input", str(path), "--metric", "repeat-purchase", "--by", "month")
    february = pd.read_csv(io.StringIO(out)).set_index("month").loc["2024-02"]
    assert (february["value"], february["n"]) == (50.0, 2)  # c twice in February, a once
    code, out, err = _run(capsys, "--input", str(path), "--metric", "cohort-retention")
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    expected = churn.cohort_retention(orders)
    assert result["cohort"].tolist() == expected["cohort"].astype(str).tolist()
    assert result["value"].tolist() == pytest.approx(expected["value"].tolist())
    assert result["retained"].tolist() == expected["retained"].tolist()
    code, _, err = _run(
        capsys, "--input", str(path), "--metric", "cohort-retention", "--by", "month"
    )
    assert code == 2 and "--cohort-period" in err


def _simulated_transactions(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2023-01-02")
    rows = []
    for customer in range(400):
        rate, dropout = rng.gamma(0.8, 1 / 6.0), rng.beta(1.2, 3.0)
        day = float(rng.integers(0, 60))
        rows.append((f"k{customer}", start + pd.Timedelta(days=day), round(rng.gamma(4, 10), 2)))
        while True:
            day += 7 * rng.exponential(1 / rate)
            if day > 364 or rng.random() < dropout:
                break
            rows.append(
                (f"k{customer}", start + pd.Timedelta(days=day), round(rng.gamma(4, 10), 2))
            )
    text = [(c, t.strftime("%Y-%m-%dT%H:%M:%SZ"), a) for c, t, a in rows]
    return _table(tmp_path, "transactions.csv", ["customer", "at", "amount"], text)


def test_clv_bgnbd_per_customer_and_summary_match_the_library(tmp_path, capsys):
    path = _simulated_transactions(tmp_path)
    base = ["--input", str(path), "--metric", "clv-bgnbd", "--horizon-months", "6"]
    code, out, err = _run(capsys, *base)
    assert code == 0, err
    per = pd.read_csv(io.StringIO(out))
    transactions = pd.read_csv(path)
    transactions["at"] = pd.to_datetime(transactions["at"]).dt.tz_localize(None)
    rfm = clv.rfm_summary(
        transactions, unit="weeks", customer="customer", timestamp="at", monetary="amount"
    )
    args = (rfm["frequency"], rfm["recency"], rfm["T"])
    bg = clv.fit_bg_nbd(*args, unit="weeks").params
    gg = clv.fit_gamma_gamma(rfm["frequency"], rfm["monetary_value"]).params
    expected = clv.clv_bg_nbd_gamma_gamma(bg, gg, *args, rfm["monetary_value"], horizon_months=6)
    assert per["customer"].tolist() == rfm.index.tolist()
    assert per["clv"].to_numpy() == pytest.approx(np.asarray(expected), rel=1e-6)
    purchases = clv.bg_nbd_conditional_expected_purchases(bg, 6 * 4.345, *args)
    assert per["expected_purchases"].to_numpy() == pytest.approx(np.asarray(purchases), rel=1e-6)
    _, out, _ = _run(capsys, *base, "--summary", "--format", "json")
    summary = json.loads(out)[0]
    assert summary["customers"] == len(rfm)
    assert summary["clv_total"] == pytest.approx(float(np.sum(expected)), rel=1e-6)
    assert summary["r"] == pytest.approx(bg.r)
    code, _, err = _run(capsys, *base, "--by", "customer")
    assert code == 2 and "drop --by" in err


UX = [("checkout", 1, 40), ("checkout", 1, 55.5), ("checkout", 0, 120), ("search", 1, 12)]


def test_task_success_and_time_on_task_per_task(tmp_path, capsys):
    path = _table(tmp_path, "ux.csv", ["task", "success", "seconds"], UX)
    code, out, err = _run(capsys, "--input", str(path), "--metric", "task-success", "--by", "task")
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out)).set_index("task")
    expected = ux.task_success_rate(successes=2, attempts=3)
    assert result.loc["checkout", "value"] == pytest.approx(expected.value)
    assert result.loc["checkout", "ci_low"] == pytest.approx(expected.ci_low)
    _, out, _ = _run(
        capsys, "--input", str(path), "--metric", "task-success", "--interval", "wilson"
    )
    wilson = ux.task_success_rate(successes=3, attempts=4, interval="wilson")
    assert pd.read_csv(io.StringIO(out))["ci_low"].item() == pytest.approx(wilson.ci_low)
    code, out, err = _run(
        capsys,
        "--input",
        str(path),
        "--metric",
        "time-on-task",
        "--by",
        "task",
        "--successful-only",
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out)).set_index("task")
    expected = ux.time_on_task([40, 55.5])
    assert result.loc["checkout", "value"] == pytest.approx(expected.value)
    assert result.loc["checkout", "ci_high"] == pytest.approx(expected.ci_high)
    assert pd.isna(result.loc["search", "ci_low"])  # one time: no interval, an empty cell
    bad = _table(tmp_path, "bad.csv", ["task", "success", "seconds"], [*UX, ("search", 1, 0)])
    code, _, err = _run(capsys, "--input", str(bad), "--metric", "time-on-task")
    assert code == 2 and "bad.csv line 6, column seconds: '0' is not a number > 0" in err


def _churn_by_hand(rows, start, end, days):
    """S, E, N and lost from the orders, by the definition in docs/metrics/cli.md."""
    window = pd.Timedelta(days=days)
    stamps = [(customer, pd.Timestamp(when)) for customer, when, *_ in rows]

    def active(moment):
        return {c for c, t in stamps if moment - window <= t < moment}

    at_start, at_end = active(pd.Timestamp(start)), active(pd.Timestamp(end))
    return len(at_start), len(at_end), len(at_end - at_start), len(at_start - at_end)


def test_churn_and_crr_over_a_period_match_the_library(tmp_path, capsys):
    path = _table(tmp_path, "orders.csv", ["customer", "placed_at", "region"], ORDERS)
    base = ["--input", str(path), "--metric", "churn", "--activity-days", "31"]
    period = ["--period-start", "2024-02-01", "--period-end", "2024-04-01"]
    code, out, err = _run(capsys, *base, *period)
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out)).set_index("statistic")
    assert list(result.columns) == [
        "value",
        "n",
        "ci_low",
        "ci_high",
        "customers_start",
        "customers_end",
        "new_customers",
        "lost",
    ]
    # Active on 1 February (ordered in January): a, b. On 1 April (ordered in March): c, d.
    s, e, n, lost = _churn_by_hand(ORDERS, "2024-02-01", "2024-04-01", 31)
    assert (s, e, n, lost) == (2, 2, 2, 2)
    expected = churn.churn_rate(customers_start=s, customers_lost=lost)
    assert result.loc["churn", "value"] == pytest.approx(expected.value) == 100.0
    assert result.loc["churn", "ci_low"] == pytest.approx(expected.ci_low)
    crr = churn.customer_retention_rate(customers_start=s, customers_end=e, new_customers=n)
    assert result.loc["retention", "value"] == pytest.approx(crr.value) == 0.0
    assert result.loc["retention", "ci_high"] == pytest.approx(crr.ci_high)
    assert result.loc["retention", ["customers_start", "lost"]].tolist() == [2, 2]


def test_churn_per_month_and_region(tmp_path, capsys):
    path = _table(tmp_path, "orders.csv", ["customer", "placed_at", "region"], ORDERS)
    code, out, err = _run(
        capsys,
        "--input",
        str(path),
        "--metric",
        "churn",
        "--by",
        "month,region",
        "--activity-days",
        "31",
        "--period-start",
        "2024-02-01T00:00:00+01:00",  # 31 January 23:00 UTC: the first window is partial
        "--period-end",
        "2024-04-01",
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns[:3]) == ["month", "region", "statistic"]
    rows = result.loc[result["statistic"] == "churn"]
    got = {
        (r.month, r.region): (r.customers_start, r.customers_end, r.new_customers, r.lost)
        for r in rows.itertuples()
    }
    windows = {
        "2024-01": ("2024-01-31T23:00", "2024-02-01"),
        "2024-02": ("2024-02-01", "2024-03-01"),
        "2024-03": ("2024-03-01", "2024-04-01"),
    }
    for (month, region), counts in got.items():
        orders = [row for row in ORDERS if row[2] == region]
        assert counts == _churn_by_hand(orders, *windows[month], 31), (month, region)
    assert sorted(got) == [(m, r) for m in windows for r in ("north", "south")]
    north_february = rows.set_index(["month", "region"]).loc[("2024-02", "north")]
    assert north_february["value"] == pytest.approx(50.0)  # a kept (7 February), b lost
    south_january = rows.set_index(["month", "region"]).loc[("2024-01", "south")]
    assert south_january["n"] == 0 and pd.isna(south_january["value"])  # nobody to lose


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "churn needs --period-start"),
        (["--period-start", "2024-02-01"], "churn needs --period-end"),
        (["--period-start", "soon", "--period-end", "2024-03-01"], "'soon' is not an ISO 8601"),
        (["--period-start", "2024-03-01", "--period-end", "2024-03-01"], "must be after"),
        (
            ["--period-start", "2024-02-01", "--period-end", "2024-03-01", "--by", "month,week"],
            "at most one of month, week or day",
        ),
        (
            [
                "--period-start",
                "2024-02-01",
                "--period-end",
                "2024-03-01",
                "--activity-days",
                "0",
            ],
            "--activity-days must be at least 1",
        ),
    ],
)
def test_churn_refuses_a_period_it_cannot_use(tmp_path, capsys, extra, message):
    path = _table(tmp_path, "orders.csv", ["customer", "placed_at", "region"], ORDERS)
    code, out, err = _run(capsys, "--input", str(path), "--metric", "churn", *extra)
    assert code == 2 and out == ""
    assert message in err


def test_churn_names_a_bad_order_time(tmp_path, capsys):
    rows = [*ORDERS, ("e", "last week", "north")]
    path = _table(tmp_path, "orders.csv", ["customer", "placed_at", "region"], rows)
    code, _, err = _run(
        capsys,
        "--input",
        str(path),
        "--metric",
        "churn",
        "--period-start",
        "2024-02-01",
        "--period-end",
        "2024-03-01",
    )
    assert code == 2
    assert "orders.csv line 9, column placed_at: 'last week' is not an ISO 8601 time" in err


ERRORS = [("checkout", 1, 4), ("checkout", 0, 4), ("search", 2, 3), ("search", 0, 0)]


def test_error_rate_sums_errors_and_opportunities_per_group(tmp_path, capsys):
    path = _table(tmp_path, "errors.csv", ["task", "errors", "opportunities"], ERRORS)
    code, out, err = _run(capsys, "--input", str(path), "--metric", "error-rate", "--by", "task")
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns) == ["task", "value", "n", "ci_low", "ci_high"]
    result = result.set_index("task")
    checkout = ux.error_rate(errors=1, opportunities=8)
    assert result.loc["checkout", ["value", "n"]].tolist() == [pytest.approx(12.5), 8]
    assert result.loc["checkout", "ci_low"] == pytest.approx(checkout.ci_low)
    assert result.loc["checkout", "ci_high"] == pytest.approx(checkout.ci_high)
    search = ux.error_rate(errors=2, opportunities=3, confidence=0.9)
    (total,) = json.loads(
        _run(capsys, "--input", str(path), "--metric", "error-rate", "--format", "json")[1]
    )
    assert (total["value"], total["n"]) == (pytest.approx(300 / 11), 11)
    _, out, _ = _run(
        capsys,
        "--input",
        str(path),
        "--metric",
        "error-rate",
        "--by",
        "task",
        "--confidence",
        "0.9",
    )
    assert pd.read_csv(io.StringIO(out)).set_index("task").loc["search", "ci_low"] == (
        pytest.approx(search.ci_low)
    )


def test_error_rate_renamed_columns_and_periods(tmp_path, capsys):
    rows = [("2024-01-03T10:00:00Z", 1, 2), ("2024-02-03", 0, 5)]
    path = _table(tmp_path, "errors.csv", ["created_at", "slips", "chances"], rows)
    code, out, err = _run(
        capsys,
        "--input",
        str(path),
        "--metric",
        "error-rate",
        "--by",
        "month",
        "--errors-column",
        "slips",
        "--opportunities-column",
        "chances",
    )
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert result[["month", "value", "n"]].values.tolist() == [
        ["2024-01", 50.0, 2],
        ["2024-02", 0.0, 5],
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("search", -1, 3), "line 6, column errors: '-1' is not a whole number ≥ 0"),
        (("search", 1.5, 3), "line 6, column errors: '1.5' is not a whole number ≥ 0"),
        (("search", 1, ""), "line 6, column opportunities: an empty cell is not a whole number"),
        (("search", 4, 3), "line 6, column errors: 4 errors exceed the row's 3 opportunities"),
        (("search", 1, "1e13"), "line 6, column opportunities: '1e13' is not a count ≤ 1e+12"),
        (("search", "two", 3), "line 6, column errors: 'two' is not a whole number ≥ 0"),
    ],
)
def test_error_rate_refuses_bad_counts_with_their_line(tmp_path, capsys, row, message):
    path = _table(tmp_path, "errors.csv", ["task", "errors", "opportunities"], [*ERRORS, row])
    code, out, err = _run(capsys, "--input", str(path), "--metric", "error-rate")
    assert code == 2 and out == ""
    assert f"errors.csv {message}" in err


def test_error_rate_needs_its_columns(tmp_path, capsys):
    path = _table(tmp_path, "errors.csv", ["task", "errors"], [("a", 1)])
    code, _, err = _run(capsys, "--input", str(path), "--metric", "error-rate")
    assert code == 2 and "no column 'opportunities'" in err
