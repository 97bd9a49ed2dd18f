"""The inbox report page and its downloads (one row per conversation, or per group)."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, page_or_partial

from . import exports, inbox_report

DEFAULT_DAYS = 30


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _period(request) -> tuple[date, date]:
    """[since, until] in days of the brand's time zone; the last 30 days by default."""
    today = timezone.localdate(timezone=ZoneInfo(request.actor.brand.timezone or "UTC"))
    until = _day(request.GET.get("until", "")) or today
    since = _day(request.GET.get("since", "")) or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    return since, until


@brand_page
@require_safe
def report(request):
    actor, location = request.actor, request.current_location
    by = request.GET.get("by", "agent")
    by = by if by in inbox_report.GROUPINGS else "agent"
    basis = request.GET.get("basis", "calendar")
    basis = basis if basis in inbox_report.BASES else "calendar"
    since, until = _period(request)
    zone = ZoneInfo(actor.brand.timezone or "UTC")
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    rows = inbox_report.conversation_facts(actor, location=location, start=start, end=end)
    groups = inbox_report.grouped(rows, by=by, basis=basis)
    overall = inbox_report.figures(rows, basis=basis)
    tables = [
        inbox_report.figures_table(groups, by=by, basis=basis),
        inbox_report.conversations_table(rows),
    ]
    download = exports.export_response(request, tables, page_name="inbox-report")
    if download is not None:
        return download
    query = {"by": by, "basis": basis, "since": since.isoformat(), "until": until.isoformat()}
    return page_or_partial(
        request,
        "insights/inbox_report.html",
        {
            "groups": groups,
            "overall": overall,
            "by": by,
            "basis": basis,
            "groupings": inbox_report.GROUPINGS.items(),
            "bases": inbox_report.BASES.items(),
            "since": since,
            "until": until,
            "base_query": urlencode(query),
            "section": "inbox_report",
        },
        partial="results",
    )
