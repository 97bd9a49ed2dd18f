"""`opencx metrics` for the table-shaped metrics: response times, conversion and bounce, repeat
purchase, cohort retention, churn and retention (CRR), BG/NBD CLV, task success, error rate and
time on task.

Every number comes from the library (`opencx.analytics.metrics`); this module only reads and
checks columns (a bad cell is named by file, line and column), derives month/week/day from a
timestamp column (in UTC; a time without an offset counts as UTC, as for NPS) and groups rows.
"""

import argparse
import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from opencx.analytics.calendar import DAY_NAMES, BusinessCalendar
from opencx.analytics.engine.frames import LABEL_FORMATS
from opencx.analytics.engine.spec import PERIODS
from opencx.analytics.metrics import churn, clv, conversion, response_times, ux
from opencx.analytics.result import Score

Where = Callable[[Path, int, str], str]

# The default timestamp column of each table (`--created-at-column` overrides it).
TIME_COLUMNS = {
    "first-response-time": "at",
    "resolution-time": "at",
    "conversion": "started_at",
    "bounce-ga4": "started_at",
    "bounce-ua": "started_at",
    "repeat-purchase": "placed_at",
    "cohort-retention": "placed_at",
    "churn": "placed_at",
    "clv-bgnbd": "at",
    "task-success": "created_at",
    "error-rate": "created_at",
    "time-on-task": "created_at",
}
METRICS = tuple(TIME_COLUMNS)

# Short event kinds accepted on the command line, and the library's own names.
KIND_ALIASES = {
    "customer": response_times.Kind.CUSTOMER.value,
    "agent": response_times.Kind.AGENT.value,
    "bot": response_times.Kind.BOT.value,
    "auto": response_times.Kind.AUTO_REPLY.value,
    "note": response_times.Kind.NOTE.value,
    "resolved": response_times.Kind.RESOLVED.value,
    "created": response_times.Kind.CREATED.value,
    **{kind: kind for kind in response_times.KINDS},
}
FLAGS = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False}
SCORE_COLUMNS = ["value", "n", "ci_low", "ci_high"]
MAX_COUNT = 10**12  # per cell of a count column: sums stay exact in 64-bit integers


class TableError(Exception):
    """A problem with the input; cli.py prints it with exit status 2."""


class Table:
    """One input table and how to name its cells in errors."""

    def __init__(self, frame: pd.DataFrame, path: Path, where: Where) -> None:
        self.frame = frame
        self.path = path
        self._where = where

    def where(self, position: int, column: str) -> str:
        return self._where(self.path, position, column)

    def require(self, *columns: str) -> None:
        missing = [name for name in columns if name not in self.frame.columns]
        if missing:
            raise TableError(
                f"{self.path.name}: no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(map(str, self.frame.columns))})"
            )

    def _bad(self, position: int, column: str, value: object, wanted: str) -> TableError:
        text = str(value)
        shown = "an empty cell" if not text.strip() or text == "nan" else repr(value)
        return TableError(f"{self.where(position, column)}: {shown} is not {wanted}")

    def numbers(self, column: str, *, whole: bool = False, positive: bool = False) -> np.ndarray:
        """Finite numbers ≥ 0 (> 0 with positive; whole numbers with whole), else TableError."""
        self.require(column)
        series = self.frame[column]
        if pd.api.types.is_bool_dtype(series.dtype):
            raise TableError(f"{self.path.name}: column {column} holds true/false, not numbers")
        if pd.api.types.is_numeric_dtype(series.dtype):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
        else:
            values = pd.to_numeric(series.astype(str).str.strip(), errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
        if whole:
            bad |= np.isfinite(values) & (values != np.floor(values))
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            wanted = (
                "a whole number ≥ 0" if whole else "a number > 0" if positive else "a number ≥ 0"
            )
            raise self._bad(position, column, series.iloc[position], wanted)
        return values

    def flags(self, column: str) -> np.ndarray:
        """0/1, true/false or yes/no (any case), else TableError naming the cell."""
        self.require(column)
        series = self.frame[column]
        if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
            return series.to_numpy(dtype=bool)
        text = series.astype(str).str.strip().str.lower()
        text = text.where(~text.isin(["1.0", "0.0"]), text.str[0])
        parsed = text.map(FLAGS)
        bad = parsed.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            raise self._bad(position, column, series.iloc[position], "0/1, true/false or yes/no")
        return parsed.to_numpy(dtype=bool)

    def text(self, column: str) -> pd.Series:
        """A key column (customer, conversation, task): no empty cell."""
        self.require(column)
        series = self.frame[column]
        empty = (series.isna() | (series.astype(str).str.strip() == "")).to_numpy()
        if empty.any():
            position = int(empty.argmax())
            raise TableError(f"{self.where(position, column)}: an empty cell is not an id")
        return series

    def times(self, column: str) -> pd.Series:
        """UTC-aware timestamps (ISO 8601; a time without an offset counts as UTC)."""
        self.require(column)
        series = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = pd.to_datetime(series, utc=True)
        else:
            text = series.astype(str)
            stamps = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        bad = stamps.isna().to_numpy()
        if bad.any():
            position = int(bad.argmax())
            raise self._bad(position, column, series.iloc[position], "an ISO 8601 time")
        return stamps


def period_labels(stamps: pd.Series, period: str) -> pd.Series:
    """UTC month 'YYYY-MM', week (its Monday) or day 'YYYY-MM-DD' of aware timestamps."""
    naive = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    if period == "week":
        naive = naive.dt.to_period("W-SUN").dt.start_time
    return naive.dt.strftime(LABEL_FORMATS[period])


def group_columns(table: Table, by: Sequence[str], time_column: str) -> pd.DataFrame:
    """The grouping keys of every row; month/week/day come from `time_column`."""
    keys = pd.DataFrame(index=table.frame.index)
    for name in by:
        if name in PERIODS:
            keys[name] = period_labels(table.times(time_column), name)
        else:
            table.require(name)
            keys[name] = table.frame[name]
    return keys


def per_group(
    keys: pd.DataFrame, rows: pd.DataFrame, compute: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """compute(rows of one group) for every group, with the group columns in front."""
    by = list(keys.columns)
    if not by:
        return compute(rows).reset_index(drop=True)
    parts = []
    joined = pd.concat([keys.add_prefix("\0"), rows], axis=1)
    for key, group in joined.groupby([f"\0{name}" for name in by], sort=True, dropna=False):
        result = compute(group[rows.columns]).reset_index(drop=True)
        values = key if isinstance(key, tuple) else (key,)
        for position, (name, value) in enumerate(zip(by, values, strict=True)):
            result.insert(position, name, [value] * len(result))
        parts.append(result)
    return pd.concat(parts, ignore_index=True)


def score_row(score: Score, **extra: Any) -> pd.DataFrame:
    values = {"value": score.value, "n": score.n, "ci_low": score.ci_low, "ci_high": score.ci_high}
    row = pd.DataFrame([{**values, **extra}])
    for name in ("value", "ci_low", "ci_high"):
        row[name] = row[name].astype("float64")  # None → NaN: an empty cell in CSV, null in JSON
    return row


# --------------------------------------------------------------------------- response times


def _day_range(text: str) -> list[str]:
    names = [part.strip().lower()[:3] for part in text.split("-")]
    if len(names) == 2 and all(name in DAY_NAMES for name in names):
        first, last = DAY_NAMES.index(names[0]), DAY_NAMES.index(names[1])
        if first > last:
            raise TableError(f"--hours: day range {text!r} runs backwards")
        return list(DAY_NAMES[first : last + 1])
    return [text.strip()]


def parse_hours(text: str) -> dict[object, list[str]]:
    """'mon-fri 09:00-17:00; sat 10:00-14:00' or a JSON file {day: [intervals]}."""
    if text.strip().lower().endswith(".json"):
        path = Path(text)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TableError(f"--hours {path.name}: cannot read it: {error}") from None
        if not isinstance(loaded, dict):
            raise TableError(f"--hours {path.name}: expected an object {{day: intervals}}")
        return {key: value if isinstance(value, list) else [value] for key, value in loaded.items()}
    hours: dict[object, list[str]] = {}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        days, _, intervals = entry.partition(" ")
        if not intervals.strip():
            raise TableError(f"--hours: expected 'DAYS HH:MM-HH:MM', got {entry!r}")
        spans = [span.strip() for span in intervals.split(",") if span.strip()]
        for group in days.split(","):
            for day in _day_range(group):
                if day in hours:
                    raise TableError(f"--hours: {day} is given more than once")
                hours[day] = spans
    if not hours:
        raise TableError("--hours: no opening hours given")
    return hours


def parse_holidays(path: Path) -> list[dt.date]:
    """One ISO date (YYYY-MM-DD) per line; blank lines and '#' comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise TableError(f"--holidays {path}: cannot read it: {error}") from None
    days = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            days.append(dt.date.fromisoformat(text))
        except ValueError:
            raise TableError(
                f"{path.name} line {number}: {text!r} is not a date YYYY-MM-DD"
            ) from None
    return days


def business_calendar(args: argparse.Namespace) -> BusinessCalendar | None:
    if args.hours is None:
        if args.holidays is not None or args.timezone is not None:
            raise TableError("--timezone and --holidays describe business hours: give --hours too")
        return None
    holidays = parse_holidays(args.holidays) if args.holidays is not None else []
    try:
        return BusinessCalendar.weekly(args.timezone or "UTC", parse_hours(args.hours), holidays)
    except ValueError as error:
        raise TableError(f"--hours/--timezone: {error}") from None


def _as_of(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = pd.Timestamp(text)
    except ValueError:
        raise TableError(f"--as-of: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return cast(dt.datetime, moment.to_pydatetime())


def durations_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Median and p90 (Kaplan–Meier) and mean (answered only) per group of conversations."""
    conversation, kind_column = args.conversation_column, args.kind_column
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    ids = table.text(conversation)
    stamps = table.times(time_column)
    table.require(kind_column)
    raw = table.frame[kind_column].astype(str).str.strip()
    kinds = raw.str.lower().map(KIND_ALIASES)
    unknown = kinds.isna().to_numpy()
    if unknown.any():
        position = int(unknown.argmax())
        raise TableError(
            f"{table.where(position, kind_column)}: {raw.iloc[position]!r} is not an event kind "
            f"(customer, agent, bot, auto, note, resolved, created)"
        )
    events = pd.DataFrame({"conversation_id": ids, "timestamp": stamps, "kind": kinds})
    options: dict[str, Any] = {
        "start": args.start,
        "calendar": business_calendar(args),
        "as_of": _as_of(args.as_of),
    }
    try:
        if args.metric == "first-response-time":
            per = response_times.first_response_times(events, **options)
        else:
            per = response_times.resolution_times(events, full=args.full_resolution, **options)
    except ValueError as error:
        raise TableError(f"{table.path.name}: {error}") from None
    per = per.set_index("conversation_id")
    keys = pd.DataFrame(index=per.index)
    for name in by:
        if name in PERIODS:
            keys[name] = period_labels(per["started_at"], name)
            continue
        table.require(name)
        values = pd.DataFrame({"id": ids, "key": table.frame[name]})
        distinct = values.drop_duplicates()
        clash = distinct["id"].duplicated(keep="first").to_numpy()
        if clash.any():
            position = int(distinct.index[int(clash.argmax())])
            raise TableError(
                f"{table.where(position, name)}: conversation {ids.iloc[position]!r} has more "
                f"than one {name} value; --by columns must be constant within a conversation"
            )
        keys[name] = distinct.set_index("id")["key"].reindex(per.index)
    started = (per["status"] != "no_start").to_numpy()
    keys, per = keys.loc[started], per.loc[started]
    column = "business_hours" if args.hours is not None else "calendar_hours"

    def summary(rows: pd.DataFrame) -> pd.DataFrame:
        result = response_times.summarize(rows, column, args.confidence)
        return pd.concat(
            [
                score_row(
                    getattr(result, name),
                    statistic=name,
                    answered=result.answered,
                    censored=result.censored,
                    unit=result.unit,
                )
                for name in ("median", "p90", "mean")
            ],
            ignore_index=True,
        )[["statistic", *SCORE_COLUMNS, "answered", "censored", "unit"]]

    return per_group(keys, per[[column, "observed", "status"]], summary)


# --------------------------------------------------------------------------- sessions


def conversion_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Conversion rate per group over sessions, or over users (a user converts in a group if any
    of their sessions in it converted)."""
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    keys = group_columns(table, by, time_column)
    rows = pd.DataFrame({"converted": table.flags(args.converted_column)})
    if args.per == "users":
        rows["user"] = table.text(args.user_column).to_numpy()

    def rate(group: pd.DataFrame) -> pd.DataFrame:
        converted = group["converted"]
        if args.per == "users":
            converted = group.groupby("user", sort=False)["converted"].any()
        try:
            score = conversion.conversion_rate(
                conversions=int(converted.sum()),
                denominator=int(converted.size),
                per=args.per,
                confidence=args.confidence,
            )
        except ValueError as error:
            raise TableError(str(error)) from None
        return score_row(score)

    return per_group(keys, rows, rate)


def bounce_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """GA4 or Universal Analytics bounce rate per group (Wilson intervals, from the library)."""
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    keys = group_columns(table, by, time_column)
    sessions = keys.copy()
    sessions["page_views"] = table.numbers("page_views", whole=True)
    if args.metric == "bounce-ga4":
        sessions["duration_seconds"] = table.numbers("duration_seconds")
        sessions["key_events"] = table.numbers("key_events", whole=True)
    interactions = None if args.interaction_column == "none" else args.interaction_column
    if args.metric == "bounce-ua" and interactions is not None:
        sessions["interaction_events"] = table.numbers(interactions, whole=True)
    try:
        if args.metric == "bounce-ga4":
            result = conversion.ga4_bounce_rate_from_sessions(
                sessions,
                threshold_seconds=args.engaged_seconds,
                by=by,
                confidence=args.confidence,
            )
        else:
            result = conversion.ua_bounce_rate_from_sessions(
                sessions,
                interaction_events=None if interactions is None else "interaction_events",
                by=by,
                confidence=args.confidence,
            )
    except ValueError as error:
        raise TableError(f"{table.path.name}: {error}") from None
    return result if isinstance(result, pd.DataFrame) else score_row(result)


# --------------------------------------------------------------------------- orders


def _orders(table: Table, args: argparse.Namespace) -> pd.DataFrame:
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    return pd.DataFrame(
        {
            "customer_id": table.text(args.customer_column).to_numpy(),
            "timestamp": table.times(time_column).dt.tz_localize(None).to_numpy(),
        }
    )


def repeat_purchase_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Customers with ≥ 2 orders ÷ customers with ≥ 1, per group (a period is the window)."""
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    keys = group_columns(table, by, time_column)
    orders = _orders(table, args)

    def rate(group: pd.DataFrame) -> pd.DataFrame:
        return score_row(churn.repeat_purchase_rate_from_orders(group, confidence=args.confidence))

    return per_group(keys, orders, rate)


def cohort_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Long cohort table: cohort, periods_since, value, n, ci_low, ci_high, retained."""
    if any(name in PERIODS for name in by):
        raise TableError(
            "cohort-retention groups by first-order period itself: use --cohort-period, "
            "not month/week/day in --by"
        )
    keys = group_columns(table, by, "")
    orders = _orders(table, args)

    def cohorts(group: pd.DataFrame) -> pd.DataFrame:
        result = churn.cohort_retention(
            group,
            period=args.cohort_period,
            mode=args.retention_mode,
            confidence=args.confidence,
        )
        result["cohort"] = result["cohort"].astype(str)
        return result

    return per_group(keys, orders, cohorts)


def _moment(text: str | None, option: str) -> pd.Timestamp:
    """An ISO 8601 date or time as naive UTC (a time without an offset counts as UTC)."""
    if text is None:
        raise TableError(f"churn needs {option} (an ISO 8601 date or time)")
    problem = TableError(f"{option}: {text!r} is not an ISO 8601 date or time")
    try:
        moment = pd.Timestamp(text.strip())
    except ValueError:
        raise problem from None
    if pd.isna(moment):
        raise problem
    if moment.tzinfo is None:
        return moment
    return moment.tz_convert("UTC").tz_localize(None)


def churn_windows(
    start: pd.Timestamp, end: pd.Timestamp, period: str | None
) -> list[tuple[str | None, pd.Timestamp, pd.Timestamp]]:
    """(label, window start, window end) of [start, end), cut at calendar months, weeks (from
    Monday) or days when `period` is given; the first and last windows may be partial."""
    if period is None:
        return [(None, start, end)]
    freq = {"month": "M", "week": "W-SUN", "day": "D"}[period]
    windows: list[tuple[str | None, pd.Timestamp, pd.Timestamp]] = []
    for current in pd.period_range(start=start, end=end - pd.Timedelta(1, "ns"), freq=freq):
        low = max(current.start_time, start)
        high = min((current + 1).start_time, end)
        windows.append((current.start_time.strftime(LABEL_FORMATS[period]), low, high))
    return windows


def churn_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Churn rate and CRR over [--period-start, --period-end) per group, or per month/week/day
    of it: a customer is active at a moment if they ordered in the --activity-days before it."""
    start = _moment(args.period_start, "--period-start")
    end = _moment(args.period_end, "--period-end")
    if end <= start:
        raise TableError("--period-end must be after --period-start")
    if args.activity_days < 1:
        raise TableError(f"--activity-days must be at least 1, got {args.activity_days}")
    periods = [name for name in by if name in PERIODS]
    if len(periods) > 1:
        raise TableError("churn: at most one of month, week or day in --by")
    windows = churn_windows(start, end, periods[0] if periods else None)
    keys = group_columns(table, [name for name in by if name not in PERIODS], "")
    orders = _orders(table, args)
    activity = np.timedelta64(args.activity_days, "D")
    extra = ["customers_start", "customers_end", "new_customers", "lost"]

    def rates(group: pd.DataFrame) -> pd.DataFrame:
        customers = group["customer_id"].to_numpy()
        stamps = group["timestamp"].to_numpy(dtype="datetime64[ns]")

        def active(moment: pd.Timestamp) -> set:
            at = moment.to_datetime64()
            return set(customers[(stamps >= at - activity) & (stamps < at)])

        parts = []
        for label, low, high in windows:
            at_start, at_end = active(low), active(high)
            counts = {
                "customers_start": len(at_start),
                "customers_end": len(at_end),
                "new_customers": len(at_end - at_start),
                "lost": len(at_start - at_end),
            }
            lost = churn.churn_rate(
                customers_start=counts["customers_start"],
                customers_lost=counts["lost"],
                confidence=args.confidence,
            )
            kept = churn.customer_retention_rate(
                customers_start=counts["customers_start"],
                customers_end=counts["customers_end"],
                new_customers=counts["new_customers"],
                confidence=args.confidence,
            )
            for statistic, score in (("churn", lost), ("retention", kept)):
                row = score_row(score, statistic=statistic, **counts)
                if label is not None:
                    row.insert(0, periods[0], [label])
                parts.append(row)
        return pd.concat(parts, ignore_index=True)

    result = per_group(keys, orders, rates)
    return result[[*by, "statistic", *SCORE_COLUMNS, *extra]]


# --------------------------------------------------------------------------- CLV


def clv_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """BG/NBD + Gamma–Gamma fitted to the whole table: per customer, or a one-row summary."""
    if by:
        raise TableError("clv-bgnbd fits one model to the whole table: drop --by")
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    transactions = pd.DataFrame(
        {
            "customer_id": table.text(args.customer_column).to_numpy(),
            "timestamp": table.times(time_column).dt.tz_localize(None).to_numpy(),
            "amount": table.numbers(args.amount_column),
        }
    )
    unit = cast(clv.SummaryUnit, args.unit)
    try:
        rfm = clv.rfm_summary(transactions, unit=unit, monetary="amount")
        x, t_x, big_t = rfm["frequency"], rfm["recency"], rfm["T"]
        money = rfm["monetary_value"]
        bg = clv.fit_bg_nbd(x, t_x, big_t, unit=unit)
        gg = clv.fit_gamma_gamma(x, money)
        for name, fit in (("BG/NBD", bg), ("Gamma-Gamma", gg)):
            if not fit.converged:
                raise TableError(
                    f"{table.path.name}: the {name} fit did not converge ({fit.message}); "
                    "the data may be too few customers or show no dropout"
                )
        horizon = args.horizon_months * clv.UNITS_PER_MONTH[unit]
        expected = clv.bg_nbd_conditional_expected_purchases(bg.params, horizon, x, t_x, big_t)
        alive = clv.bg_nbd_probability_alive(bg.params, x, t_x, big_t)
        value = clv.clv_bg_nbd_gamma_gamma(
            bg.params,
            gg.params,
            x,
            t_x,
            big_t,
            money,
            horizon_months=args.horizon_months,
            monthly_discount_rate=args.discount_rate,
        )
    except ValueError as error:
        raise TableError(f"{table.path.name}: {error}") from None
    per = rfm.reset_index().rename(columns={"customer_id": "customer"})
    per["probability_alive"] = np.asarray(alive)
    per["expected_purchases"] = np.asarray(expected)
    per["clv"] = np.asarray(value)
    if not args.summary:
        return per
    fitted = {**vars(bg.params), **vars(gg.params)}
    fitted.pop("unit")
    return pd.DataFrame(
        [
            {
                "customers": len(per),
                "repeat_customers": int((per["frequency"] > 0).sum()),
                "unit": unit,
                "horizon_months": args.horizon_months,
                "expected_purchases": float(per["expected_purchases"].sum()),
                "clv_total": float(per["clv"].sum()),
                "clv_mean": float(per["clv"].mean()),
                **fitted,
            }
        ]
    )


# --------------------------------------------------------------------------- usability


def error_rate_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Errors ÷ error opportunities per group (each summed over the group's rows), Wilson."""
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    keys = group_columns(table, by, time_column)
    counts = {}
    for name in (args.errors_column, args.opportunities_column):
        values = table.numbers(name, whole=True)
        big = values > MAX_COUNT
        if big.any():
            position = int(big.argmax())
            raise table._bad(
                position, name, table.frame[name].iloc[position], f"a count ≤ {MAX_COUNT:.0e}"
            )
        counts[name] = values.astype("int64")
    errors, opportunities = counts[args.errors_column], counts[args.opportunities_column]
    over = errors > opportunities
    if over.any():
        position = int(over.argmax())
        raise TableError(
            f"{table.where(position, args.errors_column)}: {errors[position]} errors exceed the "
            f"row's {opportunities[position]} opportunities (at most one error per opportunity)"
        )
    rows = pd.DataFrame({"errors": errors, "opportunities": opportunities}, index=keys.index)

    def rate(group: pd.DataFrame) -> pd.DataFrame:
        return score_row(
            ux.error_rate(
                errors=int(group["errors"].sum()),
                opportunities=int(group["opportunities"].sum()),
                confidence=args.confidence,
            )
        )

    return per_group(keys, rows, rate)


def usability_table(table: Table, args: argparse.Namespace, by: list[str]) -> pd.DataFrame:
    """Task success rate (adjusted Wald or Wilson) or geometric-mean time on task per group."""
    time_column = args.created_at_column or TIME_COLUMNS[args.metric]
    keys = group_columns(table, by, time_column)
    rows = pd.DataFrame(index=table.frame.index)
    if args.metric == "task-success" or args.successful_only:
        rows["success"] = table.flags(args.success_column)
    if args.metric == "time-on-task":
        rows["seconds"] = table.numbers(args.seconds_column, positive=True)

    def compute(group: pd.DataFrame) -> pd.DataFrame:
        if args.metric == "task-success":
            success = group["success"]
            return score_row(
                ux.task_success_rate(
                    successes=int(success.sum()),
                    attempts=int(success.size),
                    interval=args.interval,
                    confidence=args.confidence,
                )
            )
        seconds = group["seconds"]
        if args.successful_only:
            seconds = seconds[group["success"]]
        return score_row(ux.time_on_task(seconds.tolist(), args.confidence))

    return per_group(keys, rows, compute)


BUILDERS: dict[str, Callable[[Table, argparse.Namespace, list[str]], pd.DataFrame]] = {
    "first-response-time": durations_table,
    "resolution-time": durations_table,
    "conversion": conversion_table,
    "bounce-ga4": bounce_table,
    "bounce-ua": bounce_table,
    "repeat-purchase": repeat_purchase_table,
    "cohort-retention": cohort_table,
    "churn": churn_table,
    "clv-bgnbd": clv_table,
    "task-success": usability_table,
    "error-rate": error_rate_table,
    "time-on-task": usability_table,
}


def compute_table(
    frame: pd.DataFrame, path: Path, where: Where, args: argparse.Namespace, by: list[str]
) -> pd.DataFrame:
    """The result table of a table-shaped metric (TableError for any input problem)."""
    return BUILDERS[args.metric](Table(frame, path, where), args, by)
