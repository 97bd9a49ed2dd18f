"""Location pages: the hierarchy as a tree table, one location's facts, create and edit forms.

`platform` may not import feature apps (import-linter contract), yet the tree shows each
location's responses, feedback and NPS. Those figures come from a provider that a feature app
registers at start-up with `register_location_figures` (see opencx.insights.location_figures).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.ui.brand_views import brand_page

from .actor import Actor
from .errors import AppError, NotFound
from .location_forms import LocationForm, opening_hours_rows
from .models import Location
from .numbers import whole_number
from .roles import Capability
from .selectors import (
    location_get,
    location_subtree,
    locations_visible_to,
    memberships_visible_to,
)
from .services import location_create, location_update

PERIOD_DAYS = 90


@dataclass(frozen=True)
class LocationFigures:
    """What happened in a location and everything under it during the period."""

    responses: int = 0
    feedback: int = 0
    nps: Any = None  # a Score (value, n, ci_low, ci_high, is_thin) or None


# provider(actor, *, locations, since) -> {location id: LocationFigures}, rolled up per subtree.
FiguresProvider = Callable[..., Mapping[int, LocationFigures]]
_figures_providers: list[FiguresProvider] = []


def register_location_figures(provider: FiguresProvider) -> FiguresProvider:
    if provider not in _figures_providers:
        _figures_providers.append(provider)
    return provider


def location_figures(
    actor: Actor, *, locations: Sequence[Location], since: datetime
) -> dict[int, LocationFigures]:
    figures: dict[int, LocationFigures] = {}
    for provider in _figures_providers:
        figures.update(provider(actor, locations=locations, since=since))
    return figures


def _tree_rows(locations: Sequence[Location], figures: Mapping[int, LocationFigures]):
    top = min((loc.depth for loc in locations), default=0)
    return [
        {"location": loc, "indent": loc.depth - top, "figures": figures.get(loc.pk)}
        for loc in locations
    ]


@brand_page
@require_safe
def location_list(request):
    actor, current = request.actor, request.current_location
    if current is not None:
        locations = list(location_subtree(actor, location=current))
    else:
        locations = list(locations_visible_to(actor))
    since = timezone.now() - timedelta(days=PERIOD_DAYS)
    figures = location_figures(actor, locations=locations, since=since)
    return render(
        request,
        "platform/location_list.html",
        {
            "rows": _tree_rows(locations, figures),
            "period_days": PERIOD_DAYS,
            "has_figures": bool(_figures_providers),
            "can_manage": actor.can(Capability.MANAGE_LOCATIONS),
        },
    )


@brand_page
@require_safe
def location_detail(request, pk):
    actor = request.actor
    location = location_get(actor, pk=pk)
    subtree = list(location_subtree(actor, location=location))
    since = timezone.now() - timedelta(days=PERIOD_DAYS)
    figures = location_figures(actor, locations=subtree, since=since)
    return render(
        request,
        "platform/location_detail.html",
        {
            "location": location,
            "parent": location.parent
            if location.parent_id and actor.covers(location.parent)
            else None,
            "children": [loc for loc in subtree if loc.parent_id == location.pk],
            "members": memberships_visible_to(actor).filter(location=location),
            "figures": figures.get(location.pk),
            "has_figures": bool(_figures_providers),
            "period_days": PERIOD_DAYS,
            "hours": opening_hours_rows(location.opening_hours),
            "can_manage": actor.can(Capability.MANAGE_LOCATIONS),
        },
    )


def _parent_from_query(request) -> Location | None:
    raw = request.GET.get("parent", "")
    if not raw:
        return None
    pk = whole_number(raw)
    if pk is None:
        raise NotFound("No such parent location.", field="parent")
    return location_get(request.actor, pk=pk)


@brand_page
def location_new(request):
    actor = request.actor
    actor.require(Capability.MANAGE_LOCATIONS)
    parent = _parent_from_query(request)
    if parent is None and not actor.is_brand_wide:
        parent = actor.scope
    form_kwargs = {
        "parents": locations_visible_to(actor),
        "allow_top_level": actor.is_brand_wide,
    }
    if request.method == "POST":
        form = LocationForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                location = location_create(
                    actor=actor, parent=form.cleaned_data["parent"], **form.service_kwargs()
                )
            except AppError as error:
                form.add_app_error(error)
            else:
                messages.success(request, f"Location “{location.name}” created.")
                return redirect("locations:detail", actor.brand.slug, location.pk)
    else:
        initial = {
            "parent": parent,
            "timezone": parent.timezone if parent else actor.brand.timezone,
        }
        if parent is not None:
            initial.update(country=parent.country, languages=", ".join(parent.languages or []))
        form = LocationForm(initial=initial, **form_kwargs)
    return render(
        request, "platform/location_form.html", {"form": form, "location": None, "parent": parent}
    )


@brand_page
def location_edit(request, pk):
    actor = request.actor
    location = location_get(actor, pk=pk)  # out of reach: 404 before any 403
    actor.require(Capability.MANAGE_LOCATIONS)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if form.is_valid():
            try:
                location_update(actor=actor, location=location, **form.service_kwargs())
            except AppError as error:
                form.add_app_error(error)
            else:
                messages.success(request, f"Location “{location.name}” saved.")
                return redirect("locations:detail", actor.brand.slug, location.pk)
    else:
        form = LocationForm(initial=LocationForm.initial_from(location))
    return render(
        request,
        "platform/location_form.html",
        {"form": form, "location": location, "parent": location.parent},
    )
