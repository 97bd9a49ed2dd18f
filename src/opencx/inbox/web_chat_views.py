"""The admins' page of web chat widgets: create one, choose the sites that may embed it, and
copy its embed snippet (or try it on the demo page)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to
from opencx.ui.brand_views import brand_page

from . import widget
from .widget_views import embed_snippet


def _page(request, *, error=None, form=None, status=200):
    chats = [
        {"config": config, "snippet": embed_snippet(request, config)}
        for config in widget.web_chats_visible_to(request.actor)
    ]
    return render(
        request,
        "inbox/web_chats.html",
        {
            "chats": chats,
            "locations": locations_visible_to(request.actor).only("id", "name", "path"),
            # A brand-level chat is for brand-wide admins; an admin of one region picks a place.
            "brand_wide": request.actor.is_brand_wide,
            "error": error,
            "form": form or {},
        },
        status=status,
    )


@brand_page
def web_chats(request):
    """GET: the widgets and their snippets. POST action=create (name, location, origins) or
    action=origins (inbox, origins, greeting)."""
    actor = request.actor
    actor.require(Capability.MANAGE_BRAND)
    if request.method != "POST":
        return _page(request)
    action = request.POST.get("action", "")
    try:
        if action == "create":
            raw = request.POST.get("location", "")
            location = None
            if not raw and not actor.is_brand_wide:
                raise AppError("Choose the location the chat belongs to.", field="location")
            if raw:
                location = locations_visible_to(actor).filter(pk=raw if raw.isdigit() else 0)
                location = location.first()
                if location is None:
                    raise NotFound("No such location.", field="location")
            inbox = widget.inbox_create_web_chat(
                actor=actor,
                name=request.POST.get("name", ""),
                location=location,
                allowed_origins=request.POST.get("allowed_origins", ""),
                greeting=request.POST.get("greeting", ""),
            )
            done = f"Web chat “{inbox.name}” created: copy its snippet below."
        elif action == "update":
            raw = request.POST.get("inbox", "")
            config = widget.web_chats_visible_to(actor).filter(inbox_id=raw if raw.isdigit() else 0)
            config = config.first()
            if config is None:
                raise NotFound("No such inbox.", field="inbox")
            widget.web_chat_update(
                actor=actor,
                inbox=config.inbox,
                allowed_origins=request.POST.get("allowed_origins", ""),
                greeting=request.POST.get("greeting", ""),
            )
            done = f"Web chat “{config.inbox.name}” saved."
        else:
            raise AppError("Unknown action.", field="action")
    except AppError as error:
        if error.status in (403, 404):
            raise
        return _page(request, error=error, form=request.POST, status=error.status)
    messages.success(request, done)
    return redirect(reverse("inbox:web_chats", args=[actor.brand.slug]))
