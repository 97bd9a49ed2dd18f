"""Customer pages: a searchable, filterable list and one customer's whole history."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page, page_or_partial

from . import selectors

PAGE_SIZE = 50


def _inbox_link(brand_slug: str):
    """A function pk -> conversation URL, or None while the inbox has no detail page."""
    try:
        reverse("inbox:detail", args=[brand_slug, 0])
    except NoReverseMatch:
        return None
    return lambda pk: reverse("inbox:detail", args=[brand_slug, pk])


@brand_page
@require_safe
def contact_list(request):
    actor = request.actor
    q = request.GET.get("q", "").strip()[:200]
    country = request.GET.get("country", "").strip()[:2]
    consent = request.GET.get("consent", "")
    if consent not in selectors.CONSENT_FILTERS:
        consent = ""
    contacts = selectors.contact_list(
        actor, location=request.current_location, q=q, country=country, consent=consent
    )
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "contact": contact,
            "identity": contact.ordered_identities[0] if contact.ordered_identities else None,
            "last_activity": selectors.last_activity(contact),
        }
        for contact in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "q": q,
        "country": country.upper(),
        "consent": consent,
        "countries": selectors.contact_countries(actor),
        "consent_choices": [(key, label) for key, (label, _) in selectors.CONSENT_FILTERS.items()],
        "filtered": bool(q or country or consent),
    }
    return page_or_partial(request, "contacts/contact_list.html", context, partial="results")


@brand_page
@require_safe
def contact_detail(request, pk):
    actor = request.actor
    contact = selectors.contact_with_identities(actor, pk=pk)
    timeline = selectors.contact_timeline(actor, contact=contact)
    link = _inbox_link(actor.brand.slug)
    entries = [
        {
            "entry": entry,
            "url": link(entry.item.pk) if link and entry.kind == "conversation" else None,
        }
        for entry in timeline
    ]
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "contact": contact,
            "identities": list(contact.identities.all()),
            "orders": selectors.contact_order_summary(actor, contact=contact),
            "entries": entries,
            "timeline_limit": selectors.TIMELINE_LIMIT,
        },
    )
