"""The Topics page's figures: what the feedback of a period talks about, and what it costs.

Every figure is read from the items the feedback list shows for the same filters (period,
location subtree, kind), narrowed to the items text analytics has analysed, so a number on the
page and the list it drills down to always agree. The counts are additive (one grouped query
over the item × topic join, one total); `facade` turns them into scores with n and intervals.

Per topic: mentions, their share of the analysed items, the negative share (Wilson interval) and
mean sentiment score; for comments on NPS surveys, the NPS of responses whose comment has the
topic against those whose comment has not (adjusted-Wald test, Holm-adjusted over the topics);
for rated reviews, mean stars with and without (Welch). Topics are ranked by how much they
lower NPS, then by negative share.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from opencx.analytics.result import Score
from opencx.feedback import selectors as feedback_selectors
from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.platform.actor import Actor
from opencx.platform.models import Location

from . import facade
from .selectors import NpsCounts
from .text_analysis import text_settings_of, topic_names

PERIOD_DAYS = 90
NEGATIVE = "negative"
NPS_COMMENT = Q(
    kind=FeedbackItem.Kind.SURVEY,
    response__survey__kind="nps",
    response__score__isnull=False,
)
RATED_REVIEW = Q(kind=FeedbackItem.Kind.REVIEW, rating__isnull=False)
_PROMOTER = Q(response__score__gte=9)
_DETRACTOR = Q(response__score__lte=6)


@dataclass(frozen=True)
class TopicFilters:
    """What the page looks at: an inclusive period of days, a location subtree, a kind."""

    date_from: date
    date_to: date
    within: Location | None = None
    kind: str = ""


def default_period(today: date) -> tuple[date, date]:
    """The last PERIOD_DAYS days, today included."""
    return today - timedelta(days=PERIOD_DAYS - 1), today


@dataclass(frozen=True)
class Tally:
    """Additive counts of one group of analysed items (a topic, or all of them)."""

    items: int = 0
    rated: int = 0  # items with a sentiment
    negative: int = 0
    score_n: int = 0
    score_sum: float = 0.0
    score_sq: float = 0.0
    nps: NpsCounts = NpsCounts(0, 0, 0)
    stars_n: int = 0
    stars_sum: float = 0.0
    stars_sq: float = 0.0

    def minus(self, other: "Tally") -> "Tally":
        """The items of this group that are not in `other` (a subgroup of it)."""
        return Tally(
            items=self.items - other.items,
            rated=self.rated - other.rated,
            negative=self.negative - other.negative,
            score_n=self.score_n - other.score_n,
            score_sum=self.score_sum - other.score_sum,
            score_sq=self.score_sq - other.score_sq,
            nps=NpsCounts(
                self.nps.n - other.nps.n,
                self.nps.promoters - other.nps.promoters,
                self.nps.detractors - other.nps.detractors,
            ),
            stars_n=self.stars_n - other.stars_n,
            stars_sum=self.stars_sum - other.stars_sum,
            stars_sq=self.stars_sq - other.stars_sq,
        )

    @property
    def stars(self) -> tuple[int, float, float]:
        return (self.stars_n, self.stars_sum, self.stars_sq)


_TALLY = {
    "items": Count("pk"),
    "rated": Count("pk", filter=~Q(sentiment="")),
    "negative": Count("pk", filter=Q(sentiment=NEGATIVE)),
    "score_n": Count("sentiment_score"),
    "score_sum": Sum("sentiment_score"),
    "score_sq": Sum(F("sentiment_score") * F("sentiment_score")),
    "nps_n": Count("pk", filter=NPS_COMMENT),
    "promoters": Count("pk", filter=NPS_COMMENT & _PROMOTER),
    "detractors": Count("pk", filter=NPS_COMMENT & _DETRACTOR),
    "stars_n": Count("pk", filter=RATED_REVIEW),
    "stars_sum": Sum("stars", filter=RATED_REVIEW),
    "stars_sq": Sum(F("stars") * F("stars"), filter=RATED_REVIEW),
}


def _tally(row: dict) -> Tally:
    return Tally(
        items=row["items"] or 0,
        rated=row["rated"] or 0,
        negative=row["negative"] or 0,
        score_n=row["score_n"] or 0,
        score_sum=float(row["score_sum"] or 0.0),
        score_sq=float(row["score_sq"] or 0.0),
        nps=NpsCounts(row["nps_n"] or 0, row["promoters"] or 0, row["detractors"] or 0),
        stars_n=row["stars_n"] or 0,
        stars_sum=float(row["stars_sum"] or 0.0),
        stars_sq=float(row["stars_sq"] or 0.0),
    )


def items_in_view(
    actor: Actor, *, location: Location | None, filters: TopicFilters
) -> QuerySet[FeedbackItem]:
    """The items the feedback list shows for these filters (each with `stars`)."""
    return feedback_selectors.feedback_list(
        actor,
        location=location,
        within=filters.within,
        kind=filters.kind,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


def analysed_items(
    actor: Actor, *, location: Location | None, filters: TopicFilters
) -> QuerySet[FeedbackItem]:
    return items_in_view(actor, location=location, filters=filters).filter(
        analysed_at__isnull=False
    )


# --- per topic --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicFigures:
    id: str
    name: str
    mentions: int
    share: Score  # of the analysed items, in %
    negative: Score  # % of its mentions with negative sentiment
    sentiment: Score  # mean sentiment score, -1..1
    nps_with: Score
    nps_without: Score
    nps_change: facade.Change | None  # NPS with minus without
    nps_p_adjusted: float | None  # Holm over the topics compared
    stars_with: Score
    stars_without: Score
    stars_change: facade.ChangeTest | None  # stars with minus without

    @property
    def nps_impact(self) -> float | None:
        """NPS points the topic's presence goes with (negative: it lowers NPS)."""
        return None if self.nps_change is None else self.nps_change.difference

    @property
    def lowers_nps(self) -> bool:
        """Comments with the topic have a significantly lower NPS (after Holm's adjustment)."""
        return (
            self.nps_p_adjusted is not None
            and self.nps_p_adjusted < facade.ALPHA
            and self.nps_change is not None
            and self.nps_change.difference < 0
        )

    @property
    def is_thin(self) -> bool:
        return self.mentions < facade.THIN_SAMPLE


@dataclass(frozen=True)
class TopicOverview:
    filters: TopicFilters
    in_view: int  # items the list shows for the filters, analysed or not
    analysed: int
    no_topic: int  # analysed items in none of the taxonomy's topics
    nps: Score  # NPS of every analysed NPS survey comment in view
    stars: Score  # mean stars of every analysed rated review in view
    topics: Sequence[TopicFigures]

    @property
    def not_analysed(self) -> int:
        return self.in_view - self.analysed

    @property
    def no_topic_share(self) -> Score:
        return facade.share_score(n=self.analysed, satisfied=self.no_topic)


def _sort_key(topic: TopicFigures):
    # Topics that lower NPS most come first; no NPS evidence counts as no effect.
    return (
        topic.mentions == 0,
        topic.nps_impact if topic.nps_impact is not None else 0.0,
        -(topic.negative.value or 0.0),
        -topic.mentions,
        topic.name,
    )


def topic_overview(
    actor: Actor, *, location: Location | None, filters: TopicFilters
) -> TopicOverview:
    """Every topic of the brand's taxonomy with its figures, the most harmful first."""
    names = topic_names(text_settings_of(actor.brand))
    scope = analysed_items(actor, location=location, filters=filters).order_by()
    total = _tally(scope.aggregate(**_TALLY))
    by_topic = {
        row["topic_rows__topic"]: _tally(row)
        for row in scope.values("topic_rows__topic").annotate(**_TALLY)
    }
    # Items in none of the taxonomy's topics: no topic row at all, or only retired topics.
    no_topic = scope.exclude(
        Exists(FeedbackTopic.objects.filter(item=OuterRef("pk"), topic__in=list(names)))
    ).count()
    rows = []
    for topic_id, name in names.items():
        with_topic = by_topic.get(topic_id, Tally())
        without = total.minus(with_topic)
        rows.append((topic_id, name, with_topic, without))
    changes = [facade.nps_change(w.nps, wo.nps) for _, _, w, wo in rows]
    compared = [index for index, change in enumerate(changes) if change is not None]
    adjusted = dict(
        zip(
            compared,
            facade.holm_adjusted([changes[index].p_value for index in compared]),  # type: ignore[union-attr]
            strict=True,
        )
    )
    topics = [
        TopicFigures(
            id=topic_id,
            name=name,
            mentions=with_topic.items,
            share=facade.share_score(n=total.items, satisfied=with_topic.items),
            negative=facade.share_score(n=with_topic.rated, satisfied=with_topic.negative),
            sentiment=facade.mean_score(
                n=with_topic.score_n,
                score_sum=with_topic.score_sum,  # type: ignore[arg-type]
                score_sq_sum=with_topic.score_sq,  # type: ignore[arg-type]
            ),
            nps_with=facade.nps_score(with_topic.nps),
            nps_without=facade.nps_score(without.nps),
            nps_change=changes[index],
            nps_p_adjusted=adjusted.get(index),
            stars_with=_mean(with_topic.stars),
            stars_without=_mean(without.stars),
            stars_change=facade.mean_difference(with_topic.stars, without.stars),
        )
        for index, (topic_id, name, with_topic, without) in enumerate(rows)
    ]
    return TopicOverview(
        filters=filters,
        in_view=items_in_view(actor, location=location, filters=filters).count(),
        analysed=total.items,
        no_topic=no_topic,
        nps=facade.nps_score(total.nps),
        stars=_mean(total.stars),
        topics=sorted(topics, key=_sort_key),
    )


def _mean(sums: tuple[int, float, float]) -> Score:
    n, total, total_sq = sums
    return facade.mean_score(n=n, score_sum=total, score_sq_sum=total_sq)  # type: ignore[arg-type]


# --- weekly trend of one topic ----------------------------------------------------------------


@dataclass(frozen=True)
class TopicWeek:
    week: date  # its Monday
    mentions: int
    negative: Score  # % of the week's mentions with negative sentiment

    @property
    def until(self) -> date:
        return self.week + timedelta(days=6)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def topic_weeks(
    actor: Actor, *, location: Location | None, filters: TopicFilters, topic: str
) -> list[TopicWeek]:
    """Every week of the period (Monday first, weeks without mentions too), oldest first."""
    found = {
        row["week"].date() if hasattr(row["week"], "date") else row["week"]: row
        for row in analysed_items(actor, location=location, filters=filters)
        .filter(Exists(FeedbackTopic.objects.filter(item=OuterRef("pk"), topic=topic)))
        .order_by()
        .annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(
            mentions=Count("pk"),
            rated=Count("pk", filter=~Q(sentiment="")),
            negative=Count("pk", filter=Q(sentiment=NEGATIVE)),
        )
    }
    weeks = []
    week = week_start(filters.date_from)
    while week <= filters.date_to:
        row = found.get(week)
        weeks.append(
            TopicWeek(
                week=week,
                mentions=row["mentions"] if row else 0,
                negative=facade.share_score(
                    n=row["rated"] if row else 0, satisfied=row["negative"] if row else 0
                ),
            )
        )
        week += timedelta(days=7)
    return weeks
