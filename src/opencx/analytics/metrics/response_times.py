"""First-response and resolution times from a table of conversation events.

One row per event: conversation id, an aware timestamp, and a kind (see `Kind`). Per conversation
the clock starts at the chosen start event and stops at the chosen end event; bot messages,
auto-replies and internal notes never stop it. Durations are given in calendar hours and, with a
`BusinessCalendar`, in business hours (only time inside the schedule counts).

Conversations still waiting at `as_of` are right-censored: their clock ran until `as_of` without
stopping. The summary reports how many, estimates the median and the 90th percentile with
Kaplan–Meier (`opencx.analytics.stats.survival`, so waiting requests are neither zero nor
dropped), and gives the mean over answered
requests only, saying so in its note (a mean cannot be estimated without a model when some
durations are censored).
"""

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats

from opencx.analytics.calendar import BusinessCalendar
from opencx.analytics.metrics._validate import require_columns
from opencx.analytics.result import Score
from opencx.analytics.stats.survival import kaplan_meier


class Kind(StrEnum):
    CREATED = "created"  # the conversation / ticket was opened
    CUSTOMER = "customer_message"
    AGENT = "agent_reply"  # a public reply by a human agent
    BOT = "bot"
    AUTO_REPLY = "auto_reply"
    NOTE = "internal_note"
    RESOLVED = "resolved"


KINDS = frozenset(kind.value for kind in Kind)
STARTS = ("first_customer_message", "created", "first_event")
ENDS = ("first_agent_reply", "first_resolution", "full_resolution")


def average_first_response_time(total: float, requests: int) -> float:
    """Total time to first response ÷ number of answered requests (same unit as `total`)."""
    if isinstance(requests, bool) or not isinstance(requests, int) or requests <= 0:
        raise ValueError(f"requests must be a whole number > 0, got {requests!r}")
    if not math.isfinite(total) or total < 0:
        raise ValueError(f"total must be a finite time ≥ 0, got {total!r}")
    return total / requests


def _checked_events(events: pd.DataFrame, conversation: str, time: str, kind: str) -> pd.DataFrame:
    require_columns(events, [conversation, time, kind])
    frame = pd.DataFrame(
        {
            "conversation": events[conversation].to_numpy(),
            "time": events[time].to_numpy(),
            "kind": events[kind].astype(object).to_numpy(),
        }
    )
    times = events[time]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"column {time!r} must hold time-zone-aware timestamps (got {times.dtype}); "
            "localize them first, e.g. .dt.tz_localize('UTC')"
        )
    frame["time"] = times.dt.tz_convert("UTC").to_numpy()
    for column, label in (("conversation", conversation), ("time", time), ("kind", kind)):
        missing = frame[column].isna().to_numpy()
        if missing.any():
            position = int(np.flatnonzero(missing)[0])
            raise ValueError(f"column {label!r}, row {position}: missing value")
    unknown = ~frame["kind"].isin(KINDS).to_numpy()
    if unknown.any():
        position = int(np.flatnonzero(unknown)[0])
        raise ValueError(
            f"column {kind!r}, row {position}: unknown event kind {frame['kind'].iloc[position]!r}"
            f"; expected one of {sorted(KINDS)}"
        )
    return frame


def _first(frame: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    return frame.loc[mask].groupby("conversation", sort=False)["time"].min()


def conversation_durations(
    events: pd.DataFrame,
    *,
    start: str = "first_customer_message",
    end: str = "first_agent_reply",
    calendar: BusinessCalendar | None = None,
    as_of: dt.datetime | None = None,
    skip_agent_opening: bool = True,
    conversation_column: str = "conversation_id",
    time_column: str = "timestamp",
    kind_column: str = "kind",
) -> pd.DataFrame:
    """One row per conversation: start, end, status and the duration in (business) hours.

    start: "first_customer_message" (Plain, Intercom), "created" (the `created` event, as Zendesk)
    or "first_event" (whatever came first). end: "first_agent_reply" (first public human reply at
    or after the start), "first_resolution" (first `resolved`) or "full_resolution" (the last
    `resolved`; a customer message after it reopens the conversation, so it is still waiting).
    With skip_agent_opening, a conversation an agent opened (its first message is an agent reply,
    start "created"/"first_event") is answered by the *next* agent reply, as Zendesk does.

    Columns: conversation_id (named as in the input), started_at, ended_at, status ("answered",
    "waiting": censored at as_of, "no_start": no start event, e.g. no customer message),
    observed, calendar_hours and, with a calendar, business_hours. as_of defaults to the latest
    event in the table and may not precede any event.
    """
    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    if end not in ENDS:
        raise ValueError(f"end must be one of {ENDS}, got {end!r}")
    frame = _checked_events(events, conversation_column, time_column, kind_column)
    latest = frame["time"].max() if len(frame) else None
    if as_of is None:
        cutoff = latest
    else:
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise ValueError(f"as_of {as_of.isoformat()} has no time zone")
        cutoff = pd.Timestamp(as_of).tz_convert("UTC")
        if latest is not None and latest > cutoff:
            raise ValueError(f"as_of {as_of.isoformat()} precedes events in the table ({latest})")
    frame = frame.sort_values(["conversation", "time"], kind="stable")
    kinds = frame["kind"].to_numpy()

    if start == "first_customer_message":
        starts = _first(frame, kinds == Kind.CUSTOMER)
    elif start == "created":
        starts = _first(frame, kinds == Kind.CREATED)
    else:
        starts = _first(frame, np.ones(len(frame), dtype=bool))
    frame["start"] = frame["conversation"].map(starts)
    after_start = (frame["time"] >= frame["start"]).to_numpy()

    if end == "first_agent_reply":
        candidate = after_start & (kinds == Kind.AGENT)
        if skip_agent_opening and start != "first_customer_message":
            messages = frame.loc[np.isin(kinds, [Kind.CUSTOMER, Kind.AGENT])]
            opening = messages.groupby("conversation", sort=False).head(1)
            opening = opening.loc[opening["kind"] == Kind.AGENT]
            candidate &= ~frame.index.isin(opening.index)
        ends = _first(frame, candidate)
    elif end == "first_resolution":
        ends = _first(frame, after_start & (kinds == Kind.RESOLVED))
    else:
        resolved = frame.loc[after_start & (kinds == Kind.RESOLVED)]
        ends = resolved.groupby("conversation", sort=False)["time"].max()
        last_customer = frame.loc[kinds == Kind.CUSTOMER].groupby("conversation")["time"].max()
        reopened = last_customer.reindex(ends.index) > ends
        ends = ends.loc[~reopened.to_numpy()]

    conversations = pd.unique(frame["conversation"])
    result = pd.DataFrame({conversation_column: conversations})
    for column, moments in (("started_at", starts), ("ended_at", ends)):
        aligned = pd.to_datetime(moments.reindex(conversations), utc=True)
        result[column] = aligned.reset_index(drop=True)
    has_start = result["started_at"].notna().to_numpy()
    observed = result["ended_at"].notna().to_numpy()
    result["status"] = np.where(observed, "answered", np.where(has_start, "waiting", "no_start"))
    result["observed"] = observed
    stop = result["ended_at"].where(observed, cutoff)
    result["calendar_hours"] = (stop - result["started_at"]).dt.total_seconds() / 3600
    if calendar is not None:
        result["business_hours"] = [
            calendar.business_hours(begin, finish) if has else math.nan
            for begin, finish, has in zip(result["started_at"], stop, has_start, strict=True)
        ]
    return result


def first_response_times(events: pd.DataFrame, **options: object) -> pd.DataFrame:
    """`conversation_durations` ending at the first public human agent reply."""
    return conversation_durations(events, end="first_agent_reply", **options)  # type: ignore[arg-type]


def resolution_times(events: pd.DataFrame, full: bool = False, **options: object) -> pd.DataFrame:
    """`conversation_durations` ending at the first (or, with full=True, the last) resolution."""
    end = "full_resolution" if full else "first_resolution"
    return conversation_durations(events, end=end, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DurationSummary:
    """Summary of response or resolution times; every Score is in `unit`."""

    n: int  # requests with a start event
    answered: int
    censored: int  # still waiting at as_of: right-censored
    mean: Score  # over answered requests only, t-interval (see note)
    median: Score  # Kaplan–Meier, censored requests included
    p90: Score  # Kaplan–Meier 90th percentile
    unit: str
    note: str


def _first_time_at_or_below(times: np.ndarray, curve: np.ndarray, level: float) -> float | None:
    reached = np.flatnonzero(curve <= level + 1e-12)
    return float(times[reached[0]]) if reached.size else None


def _km_quantile(table: pd.DataFrame, q: float, n: int) -> Score:
    """Time by which a share q of requests is answered: the first t with Ŝ(t) ≤ 1 − q.

    The interval reads the same crossing off the log-log band (Brookmeyer–Crowley style, as
    lifelines' median_survival_times on confidence_interval_); once Ŝ reaches 0 the band is 0.
    """
    times = table["time"].to_numpy()
    survival = table["survival"].to_numpy()
    gone = survival <= 0
    low = np.where(gone, 0.0, table["ci_low"].to_numpy())
    high = np.where(gone, 0.0, table["ci_high"].to_numpy())
    return Score(
        value=_first_time_at_or_below(times, survival, 1 - q),
        n=n,
        ci_low=_first_time_at_or_below(times, low, 1 - q),
        ci_high=_first_time_at_or_below(times, high, 1 - q),
    )


def _mean_answered(values: np.ndarray, confidence: float) -> Score:
    n = int(values.size)
    if n == 0:
        return Score.empty()
    mean = float(values.mean())
    if n == 1:
        return Score(value=mean, n=1, ci_low=None, ci_high=None)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / n**0.5
    return Score(value=mean, n=n, ci_low=mean - half, ci_high=mean + half)


def summarize_durations(
    durations: Iterable[float],
    observed: Iterable[bool],
    *,
    confidence: float = 0.95,
    unit: str = "hours",
) -> DurationSummary:
    """Mean (answered only), Kaplan–Meier median and p90 with intervals, and the censored count.

    A median or p90 is None when too many requests are still waiting for the curve to reach it;
    an interval bound is None when the band never reaches it (open-ended).
    """
    times = np.asarray(list(durations), dtype="float64")
    flags = np.asarray(list(observed), dtype=object)
    if times.size != flags.size:
        raise ValueError(f"{times.size} durations but {flags.size} observed flags")
    for position, flag in enumerate(flags):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"observed #{position} must be True or False, got {flag!r}")
    events = flags.astype(bool)
    n, answered = int(times.size), int(events.sum())
    if n == 0:
        empty = Score.empty()
        return DurationSummary(0, 0, 0, empty, empty, empty, unit, "no requests")
    curve = kaplan_meier(times.tolist(), events.tolist(), confidence)
    censored = n - answered
    note = (
        f"mean over the {answered} answered request(s) only; "
        f"{censored} still waiting (right-censored) are not in it but are in the "
        "Kaplan–Meier median and p90"
        if censored
        else "no request is still waiting: mean, median and p90 use every request"
    )
    return DurationSummary(
        n=n,
        answered=answered,
        censored=censored,
        mean=_mean_answered(times[events], confidence),
        median=_km_quantile(curve, 0.5, n),
        p90=_km_quantile(curve, 0.9, n),
        unit=unit,
        note=note,
    )


def summarize(
    per_conversation: pd.DataFrame, column: str = "calendar_hours", confidence: float = 0.95
) -> DurationSummary:
    """Summary of the output of `conversation_durations` (rows with no start event left out)."""
    require_columns(per_conversation, [column, "observed", "status"])
    rows = per_conversation.loc[per_conversation["status"] != "no_start"]
    return summarize_durations(
        rows[column].to_numpy(dtype="float64"),
        rows["observed"].to_list(),
        confidence=confidence,
        unit=column.removesuffix("_hours") + " hours",
    )
