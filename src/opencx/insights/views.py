from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page

from . import facade, selectors

PERIOD_DAYS = 90


@brand_page
@require_safe
def overview(request):
    actor, location = request.actor, request.current_location
    now = timezone.now()
    since = now - timedelta(days=PERIOD_DAYS)
    previous_since = since - timedelta(days=PERIOD_DAYS)
    current = facade.nps_score(selectors.nps_counts(actor, location=location, since=since))
    previous = facade.nps_score(
        selectors.nps_counts(actor, location=location, since=previous_since, until=since)
    )
    csat_n, csat_ok = selectors.satisfied_counts(actor, kind="csat", location=location, since=since)
    ces_n, ces_ok = selectors.satisfied_counts(actor, kind="ces", location=location, since=since)
    months = [
        (month, facade.nps_score(counts))
        for month, counts in selectors.nps_counts_by_month(
            actor, location=location, since=now - timedelta(days=549)
        )
    ]
    by_location = sorted(
        (
            (pk, name, country, facade.nps_score(counts))
            for pk, name, country, counts in selectors.nps_counts_by_location(
                actor, location=location, since=since
            )
        ),
        key=lambda row: -(row[3].value if row[3].value is not None else -999),
    )
    return render(
        request,
        "insights/overview.html",
        {
            "period_days": PERIOD_DAYS,
            "nps": current,
            "nps_previous": previous,
            "csat": facade.share_score(n=csat_n, satisfied=csat_ok),
            "ces": facade.share_score(n=ces_n, satisfied=ces_ok),
            "months": months,
            "by_location": by_location,
        },
    )
