"""Reads behind the Overview and the location pages: sums of rollup rows, never a scan of the
responses (ARCHITECTURE.md rule 4). Scoped to the actor and the chosen location.

Rollup days are calendar days in each location's time zone (see insights.models); a period
given as datetimes is turned into days in the brand's time zone: `since` includes its whole
day, `until` excludes its day.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.models import Location
from opencx.platform.selectors import scope_filter
from opencx.surveys.models import Question, Response

from .models import COUNT_FIELDS, ResponseRollup


@dataclass(frozen=True)
class NpsCounts:
    n: int
    promoters: int
    detractors: int


def _responses(actor: Actor, location: Location | None, since: datetime | None = None):
    """Raw scored responses in scope (for the report selectors that need rows, not scores)."""
    qs = Response.objects.filter(scope_filter(actor), score__isnull=False)
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs


HEADLINE_KINDS = ("nps", "csat", "ces")
GRAINS = ("month", "week", "day")
GROUPS = ("location", "touchpoint", "channel", *GRAINS)
_GROUP_FIELDS = {
    "location": "location_id",
    "touchpoint": "touchpoint_key",
    "channel": "channel_key",
}
_NPS_SUMS = {"n": Sum("n"), "promoters": Sum("promoters"), "detractors": Sum("detractors")}


def headline_question_ids(actor: Actor, *, kind: str) -> list[int]:
    """The headline question (the first of the survey's kind) of each of the brand's `kind`
    surveys: the question whose rollups make the survey's score."""
    first: dict[int, int] = {}
    for row in (
        Question.objects.filter(survey__brand=actor.brand, survey__kind=kind, kind=kind)
        .order_by("survey_id", "position", "pk")
        .values("survey_id", "pk")
    ):
        first.setdefault(row["survey_id"], row["pk"])
    return list(first.values())


def period_day(actor: Actor, moment: datetime | date) -> date:
    """The day a datetime falls on in the brand's time zone (a date is kept as it is)."""
    if isinstance(moment, datetime):
        return moment.astimezone(ZoneInfo(actor.brand.timezone)).date()
    return moment


def day_start(actor: Actor, day: date) -> datetime:
    """Midnight at the start of `day` in the brand's time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(actor.brand.timezone))


def rollups_visible_to(actor: Actor, *, location: Location | None = None) -> QuerySet:
    """Rollup rows in the actor's reach, narrowed to `location`'s subtree if given."""
    qs = ResponseRollup.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    return qs


def _headline_rollups(
    actor: Actor,
    kind: str,
    location: Location | None,
    since: datetime | date | None,
    until: datetime | date | None = None,
) -> QuerySet:
    qs = rollups_visible_to(actor, location=location).filter(
        question_id__in=headline_question_ids(actor, kind=kind)
    )
    if since is not None:
        qs = qs.filter(day__gte=period_day(actor, since))
    if until is not None:
        qs = qs.filter(day__lt=period_day(actor, until))
    return qs.order_by()


def _nps(row: dict) -> NpsCounts:
    return NpsCounts(row["n"] or 0, row["promoters"] or 0, row["detractors"] or 0)


def nps_counts(
    actor: Actor, *, location: Location | None, since: datetime, until: datetime | None = None
) -> NpsCounts:
    """NPS counts of the brand's NPS surveys' headline questions over the period."""
    return _nps(_headline_rollups(actor, "nps", location, since, until).aggregate(**_NPS_SUMS))


def month_of(day: date) -> date:
    return day.replace(day=1)


def week_of(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def nps_counts_by_month(actor: Actor, *, location: Location | None, since: datetime):
    """[(first day of the month, NpsCounts)] in month order (months of local days)."""
    months: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = (
        _headline_rollups(actor, "nps", location, since)
        .values("day")
        .annotate(**_NPS_SUMS)
        .values_list("day", "n", "promoters", "detractors")
    )
    for day, n, promoters, detractors in rows:
        total = months[month_of(day)]
        total[0] += n
        total[1] += promoters
        total[2] += detractors
    return [(month, NpsCounts(*months[month])) for month in sorted(months)]


def nps_counts_by_location(actor: Actor, *, location: Location | None, since: datetime):
    """[(location id, name, country, NpsCounts)] of every location with answers, by name."""
    rows = (
        _headline_rollups(actor, "nps", location, since)
        .values("location_id", "location__name", "location__country")
        .annotate(**_NPS_SUMS)
        .order_by("location__name")
    )
    return [
        (row["location_id"], row["location__name"], row["location__country"], _nps(row))
        for row in rows
    ]


def satisfied_counts(
    actor: Actor, *, kind: str, location: Location | None, since: datetime
) -> tuple[int, int]:
    """(n, satisfied) for CSAT or CES surveys, using each headline question's stored set."""
    totals = _headline_rollups(actor, kind, location, since).aggregate(
        n=Sum("n"), satisfied=Sum("satisfied")
    )
    return totals["n"] or 0, totals["satisfied"] or 0


# --- metric selectors (the API) ---


@dataclass(frozen=True)
class MetricGroup:
    """Summed rollup counts of one group; a key not grouped by is None (so is "no touchpoint"
    or "no channel": the caller knows which keys it grouped by)."""

    period: date | None
    location_id: int | None
    touchpoint_id: int | None
    channel_id: int | None
    n: int
    promoters: int
    passives: int
    detractors: int
    satisfied: int
    score_sum: int
    score_sq_sum: int


def metric_questions(
    actor: Actor, *, kind: str, survey_id: int | None = None, question_id: int | None = None
) -> list[int]:
    """Questions a metric reads: one question, one survey's headline question, or the headline
    question of every `kind` survey of the brand. Another brand's survey/question is 404."""
    if question_id is not None:
        question = (
            Question.objects.filter(survey__brand=actor.brand, pk=question_id)
            .values("kind", "survey_id")
            .first()
        )
        if question is None:
            raise NotFound("No such question.", field="question")
        allowed = {kind} if kind == "nps" else {kind, Question.Kind.RATING}
        if question["kind"] not in allowed:
            raise AppError(
                f"A {kind.upper()} score needs a {' or '.join(sorted(allowed))} question.",
                field="question",
            )
        if survey_id is not None and question["survey_id"] != survey_id:
            raise AppError("That question is not in that survey.", field="question")
        return [question_id]
    if survey_id is not None:
        first = (
            Question.objects.filter(
                survey__brand=actor.brand, survey_id=survey_id, kind=kind, survey__kind=kind
            )
            .order_by("position", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        if first is None:
            raise NotFound(f"No {kind.upper()} survey with that id.", field="survey")
        return [first]
    return headline_question_ids(actor, kind=kind)


def metric_groups(
    actor: Actor,
    *,
    questions: list[int],
    by: tuple[str, ...] = (),
    location: Location | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> list[MetricGroup]:
    """Rollup counts of `questions` summed per group of `by` (location, touchpoint, channel and
    at most one of month/week/day), in group order. Periods are folded from days here."""
    unknown = [name for name in by if name not in GROUPS]
    if unknown:
        raise AppError(f"Cannot group by {unknown[0]!r}; use {', '.join(GROUPS)}.", field="by")
    grains = [name for name in by if name in GRAINS]
    if len(grains) > 1:
        raise AppError("Group by one of month, week or day at most.", field="by")
    qs = rollups_visible_to(actor, location=location).filter(question_id__in=questions)
    if since is not None:
        qs = qs.filter(day__gte=period_day(actor, since))
    if until is not None:
        qs = qs.filter(day__lt=period_day(actor, until))
    fields = [_GROUP_FIELDS[name] for name in by if name in _GROUP_FIELDS]
    if grains:
        fields.append("day")
    sums = {name: Sum(name) for name in COUNT_FIELDS}
    rows = qs.order_by().values(*fields).annotate(**sums) if fields else [qs.aggregate(**sums)]
    fold = {"month": month_of, "week": week_of, "day": lambda day: day}
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(COUNT_FIELDS))
    for row in rows:
        if not row["n"]:
            continue
        key = (
            fold[grains[0]](row["day"]) if grains else None,
            row.get("location_id"),
            row.get("touchpoint_key") or None,
            row.get("channel_key") or None,
        )
        total = totals[key]
        for index, name in enumerate(COUNT_FIELDS):
            total[index] += row[name]

    def order(key: tuple) -> tuple:
        return tuple((value is not None, value or 0) for value in key)

    return [MetricGroup(*key, *totals[key]) for key in sorted(totals, key=order)]


@dataclass(frozen=True)
class QuestionScale:
    """What a metric needs to know about a question: its stored scale, direction and satisfied
    (good) set. low/high are None when the question stores no scale."""

    question_id: int
    low: int | None
    high: int | None
    higher_is_better: bool
    satisfied: frozenset[int]


def question_scales(actor: Actor, *, questions: list[int]) -> list[QuestionScale]:
    """The stored scale of each of `questions` (of the actor's brand), in id order."""
    return [
        QuestionScale(
            question_id=row["pk"],
            low=row["scale_min"],
            high=row["scale_max"],
            higher_is_better=row["polarity"] != Question.Polarity.LOWER_IS_BETTER,
            satisfied=frozenset(int(value) for value in row["satisfied_values"] or ()),
        )
        for row in Question.objects.filter(survey__brand=actor.brand, pk__in=questions)
        .order_by("pk")
        .values("pk", "scale_min", "scale_max", "polarity", "satisfied_values")
    ]


@dataclass(frozen=True)
class SideGroup:
    """Answers of one group counted on each question's good and bad side (a CES net index)."""

    period: date | None
    location_id: int | None
    touchpoint_id: int | None
    channel_id: int | None
    n: int
    good: int
    bad: int


def answer_side_groups(
    actor: Actor,
    *,
    sides: dict[int, tuple[frozenset[int], frozenset[int]]],
    by: tuple[str, ...] = (),
    location: Location | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> list[SideGroup]:
    """Scored answers of the questions in `sides` ({question id: (good points, bad points)})
    counted per group of `by`, like `metric_groups` (days local to each location).

    The rollups cannot give the bad side: they keep n, the satisfied (good) count and the sums
    of scores and squares per question, and those fix the count of a third set of points only
    when the scale has no neutral points. So this counts the answers themselves, in one GROUP BY
    per time zone in use (each location's day, as in the rollups), never loading the rows."""
    from django.db.models.functions import TruncDate

    from opencx.surveys.models import Answer

    unknown = [name for name in by if name not in GROUPS]
    if unknown:
        raise AppError(f"Cannot group by {unknown[0]!r}; use {', '.join(GROUPS)}.", field="by")
    grains = [name for name in by if name in GRAINS]
    if len(grains) > 1:
        raise AppError("Group by one of month, week or day at most.", field="by")
    if not sides:
        return []
    good = bad = Q(pk__isnull=True)  # false for every row: the neutral element of |
    for question_id, (good_points, bad_points) in sides.items():
        good |= Q(question_id=question_id, score__in=sorted(good_points))
        bad |= Q(question_id=question_id, score__in=sorted(bad_points))
    responses = Response.objects.filter(scope_filter(actor))
    if location is not None:
        responses = responses.filter(location__path__startswith=location.path)
    base = Answer.objects.filter(
        question_id__in=list(sides), score__isnull=False, response__in=responses
    )
    fields = {"location": "response__location_id", "touchpoint": "response__touchpoint_id"}
    fields["channel"] = "response__channel_id"
    keys = [fields[name] for name in by if name in fields]
    zones = (
        Location.objects.filter(brand=actor.brand)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    fold = {"month": month_of, "week": week_of, "day": lambda day: day}
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for zone in sorted(zones):
        qs = base.filter(response__location__timezone=zone)
        if since is not None or until is not None or grains:
            qs = qs.annotate(day=TruncDate("response__created_at", tzinfo=ZoneInfo(zone)))
        if since is not None:
            qs = qs.filter(day__gte=period_day(actor, since))
        if until is not None:
            qs = qs.filter(day__lt=period_day(actor, until))
        values = [*keys, "day"] if grains else keys
        counts = {
            "n": Count("id"),
            "good": Count("id", filter=good),
            "bad": Count("id", filter=bad),
        }
        rows = (
            qs.order_by().values(*values).annotate(**counts) if values else [qs.aggregate(**counts)]
        )
        for row in rows:
            if not row["n"]:
                continue
            key = (
                fold[grains[0]](row["day"]) if grains else None,
                row.get("response__location_id"),
                row.get("response__touchpoint_id"),
                row.get("response__channel_id"),
            )
            total = totals[key]
            total[0] += row["n"]
            total[1] += row["good"]
            total[2] += row["bad"]

    def order(key: tuple) -> tuple:
        return tuple((value is not None, value or 0) for value in key)

    return [SideGroup(*key, *totals[key]) for key in sorted(totals, key=order)]


# --- report selectors ---
# Reads behind the Insights pages, the drill-down and the exports. Scores come from grouped
# additive counts; only the key-driver and response-time analyses fetch the rows they need.

REPORT_KINDS = ("nps", "csat", "ces")
NPS_SCORE_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
SHARE_SCORE_BANDS = ("satisfied", "unsatisfied")


@dataclass(frozen=True)
class HeadlineTally:
    """Additive counts behind one headline score: NPS uses promoters/detractors, CSAT and CES
    use `satisfied` (by each headline question's stored satisfied set)."""

    n: int = 0
    promoters: int = 0
    detractors: int = 0
    satisfied: int = 0

    def __add__(self, other: "HeadlineTally") -> "HeadlineTally":
        return HeadlineTally(
            self.n + other.n,
            self.promoters + other.promoters,
            self.detractors + other.detractors,
            self.satisfied + other.satisfied,
        )

    @property
    def nps(self) -> NpsCounts:
        return NpsCounts(self.n, self.promoters, self.detractors)


def _satisfied_sets(actor: Actor) -> dict[int, tuple[str, frozenset[int]]]:
    """survey id -> (kind, satisfied set) for the brand's NPS/CSAT/CES headline questions."""
    sets: dict[int, tuple[str, frozenset[int]]] = {}
    for question in (
        Question.objects.filter(survey__brand=actor.brand, survey__kind__in=REPORT_KINDS)
        .order_by("survey_id", "position", "pk")
        .values("survey_id", "survey__kind", "kind", "satisfied_values")
    ):
        if question["kind"] == question["survey__kind"] and question["survey_id"] not in sets:
            sets[question["survey_id"]] = (
                question["kind"],
                frozenset(question["satisfied_values"] or []),
            )
    return sets


def headline_tallies(
    actor: Actor,
    *,
    location: Location | None,
    since: datetime,
    until: datetime | None = None,
    by: str = "month",
) -> dict[str, dict]:
    """kind -> {group: HeadlineTally} from the rollups of each survey's headline question;
    `by` is "month" (first day of the month) or "location" (location id)."""
    result: dict[str, dict] = {}
    for kind in REPORT_KINDS:
        groups = metric_groups(
            actor,
            questions=headline_question_ids(actor, kind=kind),
            by=(by,),
            location=location,
            since=since,
            until=until,
        )
        result[kind] = {
            (group.location_id if by == "location" else group.period): HeadlineTally(
                group.n, group.promoters, group.detractors, group.satisfied
            )
            for group in groups
        }
    return result


def report_locations(actor: Actor, *, location: Location | None) -> list[Location]:
    """Locations in the actor's reach (and the chosen location's subtree), in tree order."""
    qs = Location.objects.filter(brand=actor.brand)
    if not actor.is_brand_wide:
        qs = qs.filter(path__startswith=actor.scope.path)
    if location is not None:
        qs = qs.filter(path__startswith=location.path)
    return list(qs.order_by("path"))


def late_orders_by_month(actor: Actor, *, location: Location | None, since: datetime):
    """[(month, shipped, late)]: orders with a promised date, and those delivered after it."""
    from django.db.models import F

    from opencx.contacts.selectors import orders_visible_to

    rows = (
        orders_visible_to(actor, location=location)
        .filter(placed_at__gte=since, promised_at__isnull=False)
        .annotate(month=TruncMonth("placed_at"))
        .values("month")
        .annotate(
            shipped=Count("id"),
            late=Count("id", filter=Q(delivered_at__gt=F("promised_at"))),
        )
        .order_by("month")
    )
    return [(row["month"].date(), row["shipped"], row["late"]) for row in rows]


CHECKOUT_STEPS = ("cart", "shipping", "payment", "review")


def checkout_sessions(actor: Actor, *, location: Location | None, since: datetime):
    """[(step, sessions)] from add to cart through the checkout steps to purchase: the number
    of distinct web sessions that reached each step."""
    from opencx.contacts.models import WebEvent

    base = WebEvent.objects.filter(scope_filter(actor), occurred_at__gte=since)
    if location is not None:
        base = base.filter(location__path__startswith=location.path)
    reached: dict[str, int] = {}
    for kind in ("add_to_cart", "purchase"):
        reached[kind] = base.filter(kind=kind).values("session_id").distinct().count()
    for step in CHECKOUT_STEPS:
        reached[step] = (
            base.filter(kind="checkout", path__endswith=f"/checkout/{step}")
            .values("session_id")
            .distinct()
            .count()
        )
    order = ("add_to_cart", *CHECKOUT_STEPS, "purchase")
    return [(step, reached[step]) for step in order]


def conversation_reply_rows(actor: Actor, *, location: Location | None, since: datetime):
    """(created_at, first_reply_at or None, location timezone, opening hours, location id,
    location name) of conversations opened since `since`: the rows first-response times are
    computed from."""
    from opencx.inbox.selectors import conversations_visible_to

    return list(
        conversations_visible_to(actor, location=location)
        .filter(created_at__gte=since)
        .values_list(
            "created_at",
            "first_reply_at",
            "location__timezone",
            "location__opening_hours",
            "location_id",
            "location__name",
        )
        .order_by("created_at")
    )


def driver_rows(
    actor: Actor, *, location: Location | None, since: datetime, limit: int = 20000
) -> list[dict]:
    """NPS responses for key-driver analysis, newest first (at most `limit`): score, comment,
    whether the location is online, and whether the customer had a late delivery (an order
    delivered after its promised date) in the 30 days before answering."""
    from datetime import timedelta

    from django.db.models import F

    from opencx.contacts.selectors import orders_visible_to

    rows = list(
        _responses(actor, location, since)
        .filter(survey__kind="nps")
        .values("id", "score", "comment", "contact_id", "created_at", "location__kind")
        .order_by("-created_at", "-id")[:limit]
    )
    contact_ids = {row["contact_id"] for row in rows if row["contact_id"]}
    late: dict[int, list] = {}
    if contact_ids:
        window = timedelta(days=30)
        for contact_id, delivered in (
            orders_visible_to(actor)
            .filter(
                contact_id__in=contact_ids,
                promised_at__isnull=False,
                delivered_at__gt=F("promised_at"),
                delivered_at__gte=since - window,
            )
            .values_list("contact_id", "delivered_at")
        ):
            late.setdefault(contact_id, []).append(delivered)
    for row in rows:
        moments = late.get(row["contact_id"], ())
        row["late_delivery"] = any(
            row["created_at"] - timedelta(days=30) <= moment <= row["created_at"]
            for moment in moments
        )
        row["online"] = row.pop("location__kind") == "online"
    return rows


def report_responses(
    actor: Actor,
    *,
    location: Location | None,
    kind: str = "",
    within: Location | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    band: str = "",
    comment_contains: tuple[str, ...] = (),
):
    """Responses across surveys behind a chart point or a table row, newest first.

    `kind` is nps/csat/ces; `band` promoter/passive/detractor (NPS) or satisfied/unsatisfied
    (by each survey's headline satisfied set); `comment_contains` keeps responses whose comment
    contains any of the given words (case-insensitive)."""
    qs = Response.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    if within is not None:
        qs = qs.filter(location__path__startswith=within.path)
    if kind in REPORT_KINDS:
        qs = qs.filter(survey__kind=kind)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if band in NPS_SCORE_BANDS:
        low, high = NPS_SCORE_BANDS[band]
        qs = qs.filter(survey__kind="nps", score__gte=low, score__lte=high)
    elif band in SHARE_SCORE_BANDS:
        satisfied = Q()
        for survey_id, (survey_kind, values) in _satisfied_sets(actor).items():
            if survey_kind != "nps":
                satisfied |= Q(survey_id=survey_id, score__in=sorted(values))
        share = qs.filter(survey__kind__in=("csat", "ces"), score__isnull=False)
        qs = share.filter(satisfied) if band == "satisfied" else share.exclude(satisfied)
    if comment_contains:
        words = Q()
        for word in comment_contains:
            words |= Q(comment__icontains=word)
        qs = qs.filter(words)
    return qs.select_related("survey", "location", "contact", "channel").order_by(
        "-created_at", "-pk"
    )


# --- metric API selectors ---
# Rows for the library metrics that need them (resolution times, orders, web sessions), in the
# actor's reach and the chosen location's subtree; `since` includes, `until` excludes.


def _period(qs: QuerySet, field: str, since: datetime | None, until: datetime | None):
    if since is not None:
        qs = qs.filter(**{f"{field}__gte": since})
    if until is not None:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


def resolution_rows(
    actor: Actor,
    *,
    location: Location | None,
    since: datetime | None,
    until: datetime | None = None,
) -> list[tuple]:
    """(conversation id, created_at, resolved_at or None, location timezone, opening hours) of
    conversations opened in the period; resolved_at is None unless the conversation is resolved
    now (a reopened one is still waiting)."""
    from opencx.inbox.models import Conversation
    from opencx.inbox.selectors import conversations_visible_to

    qs = _period(conversations_visible_to(actor, location=location), "created_at", since, until)
    return [
        (pk, created, resolved if status == Conversation.Status.RESOLVED else None, tz, hours)
        for pk, created, resolved, status, tz, hours in qs.values_list(
            "pk",
            "created_at",
            "resolved_at",
            "status",
            "location__timezone",
            "location__opening_hours",
        ).order_by("created_at", "pk")
    ]


def customer_order_rows(
    actor: Actor,
    *,
    location: Location | None,
    since: datetime | None,
    until: datetime | None = None,
    currency: str | None = None,
) -> list[tuple]:
    """(contact id, placed_at, total, currency) of orders of known customers in the period,
    oldest first; orders without a contact cannot be told apart by customer and are left out."""
    from opencx.contacts.selectors import orders_visible_to

    qs = _period(orders_visible_to(actor, location=location), "placed_at", since, until).filter(
        contact__isnull=False
    )
    if currency:
        qs = qs.filter(currency=currency.upper())
    return list(
        qs.values_list("contact_id", "placed_at", "total", "currency").order_by("placed_at", "pk")
    )


def web_session_rows(
    actor: Actor,
    *,
    location: Location | None,
    since: datetime | None,
    until: datetime | None = None,
) -> list[dict]:
    """One row per web session with an event in the period: session_id, location_id, first and
    last event time, page_views, interactions (events other than page views: searches, cart and
    checkout steps, purchases) and purchases, counting events in the period."""
    from django.db.models import Max, Min

    from opencx.contacts.models import WebEvent

    qs = WebEvent.objects.filter(scope_filter(actor))
    if location is not None:
        qs = qs.filter(location__path__startswith=location.path)
    qs = _period(qs, "occurred_at", since, until)
    return list(
        qs.order_by()
        .values("session_id", "location_id")
        .annotate(
            first_at=Min("occurred_at"),
            last_at=Max("occurred_at"),
            page_views=Count("id", filter=Q(kind=WebEvent.Kind.PAGE_VIEW)),
            interactions=Count("id", filter=~Q(kind=WebEvent.Kind.PAGE_VIEW)),
            purchases=Count("id", filter=Q(kind=WebEvent.Kind.PURCHASE)),
        )
        .order_by("session_id", "location_id")
    )
