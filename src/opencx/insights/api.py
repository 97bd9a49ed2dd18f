"""API routes for every metric: NPS, CSAT and CES from the rollups; response and resolution
times, orders, web sessions from the app's rows; usability figures from the caller's counts.

Scores are computed from summed rollup counts (exact, see insights.models), so any grouping
costs the same whatever the number of responses; only the CES net index counts answers (the
rollups keep no bad-side count). Every row carries its n and 95% interval.
"""

from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from ninja import Field as QueryField
from ninja import Query, Router, Schema

from opencx.api.errors import READ_ERRORS
from opencx.platform.api import actor_of
from opencx.platform.errors import AppError
from opencx.platform.selectors import location_get

from . import facade, selectors
from .schemas import (
    ChurnOut,
    ClvOut,
    CohortRetentionOut,
    ErrorRateIn,
    MetricOut,
    ResolutionTimesOut,
    ResponseTimesOut,
    ShareOut,
    TaskSuccessIn,
    TimeOnTaskIn,
    UxMetricOut,
)

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


def _metric(request, slug: str, kind: str, params: MetricParams, variant: str = "") -> dict:
    actor = actor_of(request, slug)
    variant = variant or {"nps": "nps", "csat": "share", "ces": "percent_agree"}[kind]
    by = tuple(part.strip() for part in params.by.split(",") if part.strip())
    if len(set(by)) != len(by):
        raise AppError("Each group key may be given once.", field="by")
    if params.since and params.until and params.until <= params.since:
        raise AppError("`until` must be after `since`.", field="until")
    place = location_get(actor, pk=params.location) if params.location is not None else None
    questions = selectors.metric_questions(
        actor, kind=kind, survey_id=params.survey, question_id=params.question
    )
    where = {"by": by, "location": place, "since": params.since, "until": params.until}
    if variant == "net":
        rows = _net_rows(actor, questions, where)
    else:
        if variant == "mean":
            _one_scale(actor, questions)
        groups = selectors.metric_groups(actor, questions=questions, **where)
        rows = [_group_row(kind, variant, group) for group in groups]
    return {
        "metric": kind,
        "variant": variant,
        "by": list(by),
        "since": params.since,
        "until": params.until,
        "questions": questions,
        "rows": rows,
    }


def _keys(group) -> dict:
    return {
        "period": group.period,
        "location_id": group.location_id,
        "touchpoint_id": group.touchpoint_id,
        "channel_id": group.channel_id,
    }


def _scored(score) -> dict:
    return {"value": score.value, "n": score.n, "ci_low": score.ci_low, "ci_high": score.ci_high}


def _group_row(kind: str, variant: str, group: selectors.MetricGroup) -> dict:
    if kind == "nps":
        score = facade.nps_score(selectors.NpsCounts(group.n, group.promoters, group.detractors))
        counts = {
            "promoters": group.promoters,
            "passives": group.passives,
            "detractors": group.detractors,
        }
    elif variant == "mean":
        score = facade.mean_score(
            n=group.n, score_sum=group.score_sum, score_sq_sum=group.score_sq_sum
        )
        counts = {"satisfied": group.satisfied}
    else:
        score = facade.share_score(n=group.n, satisfied=group.satisfied)
        counts = {"satisfied": group.satisfied}
    return {**_keys(group), **_scored(score), **counts}


def _one_scale(actor, questions: list[int]) -> None:
    """A mean over several questions needs them on one scale with one direction."""
    scales = {
        (scale.low, scale.high, scale.higher_is_better)
        for scale in selectors.question_scales(actor, questions=questions)
    }
    if len(scales) > 1:
        raise AppError(
            "The mean would mix questions on different scales or directions; choose one "
            "`survey` or `question`.",
            field="variant",
        )


def _net_rows(actor, questions: list[int], where: dict) -> list[dict]:
    """CES net index per group, counted from the answers (the rollups hold no bad-side count)."""
    sides = {}
    for scale in selectors.question_scales(actor, questions=questions):
        try:
            sides[scale.question_id] = facade.ces_sides(
                low=scale.low,
                high=scale.high,
                higher_is_better=scale.higher_is_better,
                satisfied=scale.satisfied,
            )
        except facade.MetricRefused as error:
            raise Unprocessable(
                f"Question {scale.question_id}: {error}", field="question"
            ) from error
    return [
        {
            **_keys(group),
            **_scored(facade.net_score(n=group.n, good=group.good, bad=group.bad)),
            "satisfied": group.good,
            "dissatisfied": group.bad,
        }
        for group in selectors.answer_side_groups(actor, sides=sides, **where)
    ]


@router.get("/brands/{slug}/metrics/nps", response={200: MetricOut, **READ_ERRORS})
def metric_nps(request, slug: str, params: Query[MetricParams]):
    """Net Promoter Score (% promoters − % detractors) with its adjusted-Wald 95% interval.

    By default every NPS survey's headline question counts. Days are each location's own
    calendar days; only answers within the caller's reach are counted.
    """
    return _metric(request, slug, "nps", params)


@router.get("/brands/{slug}/metrics/csat", response={200: MetricOut, **READ_ERRORS})
def metric_csat(
    request,
    slug: str,
    params: Query[MetricParams],
    variant: Literal["share", "mean"] = Query(
        "share",
        description="share: % of answers in each question's stored satisfied set (Wilson 95% "
        "interval); mean: the mean rating on the scale as given (Student-t 95% interval)",
    ),
):
    """CSAT: % satisfied (default) or the mean rating, from the rollups (exact).

    The mean needs the questions on one scale: with surveys on different scales, choose one
    `survey` or `question` (otherwise 400, field `variant`).
    """
    return _metric(request, slug, "csat", params, variant)


@router.get("/brands/{slug}/metrics/ces", response={200: MetricOut, **READ_ERRORS})
def metric_ces(
    request,
    slug: str,
    params: Query[MetricParams],
    variant: Literal["percent_agree", "mean", "net"] = Query(
        "percent_agree",
        description="percent_agree: % on the good side (each question's stored set, Wilson); "
        "mean: mean rating on the scale as given, never flipped (Student-t); net: % good side − "
        "% bad side, −100..100 (adjusted-Wald, as NPS)",
    ),
):
    """CES in the library's three variants, by each question's stored scale and direction.

    The good side is the question's stored satisfied set; for `net` the bad side is every
    point strictly worse than the scale's midpoint in its stored direction. `percent_agree` and
    `mean` come from the rollups; `net` counts the answers themselves, because the rollups keep
    no count of the bad side (it is fixed by n, the good count and the sums only on a scale
    without neutral points). A question whose stored scale cannot give a net index is 422.
    """
    return _metric(request, slug, "ces", params, variant)


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


# --- library metrics on the app's own rows: resolution times, orders, web sessions -----------


class Unprocessable(AppError):
    status = 422
    code = "invalid"


class PeriodParams(Schema):
    since: date | None = QueryField(None, description="First day (inclusive), brand time zone")
    until: date | None = QueryField(
        None, description="Day the period ends before (exclusive), brand time zone"
    )
    location: int | None = QueryField(None, description="Only this location and its subtree")


class SessionParams(PeriodParams):
    by: str = QueryField("", description="Empty: one row; `location`: one row per online shop")


def _scope(request, slug: str, params: PeriodParams):
    """(actor, location or None, start datetime or None, end datetime or None)."""
    actor = actor_of(request, slug)
    if params.since and params.until and params.until <= params.since:
        raise AppError("`until` must be after `since`.", field="until")
    place = location_get(actor, pk=params.location) if params.location is not None else None
    start = selectors.day_start(actor, params.since) if params.since else None
    end = selectors.day_start(actor, params.until) if params.until else None
    return actor, place, start, end


def _share_rows(shares) -> list[dict]:
    return [
        {
            "location_id": share.location_id,
            "value": share.score.value,
            "n": share.score.n,
            "ci_low": share.score.ci_low,
            "ci_high": share.score.ci_high,
            "hits": share.hits,
        }
        for share in shares
    ]


def _by_location(by: str) -> bool:
    if by.strip() not in ("", "location"):
        raise AppError("Group by `location` or nothing.", field="by")
    return by.strip() == "location"


@router.get(
    "/brands/{slug}/metrics/resolution-time",
    response={200: ResolutionTimesOut, **READ_ERRORS},
)
def metric_resolution_time(request, slug: str, params: Query[PeriodParams]):
    """Resolution time of conversations opened in the period (default: the last 90 days), from
    creation to resolution, in calendar hours and in business hours (each location's opening
    hours in its own time zone; a location without opening hours counts every hour).

    Conversations not resolved now (open, pending, snoozed or reopened) are right-censored at
    now: they enter the Kaplan–Meier median and p90 as "at least this long", never as 0, and
    are left out of the mean (see `note`).
    """
    now = timezone.now()
    if params.since is None:
        params.since = timezone.localdate(now) - timedelta(days=RESPONSE_TIME_DAYS)
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.resolution_rows(actor, location=place, since=start, until=end)
    times = facade.resolution_times(rows, now=now)
    summaries = [("calendar", times.calendar)]
    if times.business is not None:
        summaries.append(("business", times.business))
    out_rows = [
        {
            "statistic": statistic,
            "clock": clock,
            "value": score.value,
            "n": score.n,
            "ci_low": score.ci_low,
            "ci_high": score.ci_high,
        }
        for clock, summary in summaries
        for statistic, score in (
            ("median", summary.median),
            ("p90", summary.p90),
            ("mean", summary.mean),
        )
    ]
    return {
        "since": params.since,
        "until": params.until,
        "conversations": times.conversations,
        "resolved": times.resolved,
        "waiting": times.waiting,
        "business_hours_known": times.business is not None,
        "note": times.calendar.note,
        "rows": out_rows,
    }


@router.get("/brands/{slug}/metrics/repeat-purchase", response={200: ShareOut, **READ_ERRORS})
def metric_repeat_purchase(request, slug: str, params: Query[PeriodParams]):
    """Repeat purchase rate: customers with at least two orders in the period ÷ customers with
    at least one, × 100, with a Wilson 95% interval. Orders without a known customer are left
    out; the default period is all history.
    """
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.customer_order_rows(actor, location=place, since=start, until=end)
    score = facade.repeat_purchase(rows, tz=actor.brand.timezone)
    hits = round((score.value or 0) * score.n / 100)
    return {
        "metric": "repeat-purchase",
        "since": params.since,
        "until": params.until,
        "definition": "customers with ≥ 2 orders in the period ÷ customers with ≥ 1",
        "rows": _share_rows([facade.SessionShare(location_id=None, score=score, hits=hits)]),
    }


@router.get(
    "/brands/{slug}/metrics/cohort-retention",
    response={200: CohortRetentionOut, **READ_ERRORS},
)
def metric_cohort_retention(
    request,
    slug: str,
    params: Query[PeriodParams],
    mode: str = Query(
        "classic",
        description="classic: active in that month; unbounded: in that month or any later one",
    ),
):
    """Monthly cohort retention of customers by the month (brand time zone) of their first order
    in the period: the % of each cohort with an order k months later, with its n (the cohort
    size) and Wilson 95% interval. Months after the period's last (or the current month) are
    censored: absent, never 0.
    """
    if mode not in ("classic", "unbounded"):
        raise AppError("Use `classic` or `unbounded`.", field="mode")
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.customer_order_rows(actor, location=place, since=start, until=end)
    as_of = end - timedelta(microseconds=1) if end is not None else timezone.now()
    cells = facade.cohort_retention(rows, tz=actor.brand.timezone, as_of=as_of, mode=mode)
    return {
        "since": params.since,
        "until": params.until,
        "mode": mode,
        "rows": [
            {
                "cohort": cell.cohort,
                "periods_since": cell.periods_since,
                "value": cell.score.value,
                "n": cell.score.n,
                "ci_low": cell.score.ci_low,
                "ci_high": cell.score.ci_high,
                "retained": cell.retained,
            }
            for cell in cells
        ],
    }


_SESSIONS = (
    "A session is the web events of the online shop sharing a session_id, counting the events "
    "in the period."
)


@router.get("/brands/{slug}/metrics/conversion", response={200: ShareOut, **READ_ERRORS})
def metric_conversion(request, slug: str, params: Query[SessionParams]):
    """Session conversion rate: sessions with a purchase ÷ sessions, × 100, with a Wilson 95%
    interval. A session is the web events of the online shop sharing a session_id (events in
    the period)."""
    by_location = _by_location(params.by)
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.web_session_rows(actor, location=place, since=start, until=end)
    return {
        "metric": "conversion",
        "since": params.since,
        "until": params.until,
        "definition": "sessions with a purchase ÷ sessions. " + _SESSIONS,
        "rows": _share_rows(facade.conversion(rows, by_location=by_location)),
    }


_GA4 = (
    "GA4: sessions not engaged (≤ 10 s from first to last event, < 2 page views, no purchase) "
    "÷ sessions. "
)
_SINGLE_PAGE = (
    "Universal Analytics (single-page): sessions with exactly one page view and no other event "
    "(search, cart, checkout or purchase) ÷ sessions with a page view; a session without a page "
    "view in the period is left out. "
)


@router.get("/brands/{slug}/metrics/bounce", response={200: ShareOut, **READ_ERRORS})
def metric_bounce(
    request,
    slug: str,
    params: Query[SessionParams],
    definition: Literal["ga4", "single_page"] = Query(
        "ga4",
        description="ga4: not-engaged sessions (GA4); single_page: single-page sessions with no "
        "interaction (Universal Analytics). Two different metrics: do not compare them.",
    ),
):
    """Bounce rate, × 100 with a Wilson 95% interval, in one of two definitions named apart.

    `ga4` (default, metric `bounce`): sessions that were not engaged ÷ sessions. Engaged (GA4):
    lasted longer than 10 s, or had at least 2 page views, or a purchase. A session's duration is
    the time from its first to its last event timestamp (a session of one event lasts 0 s; time
    spent after the last event is not seen).

    `single_page` (metric `bounce-single-page`): the older Universal Analytics bounce, sessions
    with exactly one page view and no interaction event (any event other than a page view) ÷
    sessions with a page view. A long read of one page bounces here but not in GA4.

    A session is the web events of the online shop sharing a session_id (events in the period).
    """
    by_location = _by_location(params.by)
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.web_session_rows(actor, location=place, since=start, until=end)
    if definition == "single_page":
        metric, text = "bounce-single-page", _SINGLE_PAGE
        shares = facade.ua_bounce(rows, by_location=by_location)
    else:
        metric, text = "bounce", _GA4
        shares = facade.bounce(rows, by_location=by_location)
    return {
        "metric": metric,
        "since": params.since,
        "until": params.until,
        "definition": text + _SESSIONS,
        "rows": _share_rows(shares),
    }


@router.get("/brands/{slug}/metrics/clv", response={200: ClvOut, **READ_ERRORS})
def metric_clv(
    request,
    slug: str,
    params: Query[PeriodParams],
    horizon_months: int = Query(12, ge=1, le=120, description="Forecast horizon, months"),
    monthly_discount_rate: float = Query(
        0.01, ge=0, le=1, description="Discount rate per month (fraction)"
    ),
    currency: str | None = Query(
        None, description="Orders in this currency only; needed when orders mix currencies"
    ),
):
    """Customer lifetime value from the customers' orders in the period: a BG/NBD model of
    purchase occasions (same-day orders are one; time in weeks) and a Gamma–Gamma model of
    spend per repeat occasion, fitted by maximum likelihood; the mean expected purchases and
    discounted CLV per customer over `horizon_months`, with the fitted parameters.

    422 when there are fewer than 20 customers or fewer than 10 with a repeat purchase, when a
    fit does not converge, or when the orders mix currencies and `currency` is not given.
    """
    actor, place, start, end = _scope(request, slug, params)
    rows = selectors.customer_order_rows(
        actor, location=place, since=start, until=end, currency=currency
    )
    currencies = sorted({row[3] for row in rows})
    if len(currencies) > 1:
        raise Unprocessable(
            f"The orders mix currencies ({', '.join(currencies)}); choose one.", field="currency"
        )
    try:
        summary = facade.clv_summary(
            rows,
            tz=actor.brand.timezone,
            observation_end=end if end is not None else timezone.now(),
            horizon_months=horizon_months,
            monthly_discount_rate=monthly_discount_rate,
        )
    except facade.MetricRefused as error:
        raise Unprocessable(str(error)) from error
    n = summary.customers
    return {
        "since": params.since,
        "until": params.until,
        "currency": currencies[0] if currencies else (currency or "").upper(),
        "customers": n,
        "repeat_customers": summary.repeat_customers,
        "horizon_months": summary.horizon_months,
        "monthly_discount_rate": summary.monthly_discount_rate,
        "expected_purchases": summary.expected_purchases,
        "clv": summary.clv,
        "clv_total": summary.clv_total,
        "bg_nbd": dict(summary.bg_nbd),
        "gamma_gamma": dict(summary.gamma_gamma),
        "bg_nbd_log_likelihood": summary.bg_nbd_log_likelihood,
        "gamma_gamma_log_likelihood": summary.gamma_gamma_log_likelihood,
        "rows": [
            {"statistic": "expected_purchases", "value": summary.expected_purchases, "n": n},
            {"statistic": "clv", "value": summary.clv, "n": n},
        ],
    }


@router.get("/brands/{slug}/metrics/churn", response={200: ChurnOut, **READ_ERRORS})
def metric_churn(
    request,
    slug: str,
    params: Query[PeriodParams],
    activity_days: int = Query(365, ge=1, le=3650, description="Active = ordered this recently"),
):
    """Churn rate and customer retention rate (CRR) over a period, from orders of known
    customers. A customer is active at a moment if they ordered in the `activity_days` before it;
    S and E count active customers at `since` and `until` (default: the last 90 days), N those
    active at the end but not at the start, lost those active at the start but not at the end.
    """
    actor, place, start, end = _scope(request, slug, params)
    brand_tz = ZoneInfo(actor.brand.timezone)
    end = end or selectors.day_start(actor, timezone.now().astimezone(brand_tz).date())
    start = start or end - timedelta(days=90)
    if end <= start:
        raise AppError("`until` must be after `since`.", field="until")
    rows = selectors.customer_order_rows(
        actor, location=place, since=start - timedelta(days=activity_days), until=end
    )
    result = facade.churn(rows, start=start, end=end, activity_days=activity_days)
    retained = result.customers_start - result.lost
    return {
        "metric": "churn",
        "since": start.astimezone(brand_tz).date(),
        "until": end.astimezone(brand_tz).date(),
        "activity_days": activity_days,
        "customers_start": result.customers_start,
        "customers_end": result.customers_end,
        "new_or_returning": result.new_or_returning,
        "lost": result.lost,
        "churn": _share_rows([facade.SessionShare(None, result.churn, result.lost)])[0],
        "retention": _share_rows([facade.SessionShare(None, result.retention, retained)])[0],
    }


# --- UX benchmarking: computed from the counts or times in the body; nothing is stored -------
# POST because a list of times does not fit a query string; reading, not writing: any member
# of the brand may call them (a non-member gets 404 before the body is read).


def _ux(request, slug: str, metric: str, method: str, payload, field: str, compute) -> dict:
    """Run `compute` for a member of the brand; a refusal (counts that contradict each other)
    is a 422 naming `field`."""
    actor_of(request, slug)
    try:
        score = compute()
    except facade.MetricRefused as error:
        raise Unprocessable(str(error), field=field) from error
    return {"metric": metric, **_scored(score), "confidence": payload.confidence, "method": method}


@router.post("/brands/{slug}/metrics/task-success", response={200: UxMetricOut, **READ_ERRORS})
def metric_task_success(request, slug: str, payload: TaskSuccessIn):
    """Task success (completion) rate of a usability test: successes ÷ attempts × 100.

    The interval is the adjusted-Wald (Agresti–Coull) one Sauro & Lewis recommend for small
    samples, or `wilson`. Computed from the body; nothing is stored.
    """
    method = {"adjusted_wald": "adjusted Wald (Agresti–Coull)", "wilson": "Wilson score"}
    return _ux(
        request,
        slug,
        "task-success",
        method[payload.interval],
        payload,
        "successes",
        lambda: facade.task_success(
            successes=payload.successes,
            attempts=payload.attempts,
            interval=payload.interval,
            confidence=payload.confidence,
        ),
    )


@router.post("/brands/{slug}/metrics/error-rate", response={200: UxMetricOut, **READ_ERRORS})
def metric_error_rate(request, slug: str, payload: ErrorRateIn):
    """Error rate: errors ÷ error opportunities × 100 (at most one error per opportunity), with
    a Wilson interval. Computed from the body; nothing is stored."""
    return _ux(
        request,
        slug,
        "error-rate",
        "Wilson score",
        payload,
        "errors",
        lambda: facade.error_rate(
            errors=payload.errors,
            opportunities=payload.opportunities,
            confidence=payload.confidence,
        ),
    )


@router.post("/brands/{slug}/metrics/time-on-task", response={200: UxMetricOut, **READ_ERRORS})
def metric_time_on_task(request, slug: str, payload: TimeOnTaskIn):
    """Time on task: the geometric mean of the times (seconds), with a Student-t interval on
    the log times, back-transformed (asymmetric). One time: no interval; none: n = 0 and null.
    Decide beforehand whether failed attempts belong in the list. Nothing is stored."""
    return _ux(
        request,
        slug,
        "time-on-task",
        "geometric mean; Student-t interval on log times",
        payload,
        "seconds",
        lambda: facade.time_on_task(payload.seconds, confidence=payload.confidence),
    )
