"""The one door from the web app into opencx.analytics. Returns frozen dataclasses.

Views hand in additive counts (or, for the deep analyses, the rows they need) from
`insights.selectors`; what comes back is ready to show: every score with its n and interval.
"""

import functools
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from opencx.analytics.calendar import BusinessCalendar
from opencx.analytics.metrics.ces import CesScale
from opencx.analytics.metrics.csat import Scale as CsatScale
from opencx.analytics.metrics.nps import nps_from_counts
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.metrics.response_times import DurationSummary, summarize_durations
from opencx.analytics.result import THIN_SAMPLE, Score
from opencx.analytics.stats.drivers import key_drivers as shapley_drivers
from opencx.analytics.stats.multiple import holm
from opencx.analytics.stats.shrinkage import nps_dirichlet
from opencx.analytics.stats.significance import (
    mean_difference_from_sums,
    nps_difference,
    proportion_difference,
)

from .selectors import HeadlineTally, NpsCounts

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


def nps_score(counts: NpsCounts) -> Score:
    return nps_from_counts(n=counts.n, promoters=counts.promoters, detractors=counts.detractors)


def share_score(*, n: int, satisfied: int) -> Score:
    return share_from_counts(n=n, satisfied=satisfied)


CSAT_VARIANTS = ("share", "mean")
CES_VARIANTS = ("percent_agree", "mean", "net")


def mean_score(*, n: int, score_sum: int, score_sq_sum: int) -> Score:
    """Mean rating with its Student-t interval, from the additive sums (n, Σx, Σx²)."""
    from opencx.analytics.metrics.csat import mean_from_sums

    return mean_from_sums(n=n, total=score_sum, total_sq=score_sq_sum, confidence=CONFIDENCE)


def net_score(*, n: int, good: int, bad: int) -> Score:
    """CES net index: % good side − % bad side, with the adjusted-Wald interval."""
    from opencx.analytics.metrics.ces import net_from_counts

    return net_from_counts(n=n, good=good, bad=bad, confidence=CONFIDENCE)


def ces_sides(
    *, low: int | None, high: int | None, higher_is_better: bool, satisfied: frozenset[int]
) -> tuple[frozenset[int], frozenset[int]]:
    """(good, bad) points of a stored CES scale: good is the stored satisfied set, bad every
    point strictly worse than the midpoint (`CesScale`). A scale low..high is read as 1..k.
    Raises MetricRefused when the question stores no scale or its sides contradict its
    direction."""
    from opencx.analytics.metrics.ces import CesScale

    if low is None or high is None:
        raise MetricRefused("The question stores no scale, so its bad side is unknown.")
    shift = low - 1
    try:
        scale = CesScale(
            points=high - low + 1,
            higher_is_better=higher_is_better,
            good=frozenset(point - shift for point in satisfied),
        )
    except ValueError as error:
        raise MetricRefused(
            f"The question's stored scale cannot give a net index: {error}"
        ) from error
    return (
        frozenset(point + shift for point in scale.good_side),
        frozenset(point + shift for point in scale.bad_side),
    )


def headline_score(kind: str, tally: HeadlineTally) -> Score:
    """NPS for "nps", % satisfied for "csat" and "ces" (each question's stored satisfied set)."""
    if kind == "nps":
        return nps_score(tally.nps)
    return share_score(n=tally.n, satisfied=tally.satisfied)


# --- trends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    month: date
    score: Score

    @property
    def is_thin(self) -> bool:
        return self.score.is_thin


def trend(kind: str, tallies: Mapping[date, HeadlineTally]) -> list[TrendPoint]:
    """One point per month that has answers, oldest first."""
    return [
        TrendPoint(month=month, score=headline_score(kind, tally))
        for month, tally in sorted(tallies.items())
        if tally.n
    ]


# --- period-over-period change ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """NPS now minus NPS before, in points, with its interval and a two-sided p-value."""

    current: Score
    previous: Score
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float = CONFIDENCE

    @property
    def significant(self) -> bool:
        return self.p_value < 1 - self.confidence

    @property
    def verdict(self) -> str:
        return "significant" if self.significant else "not significant"

    @property
    def direction(self) -> str:
        if self.difference > 0:
            return "up"
        if self.difference < 0:
            return "down"
        return "flat"


def nps_change(current: NpsCounts, previous: NpsCounts) -> Change | None:
    """The change between two independent periods; None when either has no answers."""
    if not current.n or not previous.n:
        return None
    comparison = nps_difference(
        (current.n, current.promoters, current.detractors),
        (previous.n, previous.promoters, previous.detractors),
        confidence=CONFIDENCE,
    )
    return Change(
        current=nps_score(current),
        previous=nps_score(previous),
        difference=comparison.difference,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        p_value=comparison.p_value,
    )


# --- location leaderboard -----------------------------------------------------------------


@dataclass(frozen=True)
class LeaderRow:
    """One location: raw NPS, the shrunken (empirical-Bayes) estimate used for ranking, and the
    comparison with the rest of the brand in view (Holm-adjusted over all locations)."""

    location_id: int
    name: str
    raw: Score
    estimate: float
    ci_low: float
    ci_high: float
    difference: float | None  # raw NPS minus the NPS of all other listed locations
    p_value: float | None
    p_adjusted: float | None

    @property
    def n(self) -> int:
        return self.raw.n

    @property
    def significantly_below(self) -> bool:
        return (
            self.p_adjusted is not None
            and self.difference is not None
            and self.difference < 0
            and self.p_adjusted < ALPHA
        )

    @property
    def significantly_above(self) -> bool:
        return (
            self.p_adjusted is not None
            and self.difference is not None
            and self.difference > 0
            and self.p_adjusted < ALPHA
        )


@dataclass(frozen=True)
class Leaderboard:
    rows: list[LeaderRow]
    total: Score
    prior_nps: float | None  # the NPS the estimates are shrunk towards


def leaderboard(entries: Sequence[tuple[int, str, NpsCounts]]) -> Leaderboard:
    """Rank locations (id, name, counts) by their shrunken NPS, best first.

    Shrinkage (Dirichlet-multinomial) pulls small locations towards the brand, so a store
    with three promoters does not top the table. Each location is tested against the pooled
    rest (independent samples) and the p-values are Holm-adjusted across the locations.
    """
    entries = [entry for entry in entries if entry[2].n > 0]
    total = NpsCounts(
        n=sum(c.n for _, _, c in entries),
        promoters=sum(c.promoters for _, _, c in entries),
        detractors=sum(c.detractors for _, _, c in entries),
    )
    if not entries:
        return Leaderboard(rows=[], total=nps_score(total), prior_nps=None)
    if len(entries) < 2:  # one location: nothing to shrink towards or compare with
        location_id, name, counts = entries[0]
        raw = nps_score(counts)
        row = LeaderRow(
            location_id, name, raw, raw.value, raw.ci_low, raw.ci_high, None, None, None
        )
        return Leaderboard(rows=[row], total=raw, prior_nps=None)
    prior, shrunk = nps_dirichlet(
        [(c.promoters, c.n - c.promoters - c.detractors, c.detractors) for _, _, c in entries]
    )
    comparisons = []
    for _, _, counts in entries:
        rest = NpsCounts(
            total.n - counts.n,
            total.promoters - counts.promoters,
            total.detractors - counts.detractors,
        )
        comparisons.append(
            nps_difference(
                (counts.n, counts.promoters, counts.detractors),
                (rest.n, rest.promoters, rest.detractors),
                confidence=CONFIDENCE,
            )
            if rest.n
            else None
        )
    tested = [c.p_value for c in comparisons if c is not None]
    adjusted = iter(holm(tested) if tested else [])
    rows = []
    for (location_id, name, counts), estimate, comparison in zip(
        entries, shrunk, comparisons, strict=True
    ):
        rows.append(
            LeaderRow(
                location_id=location_id,
                name=name,
                raw=nps_score(counts),
                estimate=estimate.estimate,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
                difference=comparison.difference if comparison else None,
                p_value=comparison.p_value if comparison else None,
                p_adjusted=next(adjusted) if comparison else None,
            )
        )
    rows.sort(key=lambda row: (-row.estimate, row.name))
    return Leaderboard(rows=rows, total=nps_score(total), prior_nps=_prior_nps(prior))


def _prior_nps(prior: tuple[float, float, float]) -> float:
    """The prior's mean NPS: 100·(α_P − α_D)/Σα."""
    promoters, passives, detractors = prior
    return 100.0 * (promoters - detractors) / (promoters + passives + detractors)


# --- key drivers --------------------------------------------------------------------------

# Topic flags are keyword matches in the free-text comment (stems in the seven demo languages:
# it, cy, ru, en, es, de, fr). A rough, auditable proxy until text analytics lands.
TOPICS: dict[str, tuple[str, ...]] = {
    "returns_refunds": (
        "return", "refund", "reso", "rimbors", "dychwel", "ad-dal", "возврат", "devoluc",
        "reembols", "rückgabe", "rücksend", "erstattung", "retour", "rembours",
    ),
    "waiting": (
        "wait", "queue", "aspett", "attesa", "coda", "aros", "ciw", "очеред", "ждал", "ждать",
        "ожидан", "esper", "cola ", "gewartet", "wartezeit", "schlange", "attendu", "attente",
    ),
    "delivery": (
        "deliver", "parcel", "courier", "consegn", "pacco", "corriere", "parsel", "danfon",
        "доставк", "посылк", "курьер", "entrega", "paquete", "liefer", "paket", "colis",
        "livraison",
    ),
    "staff": (
        "staff", "personale", "commess", "gentil", "cyfeillgar", "персонал", "продав",
        "приветлив", "personal", "dependient", "amable", "verkäufer", "freundlich",
        "personnel", "vendeu", "aimable",
    ),
    "price": (
        "price", "expensive", "prezz", "caro", "pris", "drud", "цен", "дорог", "precio",
        "preis", "teuer", "prix", "cher",
    ),
}  # fmt: skip

DRIVER_LABELS = {
    "returns_refunds": "Comment mentions a return or refund",
    "waiting": "Comment mentions waiting or queues",
    "delivery": "Comment mentions delivery",
    "staff": "Comment mentions staff",
    "price": "Comment mentions price",
    "late_delivery": "Customer had a late delivery in the 30 days before",
    "online": "Answered about the online shop",
}


def topic_words(topic: str) -> tuple[str, ...]:
    """The stems of a topic, with capitalised forms (SQLite matches non-ASCII case-sensitively)."""
    words = TOPICS.get(topic, ())
    return tuple(dict.fromkeys([*words, *(w.capitalize() for w in words)]))


def mentions(comment: str, topic: str) -> bool:
    text = comment.casefold()
    return any(word in text for word in TOPICS[topic])


@dataclass(frozen=True)
class Driver:
    key: str
    label: str
    importance: float  # share of the explained variance of NPS (Shapley), in %
    ci_low: float | None  # 95% bootstrap interval of that share (None: too thin to resample)
    ci_high: float | None
    with_flag: Score  # NPS of responses with the flag
    without_flag: Score  # NPS of responses without it

    @property
    def effect(self) -> float | None:
        if self.with_flag.value is None or self.without_flag.value is None:
            return None
        return self.with_flag.value - self.without_flag.value

    @property
    def direction(self) -> str:
        effect = self.effect
        if effect is None:
            return ""
        return "raises NPS" if effect > 0 else "lowers NPS"


@dataclass(frozen=True)
class DriverAnalysis:
    drivers: list[Driver]
    n: int
    r_squared: float | None


def _nps_code(score: int) -> int:
    return 100 if score >= 9 else (-100 if score <= 6 else 0)


def key_drivers(
    rows: Iterable[Mapping], *, bootstrap: int = 100, min_flagged: int = 5
) -> DriverAnalysis:
    """Which flags move NPS: Shapley regression of the per-response NPS code (100 promoter, 0
    passive, −100 detractor) on 0/1 drivers, with bootstrap intervals on each driver's share.

    A driver flagged on fewer than `min_flagged` responses (or on all of them) is left out.
    """
    import pandas as pd

    records = []
    for row in rows:
        comment = row.get("comment") or ""
        record = {"nps": _nps_code(row["score"])}
        for topic in TOPICS:
            record[topic] = int(mentions(comment, topic))
        record["late_delivery"] = int(bool(row.get("late_delivery")))
        record["online"] = int(bool(row.get("online")))
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["nps", *DRIVER_LABELS])
    n = len(frame)
    usable = [
        key for key in DRIVER_LABELS if min_flagged <= int(frame[key].sum()) <= n - min_flagged
    ]
    usable = _independent(frame, usable)
    if n < THIN_SAMPLE or not usable or frame["nps"].nunique() < 2:
        return DriverAnalysis(drivers=[], n=n, r_squared=None)
    try:
        table = shapley_drivers(frame.astype(float), "nps", usable, bootstrap=bootstrap, seed=0)
    except ValueError:  # too thin for bootstrap resamples: estimates without intervals
        table = shapley_drivers(frame.astype(float), "nps", usable, bootstrap=0, seed=0)
    r_squared = float(table.attrs.get("r2", 0.0))
    drivers = []
    for record in table.to_dict("records"):
        key = record["driver"]
        flagged = frame[frame[key] == 1]["nps"]
        others = frame[frame[key] == 0]["nps"]
        drivers.append(
            Driver(
                key=key,
                label=DRIVER_LABELS[key],
                importance=_share_percent(record["importance"], r_squared) or 0.0,
                ci_low=_share_percent(record["ci_low"], r_squared),
                ci_high=_share_percent(record["ci_high"], r_squared),
                with_flag=_nps_of_codes(flagged),
                without_flag=_nps_of_codes(others),
            )
        )
    drivers.sort(key=lambda driver: -driver.importance)
    return DriverAnalysis(drivers=drivers, n=n, r_squared=r_squared)


def _independent(frame, drivers: list[str]) -> list[str]:
    """Drivers in order, leaving out any that the earlier ones (with a constant) determine
    exactly, such as two flags that are always opposite: regression cannot separate them."""
    import numpy as np

    kept: list[str] = []
    columns = [np.ones(len(frame))]
    for driver in drivers:
        candidate = np.column_stack([*columns, frame[driver].to_numpy(dtype=float)])
        if np.linalg.matrix_rank(candidate) == candidate.shape[1]:
            kept.append(driver)
            columns.append(frame[driver].to_numpy(dtype=float))
    return kept


def _share_percent(importance, r_squared: float) -> float | None:
    """An importance on the R² scale as a percentage of the model's R² (None if undefined)."""
    if _isnan(importance) or r_squared <= 0:
        return None
    return 100.0 * float(importance) / r_squared


def _isnan(value) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _nps_of_codes(codes) -> Score:
    codes = list(codes)
    return nps_from_counts(
        n=len(codes),
        promoters=sum(1 for code in codes if code > 0),
        detractors=sum(1 for code in codes if code < 0),
    )


# --- first response times -----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    """First-response times of conversations, in hours. Unanswered conversations are censored:
    they count towards the medians only as "at least this long" (Kaplan–Meier), never as 0."""

    conversations: int
    answered: int
    unanswered: int
    median_hours: float | None
    p90_hours: float | None
    median_business_hours: float | None
    p90_business_hours: float | None
    sla_hours: float
    within_sla: Score  # % of conversations answered within the target (known outcomes only)
    method: str = "Kaplan–Meier"


def business_calendar(timezone_name: str, opening_hours: Mapping) -> BusinessCalendar:
    """A location's opening hours ({"0": [["09:30", "13:00"], ...]}, Monday = 0) as a calendar;
    a location without opening hours is open around the clock."""
    if not opening_hours:
        return BusinessCalendar.always(timezone_name or "UTC")
    hours = {
        int(day): [f"{start}-{'24:00' if end == '23:59' else end}" for start, end in spans]
        for day, spans in opening_hours.items()
        if spans
    }
    return BusinessCalendar.weekly(timezone_name or "UTC", hours)


def business_deadline(
    *, start: datetime, hours: float, timezone_name: str, opening_hours: Mapping
) -> datetime:
    """When `hours` of the location's business time will have passed since `start` (an SLA due
    date). A location whose opening hours are unusable or never open is clocked around the
    clock rather than given no deadline at all."""
    try:
        return business_calendar(timezone_name, opening_hours).deadline(start, hours * 3600)
    except ValueError:
        return BusinessCalendar.always(timezone_name or "UTC").deadline(start, hours * 3600)


def first_response_times(
    rows: Sequence[tuple], *, now: datetime, sla_hours: float
) -> ResponseTimes:
    """rows: (created_at, first_reply_at or None, timezone name, opening hours, ...) per
    conversation; the clock runs from creation to the first reply, or to `now` if none yet."""
    calendars: dict[tuple, BusinessCalendar | None] = {}
    calendar_hours, business_hours, observed = [], [], []
    met = decided = 0
    for created, replied, tz, opening, *_rest in rows:
        end = max(replied if replied is not None else now, created)
        hours = (end - created).total_seconds() / 3600
        calendar_hours.append(hours)
        observed.append(replied is not None)
        key = (tz, repr(opening))
        if key not in calendars:
            try:
                calendars[key] = business_calendar(tz, opening)
            except ValueError:
                calendars[key] = None
        business = calendars[key]
        business_hours.append(business.business_hours(created, end) if business else None)
        if replied is not None:
            decided += 1
            met += hours <= sla_hours
        elif hours > sla_hours:
            decided += 1  # still unanswered past the target: already a breach
    calendar = summarize_durations(calendar_hours, observed)
    median_b = p90_b = None
    if rows and all(value is not None for value in business_hours):
        in_business = summarize_durations(business_hours, observed)
        median_b, p90_b = in_business.median.value, in_business.p90.value
    return ResponseTimes(
        conversations=len(rows),
        answered=calendar.answered,
        unanswered=calendar.censored,
        median_hours=calendar.median.value,
        p90_hours=calendar.p90.value,
        median_business_hours=median_b,
        p90_business_hours=p90_b,
        sla_hours=sla_hours,
        within_sla=share_score(n=decided, satisfied=met),
    )


# --- metric API: resolution times, repeat purchase, cohorts, conversion, bounce, CLV --------
# The selectors hand in rows; the library computes every figure. Wall-clock periods (cohort
# months, purchase days) are read in the brand's time zone, passed in as `tz`.


class MetricRefused(ValueError):
    """The data cannot give this metric (too few customers, a model fit that did not converge);
    the message says why, for a 422."""


@dataclass(frozen=True)
class ResolutionTimes:
    """Time from a conversation's creation to its resolution; conversations not resolved yet are
    right-censored at `as_of` (Kaplan–Meier median and p90, never counted as 0)."""

    conversations: int
    resolved: int
    waiting: int
    calendar: DurationSummary
    business: DurationSummary | None  # None when any location's opening hours are unusable


def resolution_times(rows: Sequence[tuple], *, now: datetime) -> ResolutionTimes:
    """rows: (conversation id, created_at, resolved_at or None, timezone, opening hours).

    Each location's business calendar (its opening hours in its time zone) clocks its own
    conversations; the per-conversation hours are then summarised together."""
    import pandas as pd

    from opencx.analytics.metrics import response_times as rt

    groups: dict[tuple, list[tuple]] = {}
    for row in rows:
        groups.setdefault((row[3] or "UTC", repr(row[4])), []).append(row)
    calendar_hours: list[float] = []
    business_hours: list[float] = []
    observed: list[bool] = []
    business_known = True
    for group in groups.values():
        tz, opening = group[0][3] or "UTC", group[0][4]
        try:
            calendar = business_calendar(tz, opening)
        except ValueError:
            calendar, business_known = None, False
        events = [(pk, created, rt.Kind.CREATED.value) for pk, created, *_ in group] + [
            (pk, resolved, rt.Kind.RESOLVED.value)
            for pk, _created, resolved, *_ in group
            if resolved is not None
        ]
        frame = pd.DataFrame(events, columns=["conversation_id", "timestamp", "kind"])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        latest = frame["timestamp"].max().to_pydatetime()
        table = rt.resolution_times(
            frame, start="created", calendar=calendar, as_of=max(now, latest)
        )
        calendar_hours += table["calendar_hours"].tolist()
        observed += [bool(flag) for flag in table["observed"]]
        if calendar is not None:
            business_hours += table["business_hours"].tolist()
    calendar_summary = rt.summarize_durations(calendar_hours, observed)
    business_summary = (
        rt.summarize_durations(business_hours, observed, unit="business hours")
        if business_known
        else None
    )
    return ResolutionTimes(
        conversations=len(rows),
        resolved=calendar_summary.answered,
        waiting=calendar_summary.censored,
        calendar=calendar_summary,
        business=business_summary,
    )


def _orders_frame(rows: Sequence[tuple], tz: str):
    import pandas as pd

    frame = pd.DataFrame(
        [(contact, placed, float(total)) for contact, placed, total, *_ in rows],
        columns=["customer_id", "timestamp", "total"],
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_convert(tz)
    return frame


def repeat_purchase(rows: Sequence[tuple], *, tz: str) -> Score:
    """% of customers with an order in the period who ordered at least twice in it (Wilson)."""
    from opencx.analytics.metrics.churn import repeat_purchase_rate_from_orders

    return repeat_purchase_rate_from_orders(_orders_frame(rows, tz))


@dataclass(frozen=True)
class CohortCell:
    cohort: date  # first day of the month of the customers' first order in the period
    periods_since: int  # months after the cohort month
    retained: int
    score: Score  # % of the cohort with an order in that month (or later, "unbounded")


def cohort_retention(
    rows: Sequence[tuple], *, tz: str, as_of: datetime, mode: str = "classic"
) -> list[CohortCell]:
    """Monthly cohorts by first order; months after `as_of`'s are censored (absent, never 0)."""
    import pandas as pd

    from opencx.analytics.metrics.churn import cohort_retention as retention

    frame = _orders_frame(rows, tz)
    cut = pd.Timestamp(as_of).tz_convert(tz)
    if len(frame):
        cut = max(cut, frame["timestamp"].max())
    table = retention(frame, period="month", mode=mode, as_of=cut)
    return [
        CohortCell(
            cohort=record["cohort"].start_time.date(),
            periods_since=int(record["periods_since"]),
            retained=int(record["retained"]),
            score=Score(
                value=record["value"],
                n=int(record["n"]),
                ci_low=record["ci_low"],
                ci_high=record["ci_high"],
            ),
        )
        for record in table.to_dict("records")
    ]


def _sessions_frame(rows: Sequence[Mapping]):
    """One row per session: duration_seconds = last event − first event of the session (a
    single-event session lasts 0 s), page_views, key_events = purchases."""
    import pandas as pd

    return pd.DataFrame(
        {
            "location_id": [row["location_id"] for row in rows],
            "duration_seconds": [
                (row["last_at"] - row["first_at"]).total_seconds() for row in rows
            ],
            "page_views": [int(row["page_views"]) for row in rows],
            "key_events": [int(row["purchases"]) for row in rows],
        },
        columns=["location_id", "duration_seconds", "page_views", "key_events"],
    )


@dataclass(frozen=True)
class SessionShare:
    location_id: int | None  # None: all sessions together
    score: Score
    hits: int  # converting (or bounced) sessions


def conversion(rows: Sequence[Mapping], *, by_location: bool = False) -> list[SessionShare]:
    """Session conversion rate: sessions with a purchase ÷ sessions × 100 (Wilson)."""
    from opencx.analytics.metrics.conversion import conversion_rate

    groups: dict[int | None, list[Mapping]] = {}
    for row in rows:
        groups.setdefault(row["location_id"] if by_location else None, []).append(row)
    if not by_location:
        groups.setdefault(None, [])
    result = []
    for key in sorted(groups, key=lambda value: (value is not None, value or 0)):
        sessions = groups[key]
        converted = sum(1 for row in sessions if row["purchases"] > 0)
        score = conversion_rate(conversions=converted, denominator=len(sessions), per="sessions")
        result.append(SessionShare(location_id=key, score=score, hits=converted))
    return result


def bounce(rows: Sequence[Mapping], *, by_location: bool = False) -> list[SessionShare]:
    """GA4 bounce rate: sessions that were not engaged ÷ sessions × 100 (Wilson)."""
    from opencx.analytics.metrics.conversion import ga4_bounce_rate_from_sessions

    return _session_shares(ga4_bounce_rate_from_sessions, _sessions_frame(rows), by_location)


def ua_bounce(rows: Sequence[Mapping], *, by_location: bool = False) -> list[SessionShare]:
    """Universal Analytics bounce rate: sessions with exactly one page view and no other event
    ÷ sessions × 100 (Wilson). A session without a page view in the period has no landing page
    to bounce from and is left out of both counts."""
    from opencx.analytics.metrics.conversion import ua_bounce_rate_from_sessions

    viewed = [row for row in rows if row["page_views"] >= 1]
    frame = _sessions_frame(viewed)
    frame["interaction_events"] = [int(row["interactions"]) for row in viewed]
    return _session_shares(ua_bounce_rate_from_sessions, frame, by_location)


def _session_shares(rate, frame, by_location: bool) -> list[SessionShare]:
    if not by_location:
        score = rate(frame)
        hits = round((score.value or 0) * score.n / 100)
        return [SessionShare(location_id=None, score=score, hits=hits)]
    if frame.empty:
        return []
    table = rate(frame, by=["location_id"])
    return [
        SessionShare(
            location_id=int(record["location_id"]),
            score=Score(
                value=record["value"],
                n=int(record["n"]),
                ci_low=record["ci_low"],
                ci_high=record["ci_high"],
            ),
            hits=round(record["value"] * record["n"] / 100),
        )
        for record in table.to_dict("records")
    ]


MIN_CLV_CUSTOMERS = 20
MIN_CLV_REPEAT_CUSTOMERS = 10


@dataclass(frozen=True)
class ClvSummary:
    """BG/NBD (purchase occasions, unit weeks) + Gamma–Gamma (spend per repeat occasion)."""

    customers: int
    repeat_customers: int
    horizon_months: int
    monthly_discount_rate: float
    expected_purchases: float  # mean expected purchase occasions per customer over the horizon
    clv: float  # mean discounted expected spend per customer over the horizon
    clv_total: float
    bg_nbd: Mapping[str, float]  # r, alpha (weeks), a, b
    gamma_gamma: Mapping[str, float]  # p, q, v
    bg_nbd_log_likelihood: float
    gamma_gamma_log_likelihood: float


def clv_summary(
    rows: Sequence[tuple],
    *,
    tz: str,
    observation_end: datetime,
    horizon_months: int = 12,
    monthly_discount_rate: float = 0.01,
) -> ClvSummary:
    """Fit BG/NBD and Gamma–Gamma to the customers' orders (same-day orders are one occasion)
    and forecast over `horizon_months`. Raises MetricRefused on too few customers or a fit
    that does not converge."""
    import pandas as pd

    from opencx.analytics.metrics import clv as model

    frame = _orders_frame(rows, tz)
    end = pd.Timestamp(observation_end).tz_convert(tz)
    if len(frame):
        end = max(end, frame["timestamp"].max())
    rfm = (
        model.rfm_summary(frame, unit="weeks", monetary="total", observation_end=end)
        if len(frame)
        else None
    )
    customers = 0 if rfm is None else len(rfm)
    repeaters = 0 if rfm is None else int((rfm["frequency"] > 0).sum())
    if customers < MIN_CLV_CUSTOMERS or repeaters < MIN_CLV_REPEAT_CUSTOMERS:
        raise MetricRefused(
            f"CLV needs at least {MIN_CLV_CUSTOMERS} customers with orders, "
            f"{MIN_CLV_REPEAT_CUSTOMERS} of them with a repeat purchase; "
            f"found {customers} and {repeaters}."
        )
    x, t_x, big_t = rfm["frequency"], rfm["recency"], rfm["T"]
    monetary = rfm["monetary_value"]
    try:
        bg = model.fit_bg_nbd(x, t_x, big_t, unit="weeks")
        gg = model.fit_gamma_gamma(x, monetary)
        if not bg.converged:
            raise MetricRefused(f"The BG/NBD fit did not converge ({bg.message}).")
        if not gg.converged:
            raise MetricRefused(f"The Gamma–Gamma fit did not converge ({gg.message}).")
        weeks = horizon_months * model.UNITS_PER_MONTH["weeks"]
        purchases = model.bg_nbd_conditional_expected_purchases(bg.params, weeks, x, t_x, big_t)
        values = model.clv_bg_nbd_gamma_gamma(
            bg.params,
            gg.params,
            x,
            t_x,
            big_t,
            monetary,
            horizon_months=horizon_months,
            monthly_discount_rate=monthly_discount_rate,
        )
    except MetricRefused:
        raise
    except ValueError as error:
        raise MetricRefused(f"The CLV models cannot be used on these orders: {error}") from error
    return ClvSummary(
        customers=customers,
        repeat_customers=repeaters,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        expected_purchases=float(purchases.mean()),
        clv=float(values.mean()),
        clv_total=float(values.sum()),
        bg_nbd={
            "r": bg.params.r,
            "alpha": bg.params.alpha,
            "a": bg.params.a,
            "b": bg.params.b,
        },
        gamma_gamma={"p": gg.params.p, "q": gg.params.q, "v": gg.params.v},
        bg_nbd_log_likelihood=bg.log_likelihood,
        gamma_gamma_log_likelihood=gg.log_likelihood,
    )


@dataclass(frozen=True)
class ChurnResult:
    customers_start: int  # S: active at the start (an order in the activity window before it)
    customers_end: int  # E: active at the end
    new_or_returning: int  # N: active at the end but not at the start
    lost: int  # active at the start, not at the end
    churn: Score  # lost ÷ S × 100
    retention: Score  # CRR = (E − N) ÷ S × 100


def churn(
    rows: Sequence[tuple], *, start: datetime, end: datetime, activity_days: int
) -> ChurnResult:
    """Churn and retention over [start, end) from orders: a customer is active at a moment when
    they ordered in the `activity_days` before it. Lost = active at start, not at end."""
    from datetime import timedelta

    from opencx.analytics.metrics.churn import churn_rate, customer_retention_rate

    window = timedelta(days=activity_days)

    def active_at(moment: datetime) -> set:
        return {contact for contact, placed, *_ in rows if moment - window <= placed < moment}

    at_start, at_end = active_at(start), active_at(end)
    lost = len(at_start - at_end)
    arrived = len(at_end - at_start)
    return ChurnResult(
        customers_start=len(at_start),
        customers_end=len(at_end),
        new_or_returning=arrived,
        lost=lost,
        churn=churn_rate(customers_start=len(at_start), customers_lost=lost),
        retention=customer_retention_rate(
            customers_start=len(at_start), customers_end=len(at_end), new_customers=arrived
        ),
    )


def default_satisfied(kind: str, low: int, high: int, *, higher_is_better: bool) -> list[int]:
    """The metrics library's default satisfied (good) set for a question's scale.

    NPS counts 9–10; CSAT follows the per-scale defaults; CES takes the points strictly better
    than the midpoint in the stated direction. Raises ValueError for a scale with no default.
    """
    if kind == "nps":
        return [9, 10]
    if kind == "csat":
        return sorted(CsatScale(low, high).satisfied)
    if kind == "ces" and low == 1:
        return sorted(CesScale(points=high, higher_is_better=higher_is_better).good_side)
    raise ValueError(f"no default satisfied set for a {kind} {low}–{high} scale")


# --- UX benchmarking: counts and times handed in by the caller --------------------------------


def task_success(*, successes: int, attempts: int, interval: str, confidence: float) -> Score:
    """Successes ÷ attempts × 100, adjusted-Wald (default) or Wilson interval; MetricRefused when
    the counts contradict each other."""
    from opencx.analytics.metrics.ux import task_success_rate

    try:
        return task_success_rate(
            successes=successes,
            attempts=attempts,
            interval=interval,  # type: ignore[arg-type]  # checked by the API schema
            confidence=confidence,
        )
    except ValueError as error:
        raise MetricRefused(str(error)) from error


def error_rate(*, errors: int, opportunities: int, confidence: float) -> Score:
    """Errors ÷ error opportunities × 100 with a Wilson interval."""
    from opencx.analytics.metrics.ux import error_rate as rate

    try:
        return rate(errors=errors, opportunities=opportunities, confidence=confidence)
    except ValueError as error:
        raise MetricRefused(str(error)) from error


def time_on_task(seconds: Sequence[float], *, confidence: float) -> Score:
    """Geometric mean time with a Student-t interval on the log times, back-transformed."""
    from opencx.analytics.metrics.ux import time_on_task as geometric

    try:
        return geometric(seconds, confidence)
    except ValueError as error:
        raise MetricRefused(str(error)) from error


# --- brand monitoring (insights.alerts) -----------------------------------------------------


@dataclass(frozen=True)
class ChangeTest:
    """Now minus before (percentage points for shares, stars for mean ratings), its two-sided
    interval, and the one-sided p-value in the direction watched (a rise, or a drop)."""

    now: float
    before: float
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str


def share_rise(*, k_now: int, n_now: int, k_before: int, n_before: int) -> ChangeTest:
    """Did the share k/n rise from before to now? Pooled two-proportion z test (one-sided),
    Newcombe interval of the difference, in points."""
    comparison = proportion_difference(k_now, n_now, k_before, n_before, confidence=CONFIDENCE)
    half = comparison.p_value / 2
    return ChangeTest(
        now=100.0 * k_now / n_now,
        before=100.0 * k_before / n_before,
        difference=comparison.difference,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        p_value=half if comparison.statistic > 0 else 1.0 - half,
        test="two-proportion z test (pooled), one-sided",
    )


def mean_drop(
    *, now: tuple[int, float, float], before: tuple[int, float, float]
) -> ChangeTest | None:
    """Did the mean fall from before to now? Each side is (n, Σx, Σx²). Welch's t test
    (one-sided) and its interval; None when either side has fewer than two values."""
    return _welch(now, before, alternative="less")


def _welch(
    first: tuple[int, float, float],
    second: tuple[int, float, float],
    *,
    alternative: Literal["two-sided", "less"],
) -> ChangeTest | None:
    comparison = mean_difference_from_sums(
        first, second, confidence=CONFIDENCE, alternative=alternative
    )
    if comparison is None:
        return None
    sides = "two-sided" if alternative == "two-sided" else "one-sided"
    return ChangeTest(
        now=first[1] / first[0],
        before=second[1] / second[0],
        difference=comparison.difference,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        p_value=comparison.p_value,
        test=f"Welch t test, {sides}",
    )


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm's adjustment of the p-values of one family (e.g. the locations of one run)."""
    return holm(p_values) if p_values else []


# --- text analytics ---------------------------------------------------------------------------
# Taxonomies cross this door as plain lists of topic dicts ({id, name, keywords, descriptions});
# None stands for the seeded CX topics.


@dataclass(frozen=True)
class TextResult:
    language: str
    sentiment: str  # negative | neutral | positive
    sentiment_score: float  # in [-1, 1]
    topics: tuple[str, ...]
    keyphrases: tuple[str, ...]


def seed_taxonomy() -> list[dict]:
    from opencx.analytics.text.topics import Taxonomy

    return [topic.to_dict() for topic in Taxonomy.seed().topics]


def clean_taxonomy(raw: Sequence[Mapping]) -> list[dict]:
    """A taxonomy checked and normalised; ValueError naming the topic and field when invalid."""
    from opencx.analytics.text.topics import Taxonomy, TaxonomyError, Topic

    topics = []
    for position, item in enumerate(raw, start=1):
        try:
            topics.append(Topic.from_dict(item))
        except (TaxonomyError, TypeError, ValueError) as exc:
            raise ValueError(f"topic {position}: {exc}") from None
    try:
        return [topic.to_dict() for topic in Taxonomy(tuple(topics)).topics]
    except TaxonomyError as exc:
        raise ValueError(str(exc)) from None


def _taxonomy(raw: Sequence[Mapping] | None):
    from opencx.analytics.text.topics import Taxonomy

    if not raw:
        return Taxonomy.seed()
    return Taxonomy.from_json(json.dumps(list(raw), ensure_ascii=False))


def analyse_texts(
    texts: Sequence[str],
    *,
    languages: Sequence[str],
    mode: str = "default",
    taxonomy: Sequence[Mapping] | None = None,
    adapter: Mapping | None = None,
    transformer_dir: str = "",
) -> list[TextResult]:
    """Language (among the brand's `languages`), sentiment, topics and keyphrases per text.

    Results are remembered per text and settings (the same "Great service!" arrives thousands
    of times), so only texts not seen under these settings are analysed.
    """
    from opencx.analytics.text import analyze

    settings_key = json.dumps(
        [list(languages), mode, taxonomy, adapter, transformer_dir],
        sort_keys=True,
        ensure_ascii=False,
    )
    keys = [(settings_key, text) for text in texts]
    with _RESULTS_LOCK:
        known = {key: _RESULTS[key] for key in keys if key in _RESULTS}
    todo = list(dict.fromkeys(key[1] for key in keys if key not in known))
    if todo:
        found = analyze(
            todo,
            languages=list(languages),
            mode=mode,  # type: ignore[arg-type]
            taxonomy=_taxonomy(taxonomy),
            **({"adapter": adapter} if adapter else {}),
            sentiment_model=_transformer(transformer_dir) if transformer_dir else None,
        )
        with _RESULTS_LOCK:
            for text, result in zip(todo, found, strict=True):
                key = (settings_key, text)
                known[key] = _RESULTS[key] = TextResult(
                    language=result.language,
                    sentiment=result.sentiment,
                    sentiment_score=result.sentiment_score,
                    topics=result.topics,
                    keyphrases=result.keyphrases,
                )
            while len(_RESULTS) > _RESULTS_LIMIT:
                _RESULTS.popitem(last=False)
    return [known[key] for key in keys]


@functools.lru_cache(maxsize=2)
def _transformer(directory: str):
    """The server's user-supplied sentiment model (OPENCX_TRANSFORMER_DIR), loaded once."""
    from opencx.analytics.text.transformer import LocalTransformerSentiment

    return LocalTransformerSentiment(directory)


_RESULTS: "OrderedDict[tuple[str, str], TextResult]" = OrderedDict()
_RESULTS_LOCK = threading.Lock()
_RESULTS_LIMIT = 50_000


def redact_pii(text: str) -> str:
    """The text with e-mail addresses, phone and card numbers replaced by [email] [phone] [card]."""
    from opencx.analytics.text.redact import redact

    return redact(text)


@dataclass(frozen=True)
class EmergingTheme:
    """A cluster of similar texts for a person to name and adopt as a topic."""

    size: int
    members: tuple[int, ...]  # indices into the texts given
    representatives: tuple[int, ...]  # indices of the texts nearest the cluster's centre
    suggested_names: tuple[str, ...]  # distinctive phrases, in the theme's main language
    cohesion: float  # mean cosine similarity of the members to the centre
    language: str  # the most common language among the members


def discover_themes(
    texts: Sequence[str], *, languages: Sequence[str], mode: str = "default"
) -> list[EmergingTheme]:
    """Clusters of similar texts (largest and tightest first). `languages`: each text's language
    (one per text), which picks the stop words of the suggested names."""
    from collections import Counter

    from opencx.analytics.text.features import normalize
    from opencx.analytics.text.keyphrases import distinctive_phrases
    from opencx.analytics.text.sentiment import shipped_model
    from opencx.analytics.text.topics import discover_themes as cluster

    texts = list(texts)
    if len(languages) != len(texts):
        raise ValueError("languages: one language per text")
    if not texts:
        return []
    embedder = shipped_model().embedder(mode)  # type: ignore[arg-type]
    embeddings = embedder.embed([normalize(text) for text in texts])
    overall = Counter(languages).most_common(1)[0][0]
    found = []
    for theme in cluster(texts, embeddings, language=overall):
        language = Counter(languages[i] for i in theme.members).most_common(1)[0][0]
        names = theme.suggested_labels
        if language != overall:  # names in the theme's own language
            inside = set(theme.members)
            names = tuple(
                distinctive_phrases(
                    [texts[i] for i in theme.members],
                    [text for i, text in enumerate(texts) if i not in inside],
                    language,
                    limit=3,
                )
            )
        representatives: list[int] = []
        for text in theme.representatives:
            representatives.append(
                next(i for i in theme.members if texts[i] == text and i not in representatives)
            )
        found.append(
            EmergingTheme(
                size=theme.size,
                members=theme.members,
                representatives=tuple(representatives),
                suggested_names=tuple(names),
                cohesion=theme.cohesion,
                language=language,
            )
        )
    return found


# --- topics page (insights.topics) ------------------------------------------------------------


def mean_difference(
    first: tuple[int, float, float], second: tuple[int, float, float]
) -> ChangeTest | None:
    """First mean minus second (e.g. stars of reviews with a topic minus those without), each
    side given as (n, Σx, Σx²): Welch's two-sided t test and its interval; None when either side
    has fewer than two values."""
    return _welch(first, second, alternative="two-sided")


# --- sentiment adapter (insights.corrections) -------------------------------------------------


@dataclass(frozen=True)
class SentimentAdapterFit:
    adapter: dict  # plain numbers and a manifest, for TextSettings.adapter
    examples: int
    classes: dict[str, int]
    correct_before: int  # verdicts the shipped model agreed with
    correct_after: int  # ... the adapted model agrees with (the verdicts it was fitted on)
    cross_validated: int | None  # ... held out of the fit in k folds (None: too few)


def sentiment_adapter_fit(
    texts: Sequence[str], *, languages: Sequence[str], labels: Sequence[str], mode: str
) -> SentimentAdapterFit:
    """Fit a brand's sentiment adapter on texts people labelled (negative|neutral|positive),
    each with its language; the shipped model's and the adapter's agreement with them."""
    from opencx.analytics.text.adapt import fit_texts

    fitted = fit_texts(list(texts), list(languages), list(labels), mode=mode)
    return SentimentAdapterFit(
        adapter=fitted.adapter.to_dict(),
        examples=fitted.examples,
        classes=fitted.classes,
        correct_before=fitted.correct_before,
        correct_after=fitted.correct_after,
        cross_validated=fitted.cross_validated,
    )


# --- inbox service levels (inbox.events, insights.inbox_report) -------------------------------


def business_seconds(
    *, start: datetime, end: datetime, timezone_name: str, opening_hours: Mapping
) -> float:
    """Seconds of the location's business time between two moments (an unusable schedule is
    clocked around the clock, as `business_deadline` does)."""
    if end <= start:
        return 0.0
    try:
        return business_calendar(timezone_name, opening_hours).business_seconds(start, end)
    except ValueError:
        return (end - start).total_seconds()


@dataclass(frozen=True)
class ServiceTimes:
    """Durations of conversations (hours: calendar or business), unfinished ones right-censored:
    Kaplan–Meier median and p90 with their intervals, never counting a wait as 0."""

    conversations: int
    done: int
    waiting: int
    median: Score
    p90: Score
    unit: str


def service_times(durations: Sequence[tuple[float, bool]], *, unit: str = "hours") -> ServiceTimes:
    """durations: (hours, finished) per conversation; unfinished ones ran at least that long."""
    summary = summarize_durations(
        [max(hours, 0.0) for hours, _ in durations],
        [bool(done) for _, done in durations],
        confidence=CONFIDENCE,
        unit=unit,
    )
    return ServiceTimes(
        conversations=summary.n,
        done=summary.answered,
        waiting=summary.censored,
        median=summary.median,
        p90=summary.p90,
        unit=unit,
    )
