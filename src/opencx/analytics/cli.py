"""`opencx metrics`: every CX metric per group from a CSV or Parquet file.

    opencx metrics --input responses.csv --metric nps --by location,month
    opencx metrics --input answers.parquet --metric csat --scale 1-5 --satisfied 4,5 --by week
    opencx metrics --input effort.csv --metric ces --scale 1-7 --polarity higher --variant mean

One row per answer: a score column (`--score-column`, default `score`), `created_at` when grouping
by month, week or day (ISO 8601; periods are taken in UTC, a timestamp without an offset counts
as UTC), and any grouping columns. Output: the group columns, value, n, ci_low, ci_high as CSV or
JSON. A bad value stops the run with the file, line and column named, and exit status 2.

The table-shaped metrics (response times, conversion, bounce, repeat purchase, cohort retention,
churn and CRR, BG/NBD CLV, task success, error rate, time on task) live in `cli_tables`;
docs/metrics/cli.md lists every --metric with its input columns.
"""

import argparse
import csv
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from opencx.analytics import cli_tables
from opencx.analytics.engine import InvalidScoresError, scores
from opencx.analytics.engine.spec import PERIODS, MetricSpec, ces_spec, csat_spec, nps_spec
from opencx.analytics.metrics.ces import CesScale
from opencx.analytics.metrics.csat import Scale
from opencx.analytics.metrics.response_times import STARTS

SURVEY_METRICS = ("nps", "csat", "ces")
WHOLE = re.compile(r"^\s*[+-]?\d+(\.0*)?\s*$")
USAGE_ERROR = 2


class DataError(Exception):
    """A problem with the input the user can fix; printed without a traceback, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencx metrics",
        description="CX metrics with confidence intervals per group, from a CSV or Parquet file "
        "(see docs/metrics/cli.md for each metric's input columns).",
    )
    parser.add_argument("--input", required=True, type=Path, help="a .csv or .parquet file")
    parser.add_argument("--metric", required=True, choices=[*SURVEY_METRICS, *cli_tables.METRICS])
    parser.add_argument("--by", default="", help="comma-separated columns; month/week/day derive")
    parser.add_argument("--score-column", default="score")
    parser.add_argument(
        "--created-at-column",
        help="timestamp column for month/week/day (default: created_at; events and "
        "transactions: at; sessions: started_at; orders: placed_at)",
    )
    parser.add_argument("--scale", help="LOW-HIGH, e.g. 1-5 (csat default 1-5, ces default 1-7)")
    parser.add_argument("--satisfied", help="csat: satisfied points; ces: good side, e.g. 4,5")
    parser.add_argument("--polarity", choices=["higher", "lower"], help="ces: which end is good")
    parser.add_argument("--variant", help="nps; csat: share|mean; ces: percent_agree|mean|net")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument(
        "--engine", default="duckdb", choices=["duckdb", "pandas", "polars", "arrow"]
    )
    parser.add_argument("--format", default="csv", choices=["csv", "json"])
    parser.add_argument("--output", type=Path, help="write here instead of standard output")
    _table_options(parser)
    return parser


def _table_options(parser: argparse.ArgumentParser) -> None:
    times = parser.add_argument_group("first-response-time, resolution-time")
    times.add_argument("--conversation-column", default="conversation_id")
    times.add_argument("--kind-column", default="kind")
    times.add_argument("--start", default="first_customer_message", choices=STARTS)
    times.add_argument("--full-resolution", action="store_true", help="last resolution")
    times.add_argument("--as-of", help="censoring time (default: the latest event)")
    times.add_argument("--hours", help='business hours: "mon-fri 09:00-17:00" or a .json file')
    times.add_argument("--timezone", help="IANA zone of --hours (default UTC)")
    times.add_argument("--holidays", type=Path, help="file of YYYY-MM-DD dates, one a line")
    sessions = parser.add_argument_group("conversion, bounce-ga4, bounce-ua")
    sessions.add_argument("--per", default="sessions", choices=["sessions", "users"])
    sessions.add_argument("--converted-column", default="converted")
    sessions.add_argument("--user-column", default="user_id")
    sessions.add_argument("--engaged-seconds", type=float, default=10.0, help="GA4 timer")
    sessions.add_argument(
        "--interaction-column", default="interaction_events", help="bounce-ua; 'none' if absent"
    )
    orders = parser.add_argument_group("repeat-purchase, cohort-retention, churn, clv-bgnbd")
    orders.add_argument("--customer-column", default="customer")
    orders.add_argument("--period-start", help="churn: start of the period (ISO 8601, UTC)")
    orders.add_argument("--period-end", help="churn: end of the period, excluded (ISO 8601)")
    orders.add_argument(
        "--activity-days", type=int, default=365, help="churn: active = ordered this recently"
    )
    orders.add_argument("--amount-column", default="amount")
    orders.add_argument("--cohort-period", default="month", choices=["month", "week", "day"])
    orders.add_argument("--retention-mode", default="classic", choices=["classic", "unbounded"])
    orders.add_argument("--unit", default="weeks", choices=["days", "weeks"])
    orders.add_argument("--horizon-months", type=int, default=12)
    orders.add_argument("--discount-rate", type=float, default=0.01, help="monthly, e.g. 0.01")
    orders.add_argument("--summary", action="store_true", help="clv-bgnbd: one summary row")
    usability = parser.add_argument_group("task-success, error-rate, time-on-task")
    usability.add_argument("--success-column", default="success")
    usability.add_argument("--errors-column", default="errors")
    usability.add_argument("--opportunities-column", default="opportunities")
    usability.add_argument("--seconds-column", default="seconds")
    usability.add_argument(
        "--interval", default="adjusted_wald", choices=["adjusted_wald", "wilson"]
    )
    usability.add_argument("--successful-only", action="store_true", help="time-on-task")


def _points(text: str, option: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise DataError(f"{option} takes whole numbers separated by commas, got {text!r}") from None


def _scale(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if text is None:
        return default
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not match:
        raise DataError(f"--scale takes LOW-HIGH such as 1-5, got {text!r}")
    return int(match[1]), int(match[2])


def metric_spec(args: argparse.Namespace) -> MetricSpec:
    """The metric definition from the command line; nothing about the scale is assumed for CES."""
    try:
        if args.metric == "nps":
            if args.scale not in (None, "0-10") or args.satisfied or args.polarity:
                raise DataError("NPS is defined on 0-10 only: drop --scale/--satisfied/--polarity")
            return nps_spec()
        if args.metric == "csat":
            low, high = _scale(args.scale, (1, 5))
            satisfied = _points(args.satisfied, "--satisfied") if args.satisfied else frozenset()
            return csat_spec(Scale(low, high, satisfied))
        low, high = _scale(args.scale, (1, 7))
        if low != 1:
            raise DataError(f"a CES scale runs from 1, got {args.scale!r}")
        if args.polarity is None:
            raise DataError(
                "CES needs --polarity higher|lower: the scale's direction is never assumed"
            )
        good = _points(args.satisfied, "--satisfied") if args.satisfied else None
        return ces_spec(
            CesScale(points=high, higher_is_better=args.polarity == "higher", good=good)
        )
    except ValueError as error:
        raise DataError(str(error)) from None


def _csv_line(path: Path, position: int) -> int:
    """The line on which data row `position` (0-based, after the header) ends."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for index, _ in enumerate(reader):
            if index == position + 1:
                return reader.line_num
    return position + 2


def _where(path: Path, position: int, column: str) -> str:
    if path.suffix.lower() == ".csv":
        return f"{path.name} line {_csv_line(path, position)}, column {column}"
    return f"{path.name} row {position + 1}, column {column}"


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path.name}: cannot read it: {error}") from None
    raise DataError(f"{path.name}: expected a .csv or .parquet file")


def _scores_column(frame: pd.DataFrame, path: Path, column: str, spec: MetricSpec) -> pd.Series:
    """Whole-number scores on the scale, or DataError naming the first bad line."""
    series = frame[column]
    wanted = f"a whole number {spec.low}–{spec.high}"
    if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype(str)
        parsed: dict[str, int | None] = {}
        for value in text.unique():
            number = int(float(value)) if WHOLE.match(value) else None
            parsed[value] = (
                number if number is not None and spec.low <= number <= spec.high else None
            )
        points = text.map(parsed)
        bad = points.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            value = text.iloc[position]
            shown = "an empty cell" if not value.strip() else repr(value)
            raise DataError(
                f"{_where(path, position, column)}: {shown} is not {wanted} "
                f"({int(bad.sum())} bad row{'s' if bad.sum() != 1 else ''} in all)"
            )
        return points.astype("int64")
    return series  # typed (Parquet) columns are checked by the engine, which names the row


def _timestamps(frame: pd.DataFrame, path: Path, column: str) -> pd.Series:
    series = frame[column]
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series
    else:
        text = series.astype(str)
        stamps = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        bad = stamps.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            value = text.iloc[position]
            shown = "an empty cell" if not value.strip() else repr(value)
            raise DataError(f"{_where(path, position, column)}: {shown} is not an ISO 8601 time")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps


def _load(args: argparse.Namespace, spec: MetricSpec, by: list[str]) -> pd.DataFrame:
    path: Path = args.input
    frame = _read(path)
    periods = [name for name in by if name in PERIODS]
    created_at = args.created_at_column or "created_at"
    needed = [args.score_column, *(name for name in by if name not in PERIODS)]
    if periods:
        needed.append(created_at)
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise DataError(
            f"{path.name}: no column {', '.join(map(repr, missing))} "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    rows = pd.DataFrame({name: frame[name] for name in by if name not in PERIODS})
    rows["score"] = _scores_column(frame, path, args.score_column, spec)
    if periods:
        rows["created_at"] = _timestamps(frame, path, created_at)
    return rows


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _write(result: pd.DataFrame, fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        result.to_csv(out, index=False, lineterminator="\n", float_format="%.10g")
        return
    records = [
        {str(k): _json_value(v) for k, v in row.items()} for row in result.to_dict("records")
    ]
    json.dump(records, out, ensure_ascii=False, indent=1)
    out.write("\n")


def _survey(args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    spec = metric_spec(args)
    rows = _load(args, spec, by)
    try:
        result = scores(
            rows, spec, by, variant=args.variant, confidence=args.confidence, engine=args.engine
        )
    except InvalidScoresError as error:
        if error.position is None:
            raise DataError(f"{args.input.name}: {error}") from None
        where = _where(args.input, error.position, args.score_column)
        raise DataError(
            f"{where}: {error.example!r} is not a whole number "
            f"{spec.low}–{spec.high} ({error.rows} bad row{'s' if error.rows != 1 else ''} in all)"
        ) from None
    except ValueError as error:
        raise DataError(str(error)) from None
    return result


def _table(args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    frame = _read(args.input)
    try:
        return cli_tables.compute_table(frame, args.input, _where, args, by)
    except cli_tables.TableError as error:
        raise DataError(str(error)) from None
    except ValueError as error:
        raise DataError(f"{args.input.name}: {error}") from None


def run(args: argparse.Namespace) -> None:
    by = [name.strip() for name in args.by.split(",") if name.strip()]
    result = _survey(args, by) if args.metric in SURVEY_METRICS else _table(args, by)
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as handle:
            _write(result, args.format, handle)
    else:
        _write(result, args.format, sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, or 2 for a usage or data error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        run(args)
    except DataError as error:
        print(f"opencx metrics: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
