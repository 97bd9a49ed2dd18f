"""API routes for the metrics: NPS, CSAT and CES from the rollups; first-response times.

Scores are computed from summed rollup counts (exact, see insights.models), so any grouping
costs the same whatever the number of responses. Every row carries its n and 95% interval.
"""

from datetime import date, timedelta

from django.utils import timezone
from ninja import Field as QueryField
from ninja import Query, Router, Schema

from opencx.api.errors import READ_ERRORS
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError
from opencx.platform.selectors import location_get

from . import facade, selectors
from .schemas import MetricOut, ResponseTimesOut

router = Router(tags=["metrics"])

SLA_HOURS = 24.0
RESPONSE_TIME_DAYS = 90


class MetricParams(Schema):
    by: str = QueryField(
        "",
        description="Comma-separated group keys: location, touchpoint, channel and at most one "
        "of month, week, day (e.g. `location,month`). Empty: one row for the whole period.",
    )
    since: date | None = QueryField(None, description="First day (inclusive)")
    until: date | None = QueryField(None, description="Day the period ends before (exclusive)")
    location: int | None = QueryField(None, description="Only this location and its subtree")
    survey: int | None = QueryField(None, description="Only this survey's headline question")
    question: int | None = QueryField(None, description="Only this question")


def _metric(request, slug: str, kind: str, params: MetricParams) -> dict:
    actor = actor_of(request, slug)
    by = tuple(part.strip() for part in params.by.split(",") if part.strip())
    if len(set(by)) != len(by):
        raise AppError("Each group key may be given once.", field="by")
    if params.since and params.until and params.until <= params.since:
        raise AppError("`until` must be after `since`.", field="until")
    place = location_get(actor, pk=params.location) if params.location is not None else None
    questions = selectors.metric_questions(
        actor, kind=kind, survey_id=params.survey, question_id=params.question
    )
    groups = selectors.metric_groups(
        actor, questions=questions, by=by, location=place, since=params.since, until=params.until
    )
    rows = []
    for group in groups:
        if kind == "nps":
            score = facade.nps_score(
                selectors.NpsCounts(group.n, group.promoters, group.detractors)
            )
            counts = {
                "promoters": group.promoters,
                "passives": group.passives,
                "detractors": group.detractors,
            }
        else:
            score = facade.share_score(n=group.n, satisfied=group.satisfied)
            counts = {"satisfied": group.satisfied}
        rows.append(
            {
                "period": group.period,
                "location_id": group.location_id,
                "touchpoint_id": group.touchpoint_id,
                "channel_id": group.channel_id,
                "value": score.value,
                "n": score.n,
                "ci_low": score.ci_low,
                "ci_high": score.ci_high,
                **counts,
            }
        )
    return {
        "metric": kind,
        "by": list(by),
        "since": params.since,
        "until": params.until,
        "questions": questions,
        "rows": rows,
    }


@router.get("/brands/{slug}/metrics/nps", response={200: MetricOut, **READ_ERRORS})
def metric_nps(request, slug: str, params: Query[MetricParams]):
    """Net Promoter Score (% promoters − % detractors) with its adjusted-Wald 95% interval.

    By default every NPS survey's headline question counts. Days are each location's own
    calendar days; only answers within the caller's reach are counted.
    """
    return _metric(request, slug, "nps", params)


@router.get("/brands/{slug}/metrics/csat", response={200: MetricOut, **READ_ERRORS})
def metric_csat(request, slug: str, params: Query[MetricParams]):
    """CSAT: % of answers in each question's stored satisfied set, with a Wilson 95% interval."""
    return _metric(request, slug, "csat", params)


@router.get("/brands/{slug}/metrics/ces", response={200: MetricOut, **READ_ERRORS})
def metric_ces(request, slug: str, params: Query[MetricParams]):
    """CES: % of answers in each question's stored "easy" set, with a Wilson 95% interval."""
    return _metric(request, slug, "ces", params)


@router.get(
    "/brands/{slug}/metrics/first-response-time",
    response={200: ResponseTimesOut, **READ_ERRORS},
)
def metric_first_response_time(
    request,
    slug: str,
    since: date | None = None,
    until: date | None = None,
    location: int | None = None,
    sla_hours: float = Query(SLA_HOURS, gt=0, description="Target for the first reply, hours"),
):
    """First-response time of conversations opened in the period (default: the last 90 days).

    Conversations still waiting are censored at now (Kaplan–Meier medians), never counted as
    0; business hours use each location's opening hours.
    """
    actor = actor_of(request, slug)
    now = timezone.now()
    since = since or timezone.localdate(now) - timedelta(days=RESPONSE_TIME_DAYS)
    if until is not None and until <= since:
        raise AppError("`until` must be after `since`.", field="until")
    place = location_get(actor, pk=location) if location is not None else None
    start = selectors.day_start(actor, since)
    rows = selectors.conversation_reply_rows(actor, location=place, since=start)
    if until is not None:
        end = selectors.day_start(actor, until)
        rows = [row for row in rows if row[0] < end]
    times = facade.first_response_times(rows, now=now, sla_hours=sla_hours)
    return {
        "since": since,
        "until": until,
        "conversations": times.conversations,
        "answered": times.answered,
        "unanswered": times.unanswered,
        "median_hours": times.median_hours,
        "p90_hours": times.p90_hours,
        "median_business_hours": times.median_business_hours,
        "p90_business_hours": times.p90_business_hours,
        "sla_hours": times.sla_hours,
        "within_sla": times.within_sla.value,
        "within_sla_n": times.within_sla.n,
        "within_sla_ci_low": times.within_sla.ci_low,
        "within_sla_ci_high": times.within_sla.ci_high,
        "method": times.method,
    }
