"""The Topics page: per topic of the brand's taxonomy, how often it comes up, how negative it
is and what it does to NPS and stars, with one topic's weekly trend. Every number links to the
feedback list filtered to the items behind it; every table downloads (`?export=csv&table=`).
"""

from datetime import date
from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.feedback.models import FeedbackItem
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, location_choices, location_filter

from . import charts, exports, facade, topics
from .exports import Table
from .facade import TrendPoint
from .text_analysis import text_settings_of, topic_names


def _date_param(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


def _filters(request) -> topics.TopicFilters:
    default_from, default_to = topics.default_period(timezone.localdate())
    date_from = _date_param(request, "from") or default_from
    date_to = _date_param(request, "to") or default_to
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    kind = request.GET.get("kind", "")
    return topics.TopicFilters(
        date_from=date_from,
        date_to=date_to,
        within=location_filter(request),
        kind=kind if kind in FeedbackItem.Kind.values else "",
    )


def feedback_url(request, filters: topics.TopicFilters, **params) -> str:
    """The feedback list behind a figure: the page's filters plus `params` (empties dropped)."""
    query = {
        "from": filters.date_from.isoformat(),
        "to": filters.date_to.isoformat(),
        "location": filters.within.pk if filters.within else "",
        "kind": filters.kind,
        **params,
    }
    url = reverse("feedback:list", args=[request.actor.brand.slug])
    return f"{url}?{urlencode({k: v for k, v in query.items() if v not in ('', None)})}"


def _round(value, digits: int = 1):
    return None if value is None else round(value, digits)


def _links(request, filters, topic: topics.TopicFigures) -> dict:
    def drill(**params):
        return feedback_url(request, filters, topic=topic.id, **params)

    return {
        "topic": topic,
        "href": drill(),
        "negative_href": drill(sentiment="negative"),
        "nps_href": drill(kind="survey"),
        "detractors_href": drill(nps="detractor"),
        "stars_href": drill(kind="review"),
        "trend_href": "?" + urlencode(_page_query(filters, topic=topic.id)) + "#trend",
    }


def _page_query(filters: topics.TopicFilters, **extra) -> dict:
    query = {
        "from": filters.date_from.isoformat(),
        "to": filters.date_to.isoformat(),
        "location": filters.within.pk if filters.within else "",
        "kind": filters.kind,
        **extra,
    }
    return {k: v for k, v in query.items() if v not in ("", None)}


def _topics_table(overview: topics.TopicOverview) -> Table:
    return Table(
        name="topics",
        title="Topics",
        headers=[
            "Topic", "Mentions", "Share of analysed %", "Negative %", "Negative 95% low",
            "Negative 95% high", "With sentiment (n)", "Mean sentiment", "NPS with",
            "n with", "NPS without", "n without", "NPS difference", "Difference 95% low",
            "Difference 95% high", "p-value", "Holm-adjusted p", "Stars with", "Reviews with",
            "Stars without", "Reviews without", "Stars difference", "Stars p-value",
            "Thin sample (n < 30)",
        ],
        rows=[
            [
                t.name, t.mentions, _round(t.share.value), _round(t.negative.value),
                _round(t.negative.ci_low), _round(t.negative.ci_high), t.negative.n,
                _round(t.sentiment.value, 2), _round(t.nps_with.value), t.nps_with.n,
                _round(t.nps_without.value), t.nps_without.n, _round(t.nps_impact),
                _round(t.nps_change.ci_low) if t.nps_change else None,
                _round(t.nps_change.ci_high) if t.nps_change else None,
                _round(t.nps_change.p_value, 4) if t.nps_change else None,
                _round(t.nps_p_adjusted, 4), _round(t.stars_with.value, 2), t.stars_with.n,
                _round(t.stars_without.value, 2), t.stars_without.n,
                _round(t.stars_change.difference, 2) if t.stars_change else None,
                _round(t.stars_change.p_value, 4) if t.stars_change else None, t.is_thin,
            ]
            for t in overview.topics
        ],
    )  # fmt: skip


def _impact_chart(request, overview, filters) -> charts.ChartBlock | None:
    """NPS with the topic minus without, one bar per topic with NPS comments on both sides."""
    compared = [t for t in overview.topics if t.nps_change is not None]
    if not compared:
        return None
    spec = charts.bar_chart(
        label="NPS with the topic minus without",
        unit=" pts",
        horizontal=True,
        bars=[
            {
                "x": t.name,
                "y": t.nps_change.difference,
                "low": t.nps_change.ci_low,
                "high": t.nps_change.ci_high,
                "n": t.nps_with.n,
                "thin": t.nps_with.is_thin,
                "href": feedback_url(request, filters, topic=t.id, kind="survey"),
            }
            for t in compared
            if t.nps_change is not None
        ],
    )
    return charts.ChartBlock(
        id="impact",
        title="What each topic does to NPS",
        spec=spec,
        table=Table(
            name="nps-impact",
            title="NPS impact by topic",
            headers=["Topic", "Difference (points)", "95% low", "95% high", "n with", "Thin"],
            rows=[
                [
                    t.name,
                    _round(t.nps_change.difference),
                    _round(t.nps_change.ci_low),
                    _round(t.nps_change.ci_high),
                    t.nps_with.n,
                    t.nps_with.is_thin,
                ]
                for t in compared
                if t.nps_change is not None
            ],
        ),
        note="Bars below zero: NPS of survey comments with the topic is lower than without it. "
        "Whiskers: 95% interval; pale bars: fewer than 30 comments with the topic.",
        tall=True,
    )


def _trend_charts(request, filters, topic_id: str, name: str, weeks) -> list[charts.ChartBlock]:
    def week_href(week: topics.TopicWeek, **params) -> str:
        return feedback_url(
            request,
            topics.TopicFilters(
                date_from=max(week.week, filters.date_from),
                date_to=min(week.until, filters.date_to),
                within=filters.within,
                kind=filters.kind,
            ),
            topic=topic_id,
            **params,
        )

    def label(week: topics.TopicWeek) -> str:
        return week.week.strftime("%d %b %Y")

    mentions = charts.ChartBlock(
        id="trend-mentions",
        title=f"{name}: mentions by week",
        spec=charts.bar_chart(
            label="Mentions",
            minimum=0,
            bars=[
                {"x": label(w), "y": w.mentions, "n": w.mentions, "href": week_href(w)}
                for w in weeks
            ],
        ),
        table=Table(
            name="trend-mentions",
            title=f"{name} mentions by week",
            headers=["Week (Monday)", "Mentions"],
            rows=[[w.week, w.mentions] for w in weeks],
        ),
    )
    rated = [w for w in weeks if w.negative.n]
    negative = charts.ChartBlock(
        id="trend-negative",
        title=f"{name}: negative share by week",
        spec=charts.band_chart(
            label="Negative %",
            kind="share",
            points=[TrendPoint(month=w.week, score=w.negative) for w in rated],
            x_label=lambda point: point.month.strftime("%d %b %Y"),
            href=lambda point: week_href(
                next(w for w in rated if w.week == point.month), sentiment="negative"
            ),
        ),
        table=Table(
            name="trend-negative",
            title=f"{name} negative share by week",
            headers=["Week (Monday)", "Negative %", "95% low", "95% high", "n", "Thin (n < 30)"],
            rows=[
                [
                    w.week,
                    _round(w.negative.value),
                    _round(w.negative.ci_low),
                    _round(w.negative.ci_high),
                    w.negative.n,
                    w.negative.is_thin,
                ]
                for w in rated
            ],
        ),
        note="Weeks with no mention are left out; hollow triangles: fewer than 30 mentions.",
    )
    return [mentions, negative]


@brand_page
@require_safe
def topic_overview(request):
    actor, location = request.actor, request.current_location
    actor.require(Capability.VIEW)
    filters = _filters(request)
    overview = topics.topic_overview(actor, location=location, filters=filters)
    names = topic_names(text_settings_of(actor.brand))
    chosen = request.GET.get("topic", "")
    if chosen not in names:
        chosen = next((t.id for t in overview.topics if t.mentions), "")
    trend = []
    if chosen:
        weeks = topics.topic_weeks(actor, location=location, filters=filters, topic=chosen)
        trend = _trend_charts(request, filters, chosen, names[chosen], weeks)
    impact = _impact_chart(request, overview, filters)
    tables = [_topics_table(overview), *(block.table for block in [impact, *trend] if block)]
    download = exports.export_response(request, tables, page_name="topics")
    if download is not None:
        return download
    return render(
        request,
        "insights/topics.html",
        {
            "overview": overview,
            "rows": [_links(request, filters, topic) for topic in overview.topics],
            "filters": filters,
            "location_id": filters.within.pk if filters.within else None,
            "kinds": FeedbackItem.Kind.choices,
            "locations": location_choices(actor, location),
            "chosen": chosen,
            "chosen_name": names.get(chosen, ""),
            "impact": impact,
            "trend": trend,
            "base_query": urlencode(_page_query(filters, topic=chosen)),
            "all_href": feedback_url(request, filters),
            "no_topic_href": feedback_url(request, filters, topic="none"),
            "not_analysed_href": feedback_url(request, filters, sentiment="none"),
            "nps_href": feedback_url(request, filters, kind="survey"),
            "stars_href": feedback_url(request, filters, kind="review"),
            "thin": facade.THIN_SAMPLE,
        },
    )
