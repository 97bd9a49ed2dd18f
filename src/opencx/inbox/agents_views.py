"""Agents' availability and capacity: the toggle on the queue page (`_availability.html`, POST to
`my_status`) and the agents page, where members who manage members change anyone's status.

Automatic assignment (`services.conversation_auto_assign`) gives new conversations only to
available agents under their capacity; these pages are how people say so.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from opencx.platform.errors import AppError
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page

from . import agents, services

PAGE_SIZE = 50
YES = {"1", "true", "on", "yes"}
NO = {"0", "false", "off", "no"}


def status_fields(data) -> dict:
    """`available` and `capacity` from a form; a missing or empty one is left as it is.
    Bad values are a 400 naming the field (the range of capacity is the service's to check)."""
    fields = {}
    available = data.get("available", "").strip().lower()
    if available in YES:
        fields["available"] = True
    elif available in NO:
        fields["available"] = False
    elif available:
        raise AppError("Availability is either available (1) or away (0).", field="available")
    capacity = data.get("capacity", "").strip()
    if capacity:
        if not (capacity.isascii() and capacity.isdigit()) or len(capacity) > 6:
            raise AppError(
                f"Capacity is a whole number from 0 to {agents.MAX_CAPACITY}.", field="capacity"
            )
        fields["capacity"] = int(capacity)
    return fields


def _page(request, *, error=None, error_agent=None, form=None, status=200):
    actor = request.actor
    rows = agents.agents_visible_to(actor, location=request.current_location)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "inbox/agents.html",
        {
            "page": page,
            "can_manage": actor.can(Capability.MANAGE_MEMBERS),
            "max_capacity": agents.MAX_CAPACITY,
            "error": error,
            "error_agent": error_agent,
            "form": form or {},
        },
        status=status,
    )


@brand_page
@require_safe
def agents_page(request):
    """Every member who may reply, in the actor's reach: available or away, capacity, open
    conversations now and the last assignment."""
    return _page(request)


def _back_to_queue(request):
    """303 to the queue page the toggle was sent from (`next`: a relative path on this site,
    inside the queue), else to the queue."""
    queue = reverse("inbox:list", args=[request.actor.brand.slug])
    target = request.POST.get("next", "")
    if not (
        target.startswith(queue)
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        and "\\" not in target
    ):
        target = queue
    return HttpResponseRedirect(target, status=303)


@brand_page
def my_status(request):
    """POST available=1|0 (and optionally capacity): the signed-in member's own status."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = request.actor
    actor.require(Capability.REPLY)
    status = services.agent_status_set(actor=actor, **status_fields(request.POST))
    if status.available:
        messages.success(request, "You are available: new conversations may be assigned to you.")
    else:
        messages.success(request, "You are away: no new conversations will be assigned to you.")
    return _back_to_queue(request)


@brand_page
def agent_status(request, user_id):
    """POST available and capacity of one agent (members who manage members only)."""
    actor = request.actor
    agent = agents.agent_get(actor, user_id=user_id)  # 404 outside the actor's reach
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_MEMBERS)
    try:
        services.agent_status_set(actor=actor, user=agent.user, **status_fields(request.POST))
    except AppError as error:
        if error.status in (403, 404):
            raise
        return _page(
            request, error=error, error_agent=agent, form=request.POST, status=error.status
        )
    messages.success(request, f"Status of {agent.user} saved.")
    return redirect("inbox:agents", actor.brand.slug)
