"""The one door from the web app into opencx.analytics. Returns frozen dataclasses.

Views hand in additive counts (or, for the deep analyses, the rows they need) from
`insights.selectors`; what comes back is ready to show: every score with its n and interval.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from opencx.analytics.calendar import BusinessCalendar
from opencx.analytics.metrics.nps import nps_from_counts
from opencx.analytics.metrics.proportion import share_from_counts
from opencx.analytics.metrics.response_times import summarize_durations
from opencx.analytics.result import THIN_SAMPLE, Score
from opencx.analytics.stats.drivers import key_drivers as shapley_drivers
from opencx.analytics.stats.multiple import holm
from opencx.analytics.stats.shrinkage import nps_dirichlet
from opencx.analytics.stats.significance import nps_difference

from .selectors import HeadlineTally, NpsCounts

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


def nps_score(counts: NpsCounts) -> Score:
    return nps_from_counts(n=counts.n, promoters=counts.promoters, detractors=counts.detractors)


def share_score(*, n: int, satisfied: int) -> Score:
    return share_from_counts(n=n, satisfied=satisfied)


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
