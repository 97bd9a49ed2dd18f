from datetime import timedelta

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, page_or_partial

from . import selectors

PAGE_SIZE = 50
DETRACTOR_DAYS = 30


@brand_page
@require_safe
def case_list(request):
    """Cases arrive with the closed-loop capability; until then, the candidates for them."""
    actor, location = request.actor, request.current_location
    keys = selectors.follow_up_candidate_keys(
        actor,
        location=location,
        detractors_since=timezone.now() - timedelta(days=DETRACTOR_DAYS),
    )
    page = Paginator(keys, PAGE_SIZE).get_page(request.GET.get("page"))
    candidates = selectors.follow_up_candidates(actor, keys=page.object_list)
    return page_or_partial(
        request,
        "cases/case_list.html",
        {"page": page, "candidates": candidates, "detractor_days": DETRACTOR_DAYS},
        partial="results",
    )
