from datetime import date

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import selectors
from .models import FeedbackItem

PAGE_SIZE = 50
STAR_CHOICES = (5, 4, 3, 2, 1)


def _date_param(request, name):
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


def star_glyphs(stars: float | None) -> str:
    """ "★★★★☆" for a rating brought to five stars, rounded half up; "" when unrated."""
    if stars is None:
        return ""
    full = max(0, min(5, int(stars + 0.5)))
    return "★" * full + "☆" * (5 - full)


@brand_page
@require_safe
def feedback_list(request):
    actor, location = request.actor, request.current_location
    within = location_filter(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in FeedbackItem.Kind.values else ""
    stars = request.GET.get("rating", "")
    stars = int(stars) if stars.isdigit() and int(stars) in STAR_CHOICES else None
    filters = {
        "location": within.pk if within else None,
        "kind": kind,
        "source": request.GET.get("source", "").strip(),
        "rating": stars,
        "q": request.GET.get("q", "").strip(),
        "date_from": _date_param(request, "from"),
        "date_to": _date_param(request, "to"),
    }
    items = selectors.feedback_list(
        actor,
        location=location,
        within=within,
        kind=kind,
        source=filters["source"],
        stars=stars,
        q=filters["q"],
        date_from=filters["date_from"],
        date_to=filters["date_to"],
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for item in page.object_list:
        item.star_glyphs = star_glyphs(item.stars)
    return page_or_partial(
        request,
        "feedback/feedback_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": FeedbackItem.Kind.choices,
            "sources": selectors.feedback_sources(actor),
            "star_choices": STAR_CHOICES,
            "locations": location_choices(actor, location),
            "can_import": actor.is_brand_wide and actor.can(Capability.MANAGE_FEEDBACK),
        },
        partial="results",
    )


@brand_page
@require_safe
def feedback_detail(request, pk):
    item = selectors.feedback_get(request.actor, pk=pk)
    item.star_glyphs = star_glyphs(item.stars)
    return render(request, "feedback/feedback_detail.html", {"item": item})
