"""The Overview, the Insights page and the drill-down to responses, each exportable.

Every table shown is an `exports.Table`, so `?export=csv&table=<name>` (or `?export=xlsx`)
downloads exactly what the page shows. Reads go through `insights.selectors` (actor-scoped,
narrowed to the location chosen in the switcher); numbers come from `insights.facade`.
"""

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import charts, exports, facade, selectors
from .exports import Table

PERIOD_DAYS = 90
TREND_MONTHS = 18
DRIVER_DAYS = 365
DRIVER_ROWS = 5000
SLA_HOURS = 24
PAGE_SIZE = 50
ANALYSIS_CACHE_SECONDS = 600
KIND_LABELS = {"nps": "NPS", "csat": "CSAT (% satisfied)", "ces": "CES (% low effort)"}
STEP_LABELS = {
    "add_to_cart": "Added to cart",
    "cart": "Checkout: cart",
    "shipping": "Checkout: shipping",
    "payment": "Checkout: payment",
    "review": "Checkout: review",
    "purchase": "Purchase",
}


def _memo(prefix: str, key, compute):
    """An expensive analysis, cached under a key that changes whenever its inputs change."""
    digest = hashlib.sha256(repr(key).encode()).hexdigest()
    return cache.get_or_set(f"insights:{prefix}:{digest}", compute, ANALYSIS_CACHE_SECONDS)


def month_start(moment: datetime, months_back: int = 0) -> datetime:
    """The first instant of the month `months_back` months before `moment`'s month."""
    local = timezone.localtime(moment)
    index = local.year * 12 + local.month - 1 - months_back
    return local.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def _month_bounds(text: str) -> tuple[datetime, datetime] | None:
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        return None
    start = timezone.make_aware(parsed)
    return start, month_start(start, -1)


def responses_url(request, **params) -> str:
    """The drill-down list behind a chart point or a row (empty values are left out)."""
    query = urlencode({key: value for key, value in params.items() if value not in ("", None)})
    url = reverse("insights:responses", args=[request.actor.brand.slug])
    return f"{url}?{query}" if query else url


def _score_cells(score) -> list:
    return [
        None if score.value is None else round(score.value, 1),
        None if score.ci_low is None else round(score.ci_low, 1),
        None if score.ci_high is None else round(score.ci_high, 1),
        score.n,
    ]


SCORE_HEADERS = ["95% low", "95% high", "n"]


# --- Overview -----------------------------------------------------------------------------


@brand_page
@require_safe
def overview(request):
    actor, location = request.actor, request.current_location
    now = timezone.now()
    since = now - timedelta(days=PERIOD_DAYS)
    previous_since = since - timedelta(days=PERIOD_DAYS)
    current_counts = selectors.nps_counts(actor, location=location, since=since)
    previous_counts = selectors.nps_counts(
        actor, location=location, since=previous_since, until=since
    )
    current = facade.nps_score(current_counts)
    previous = facade.nps_score(previous_counts)
    change = facade.nps_change(current_counts, previous_counts)
    csat_n, csat_ok = selectors.satisfied_counts(actor, kind="csat", location=location, since=since)
    ces_n, ces_ok = selectors.satisfied_counts(actor, kind="ces", location=location, since=since)

    trend_since = month_start(now, TREND_MONTHS - 1)
    tallies = selectors.headline_tallies(actor, location=location, since=trend_since)
    trends = {kind: facade.trend(kind, tallies[kind]) for kind in selectors.REPORT_KINDS}
    months = [(datetime.combine(p.month, datetime.min.time()), p.score) for p in trends["nps"]]
    by_location = sorted(
        (
            (pk, name, country, facade.nps_score(counts))
            for pk, name, country, counts in selectors.nps_counts_by_location(
                actor, location=location, since=since
            )
        ),
        key=lambda row: -(row[3].value if row[3].value is not None else -999),
    )

    def drill(kind):
        return lambda point: responses_url(request, kind=kind, month=point.month.strftime("%Y-%m"))

    tables = [
        Table(
            name=f"{kind}-trend",
            title=f"{KIND_LABELS[kind]} by month",
            headers=["Month", KIND_LABELS[kind], *SCORE_HEADERS, "Thin sample (n < 30)"],
            rows=[
                [p.month.strftime("%Y-%m"), *_score_cells(p.score), p.is_thin] for p in trends[kind]
            ],
        )
        for kind in selectors.REPORT_KINDS
    ]
    trend_charts = [
        charts.ChartBlock(
            id=f"{kind}-trend",
            title=f"{KIND_LABELS[kind]} by month",
            spec=charts.band_chart(
                label=KIND_LABELS[kind], points=trends[kind], kind=kind, href=drill(kind)
            ),
            table=table,
            wide=kind == "nps",
        )
        for kind, table in zip(selectors.REPORT_KINDS, tables, strict=True)
    ]
    tables.append(
        Table(
            name="nps-change",
            title="NPS change",
            headers=[
                "Period",
                "NPS",
                *SCORE_HEADERS,
                "Difference",
                "Difference 95% low",
                "Difference 95% high",
                "p-value",
                "Verdict",
            ],
            rows=[
                [f"last {PERIOD_DAYS} days", *_score_cells(current), None, None, None, None, ""],
                [
                    f"previous {PERIOD_DAYS} days",
                    *_score_cells(previous),
                    *(
                        [
                            round(change.difference, 1),
                            round(change.ci_low, 1),
                            round(change.ci_high, 1),
                            round(change.p_value, 4),
                            change.verdict,
                        ]
                        if change
                        else [None] * 4 + ["not enough answers"]
                    ),
                ],
            ],
        )
    )
    tables.append(
        Table(
            name="locations",
            title=f"NPS by location, last {PERIOD_DAYS} days",
            headers=["Location", "Country", "NPS", *SCORE_HEADERS],
            rows=[[name, country, *_score_cells(score)] for _, name, country, score in by_location],
        )
    )
    download = exports.export_response(request, tables, page_name="overview")
    if download is not None:
        return download
    return render(
        request,
        "insights/overview.html",
        {
            "period_days": PERIOD_DAYS,
            "nps": current,
            "nps_previous": previous,
            "change": change,
            "csat": facade.share_score(n=csat_n, satisfied=csat_ok),
            "ces": facade.share_score(n=ces_n, satisfied=ces_ok),
            "months": months,
            "trend_charts": trend_charts,
            "by_location": by_location,
            "detractors_url": responses_url(
                request, kind="nps", band="detractor", days=PERIOD_DAYS
            ),
        },
    )


# --- Insights -----------------------------------------------------------------------------


def _response_time_table(rows, *, now, name, title, key, label):
    groups: dict = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    results = []
    for group, members in sorted(groups.items(), key=lambda item: item[0]):
        results.append((group, facade.first_response_times(members, now=now, sla_hours=SLA_HOURS)))
    table = Table(
        name=name,
        title=title,
        headers=[
            label,
            "Conversations",
            "Answered",
            "Unanswered (censored)",
            "Median first response (h)",
            "p90 first response (h)",
            "Median (business h)",
            "p90 (business h)",
            f"% answered within {SLA_HOURS} h",
            *SCORE_HEADERS,
        ],
        rows=[
            [
                _group_label(group),
                times.conversations,
                times.answered,
                times.unanswered,
                _hours(times.median_hours),
                _hours(times.p90_hours),
                _hours(times.median_business_hours),
                _hours(times.p90_business_hours),
                *_score_cells(times.within_sla),
            ]
            for group, times in results
        ],
    )
    return results, table


def _group_label(group):
    if isinstance(group, tuple):
        return group[1]
    if isinstance(group, date):
        return group.strftime("%Y-%m")
    return group


def _hours(value):
    """One decimal, None kept (hours, percentages, points)."""
    return None if value is None else round(value, 1)


@brand_page
@require_safe
def insights(request):
    actor, location = request.actor, request.current_location
    now = timezone.now()
    since = now - timedelta(days=PERIOD_DAYS)
    trend_since = month_start(now, TREND_MONTHS - 1)

    # Leaderboard: shrunken NPS per location, Holm-adjusted comparison with the rest.
    board_input = [
        (pk, name, counts)
        for pk, name, _country, counts in selectors.nps_counts_by_location(
            actor, location=location, since=since
        )
    ]
    # Shrinkage intervals are Monte Carlo: reuse them while the counts stay the same.
    board = _memo("leaderboard", board_input, lambda: facade.leaderboard(board_input))
    leaderboard_rows = [
        {
            "row": row,
            "href": responses_url(request, kind="nps", location=row.location_id, days=PERIOD_DAYS),
            "detractors_href": responses_url(
                request,
                kind="nps",
                location=row.location_id,
                band="detractor",
                days=PERIOD_DAYS,
            ),
        }
        for row in board.rows
    ]
    leaderboard_table = Table(
        name="leaderboard",
        title="Location leaderboard",
        headers=[
            "Rank",
            "Location",
            "Shrunken NPS",
            "Shrunken 95% low",
            "Shrunken 95% high",
            "Raw NPS",
            "Raw 95% low",
            "Raw 95% high",
            "n",
            "Difference vs rest",
            "p-value",
            "Holm-adjusted p",
            "Significantly below the rest",
        ],
        rows=[
            [
                rank,
                row.name,
                round(row.estimate, 1),
                round(row.ci_low, 1),
                round(row.ci_high, 1),
                *_score_cells(row.raw),
                None if row.difference is None else round(row.difference, 1),
                None if row.p_value is None else round(row.p_value, 4),
                None if row.p_adjusted is None else round(row.p_adjusted, 4),
                row.significantly_below,
            ]
            for rank, row in enumerate(board.rows, start=1)
        ],
    )
    leaderboard_chart = charts.bar_chart(
        label="Shrunken NPS",
        horizontal=True,
        minimum=-100,
        maximum=100,
        bars=[
            {
                "x": item["row"].name,
                "y": item["row"].estimate,
                "low": item["row"].ci_low,
                "high": item["row"].ci_high,
                "n": item["row"].n,
                "thin": item["row"].raw.is_thin,
                "href": item["href"],
            }
            for item in leaderboard_rows
        ],
    )

    # Key drivers of NPS.
    driver_since = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    driver_since -= timedelta(days=DRIVER_DAYS)
    # The regression and its bootstrap take a second: recompute only when answers change.
    driver_key = (
        actor.brand.pk,
        location.pk if location else None,
        driver_since,
        selectors.nps_counts(actor, location=location, since=driver_since),
    )
    analysis = _memo(
        "drivers",
        driver_key,
        lambda: facade.key_drivers(
            selectors.driver_rows(actor, location=location, since=driver_since, limit=DRIVER_ROWS)
        ),
    )
    driver_items = [
        {
            "driver": driver,
            "href": responses_url(request, kind="nps", topic=driver.key, days=DRIVER_DAYS)
            if driver.key in facade.TOPICS
            else "",
        }
        for driver in analysis.drivers
    ]
    drivers_table = Table(
        name="drivers",
        title="Key drivers of NPS",
        headers=[
            "Driver",
            "Share of explained variance (%)",
            "95% low",
            "95% high",
            "NPS with",
            "n with",
            "NPS without",
            "n without",
            "Direction",
        ],
        rows=[
            [
                d.label,
                round(d.importance, 1),
                _hours(d.ci_low),
                _hours(d.ci_high),
                None if d.with_flag.value is None else round(d.with_flag.value, 1),
                d.with_flag.n,
                None if d.without_flag.value is None else round(d.without_flag.value, 1),
                d.without_flag.n,
                d.direction,
            ]
            for d in analysis.drivers
        ],
    )
    drivers_spec = charts.bar_chart(
        label="Share of explained variance",
        unit="%",
        horizontal=True,
        minimum=0,
        bars=[
            {
                "x": item["driver"].label,
                "y": item["driver"].importance,
                "low": item["driver"].ci_low,
                "high": item["driver"].ci_high,
                "n": item["driver"].with_flag.n,
                "href": item["href"],
            }
            for item in driver_items
        ],
    )

    # First response times from the inbox.
    reply_rows = selectors.conversation_reply_rows(actor, location=location, since=trend_since)
    recent_rows = [row for row in reply_rows if row[0] >= since]
    response_times = facade.first_response_times(recent_rows, now=now, sla_hours=SLA_HOURS)
    by_location_times, times_location_table = _response_time_table(
        recent_rows,
        now=now,
        name="response-times-by-location",
        title="First response by location",
        key=lambda row: (row[5], row[5]),
        label="Location",
    )
    by_month_times, times_month_table = _response_time_table(
        reply_rows,
        now=now,
        name="response-times-by-month",
        title="First response by month",
        key=lambda row: month_start(row[0]).date(),
        label="Month",
    )

    # Late deliveries by month, and the checkout funnel of the online shop.
    late_rows = [
        (month, shipped, late, facade.share_score(n=shipped, satisfied=late))
        for month, shipped, late in selectors.late_orders_by_month(
            actor, location=location, since=trend_since
        )
    ]
    late_table = Table(
        name="late-deliveries",
        title="Late deliveries by month",
        headers=["Month", "Shipped orders", "Delivered late", "% late", *SCORE_HEADERS],
        rows=[
            [month.strftime("%Y-%m"), shipped, late, *_score_cells(share)]
            for month, shipped, late, share in late_rows
        ],
    )
    late_spec = charts.bar_chart(
        label="% of shipped orders delivered late",
        unit="%",
        minimum=0,
        bars=[
            {
                "x": month.strftime("%b %Y"),
                "y": share.value,
                "low": share.ci_low,
                "high": share.ci_high,
                "n": shipped,
                "thin": share.is_thin,
                "href": responses_url(
                    request, kind="nps", month=month.strftime("%Y-%m"), topic="delivery"
                ),
            }
            for month, shipped, late, share in late_rows
        ],
    )
    funnel = selectors.checkout_sessions(actor, location=location, since=since)
    funnel_rows = []
    previous_sessions = None
    for step, sessions in funnel:
        kept = (
            facade.share_score(n=previous_sessions, satisfied=min(sessions, previous_sessions))
            if previous_sessions
            else None
        )
        funnel_rows.append((step, STEP_LABELS[step], sessions, kept))
        previous_sessions = sessions
    funnel_table = Table(
        name="checkout-funnel",
        title="Checkout funnel (web sessions)",
        headers=["Step", "Sessions", "% of previous step", *SCORE_HEADERS],
        rows=[
            [label, sessions, *(_score_cells(kept) if kept else [None] * 4)]
            for _step, label, sessions, kept in funnel_rows
        ],
    )

    tables = [
        leaderboard_table,
        drivers_table,
        times_location_table,
        times_month_table,
        late_table,
        funnel_table,
    ]
    download = exports.export_response(request, tables, page_name="insights")
    if download is not None:
        return download
    return render(
        request,
        "insights/insights.html",
        {
            "period_days": PERIOD_DAYS,
            "driver_days": DRIVER_DAYS,
            "board": board,
            "leaderboard_rows": leaderboard_rows,
            "leaderboard_chart": leaderboard_chart,
            "analysis": analysis,
            "driver_items": driver_items,
            "drivers_block": charts.ChartBlock(
                id="drivers",
                title="Key drivers of NPS",
                spec=drivers_spec,
                table=drivers_table,
                note="Bars: share of explained variance; whiskers: 95% bootstrap interval. "
                "Click a comment topic to read those answers.",
            ),
            "response_times": response_times,
            "times_by_location": by_location_times,
            "times_by_month": by_month_times,
            "late_rows": late_rows,
            "late_block": charts.ChartBlock(
                id="late-deliveries",
                title="Late deliveries by month",
                spec=late_spec,
                table=late_table,
                note="Share of shipped orders (those with a promised date) delivered after it, "
                "by month placed. Click a month for the delivery comments of that month.",
            ),
            "funnel_rows": funnel_rows,
            "sla_hours": SLA_HOURS,
        },
    )


# --- drill-down ---------------------------------------------------------------------------

BAND_CHOICES = [
    ("promoter", "Promoters (9–10)"),
    ("passive", "Passives (7–8)"),
    ("detractor", "Detractors (0–6)"),
    ("satisfied", "Satisfied (CSAT/CES)"),
    ("unsatisfied", "Not satisfied (CSAT/CES)"),
]
DAY_CHOICES = (30, 90, 365)


@brand_page
@require_safe
def responses(request):
    """The responses behind a chart point or a table row, across surveys."""
    actor, location = request.actor, request.current_location
    within = location_filter(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.REPORT_KINDS else ""
    band = request.GET.get("band", "")
    band = band if band in dict(BAND_CHOICES) else ""
    topic = request.GET.get("topic", "")
    topic = topic if topic in facade.TOPICS else ""
    month = request.GET.get("month", "")
    days = request.GET.get("days", "")
    since = until = None
    bounds = _month_bounds(month) if month else None
    if bounds:
        since, until = bounds
    else:
        month = ""
        if days.isdigit() and int(days) in DAY_CHOICES:
            since = timezone.now() - timedelta(days=int(days))
        else:
            days = ""
    qs = selectors.report_responses(
        actor,
        location=location,
        kind=kind,
        within=within,
        since=since,
        until=until,
        band=band,
        comment_contains=facade.topic_words(topic) if topic else (),
    )
    table = Table(
        name="responses",
        title="Responses",
        headers=[
            "Answered at",
            "Survey",
            "Kind",
            "Score",
            "Location",
            "Channel",
            "Language",
            "Contact id",
            "Comment",
        ],
        rows=(
            [
                r.created_at,
                r.survey.name,
                r.survey.kind,
                r.score,
                r.location.name,
                r.channel.name if r.channel else "",
                r.language,
                r.contact_id,
                r.comment,
            ]
            for r in qs.iterator(chunk_size=2000)
        ),
    )
    download = exports.export_response(request, [table], page_name="responses")
    if download is not None:
        return download
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return page_or_partial(
        request,
        "insights/responses.html",
        {
            "page": page,
            "locations": location_choices(actor, location),
            "kinds": list(KIND_LABELS.items()),
            "bands": BAND_CHOICES,
            "topics": [(key, facade.DRIVER_LABELS[key]) for key in facade.TOPICS],
            "day_choices": DAY_CHOICES,
            "filters": {
                "kind": kind,
                "location": within.pk if within else None,
                "band": band,
                "topic": topic,
                "month": month,
                "days": days,
            },
            "export_query": request.GET.urlencode(),
        },
        partial="results",
    )
