"""The page of a survey's personal invitations: how they fared, and each one's status."""

from django.core.paginator import Paginator
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, page_or_partial

from . import invitation_selectors, selectors
from .models import Invitation

PAGE_SIZE = 50


def _rate(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


@brand_page
@require_safe
def survey_invitations(request, pk):
    actor, location = request.actor, request.current_location
    survey = selectors.survey_get(actor, pk=pk)
    status = request.GET.get("status", "")
    status = status if status in Invitation.Status.values else ""
    counts = invitation_selectors.invitation_counts(actor, survey=survey, location=location)
    invitations = invitation_selectors.survey_invitations(
        actor, survey=survey, location=location, status=status
    )
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    return page_or_partial(
        request,
        "surveys/invitation_list.html",
        {
            "survey": survey,
            "counts": counts,
            "opened_rate": _rate(counts.opened, counts.sent),
            "response_rate": _rate(counts.responded, counts.sent),
            "page": page,
            "statuses": Invitation.Status.choices,
            "status": status,
        },
        partial="results",
    )
