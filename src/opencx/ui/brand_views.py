"""The one way a page inside a brand gets its actor, its location scope and its errors mapped.

`@brand_page` resolves `brand_slug` to an Actor (404 if the user is not a member), reads the
location chosen in the switcher, and turns AppError into a 404/403/400 page. Views receive
`request.actor` and `request.current_location` and never look them up themselves.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from opencx.platform.errors import AppError, NotFound
from opencx.platform.selectors import (
    actor_for,
    location_get,
    location_subtree,
    locations_visible_to,
)

SESSION_KEY = "location_scope:{brand}"


def selected_location(request, actor):
    """The location picked in the switcher, if it is still within the actor's reach."""
    location_id = request.session.get(SESSION_KEY.format(brand=actor.brand.pk))
    if location_id is None:
        return actor.scope
    location = locations_visible_to(actor).filter(pk=location_id).first()
    return location or actor.scope


def brand_page(view):
    @login_required
    @wraps(view)
    def wrapper(request, brand_slug, *args, **kwargs):
        try:
            actor = actor_for(user=request.user, brand_slug=brand_slug)
            request.actor = actor
            request.current_location = selected_location(request, actor)
            request.switchable_locations = locations_visible_to(actor).only(
                "id", "name", "path", "kind"
            )
            return view(request, *args, **kwargs)
        except AppError as error:
            return error_page(request, error)

    return wrapper


def error_page(request, error: AppError):
    return render(request, "ui/error.html", {"error": error}, status=error.status)


def page_or_partial(request, template: str, context: dict, partial: str = "content"):
    """Render the whole page, or only the named partial when HTMX asks for a fragment."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return render(request, f"{template}#{partial}", context)
    return render(request, template, context)


def location_filter(request, name: str = "location"):
    """The location named in the query string, if the actor may see it; otherwise None."""
    raw = request.GET.get(name, "")
    # ASCII digits only ("²".isdigit() is true) and within a database integer's range.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) >= 2**31:
        return None
    try:
        return location_get(request.actor, pk=int(raw))
    except NotFound:
        return None


def location_choices(actor, location):
    """Locations offered by a filter: the chosen location's subtree, or all the actor sees."""
    qs = (
        location_subtree(actor, location=location)
        if location is not None
        else locations_visible_to(actor)
    )
    return qs.only("id", "name", "path")
