"""Settings → Integrations: webhook endpoints, their delivery log, and "My notifications".

Endpoints and deliveries need brand-wide reach (others get 404) and MANAGE_BRAND (others get
403, before anything else on a POST). "My notifications" is every member's own page.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page

from . import selectors, services
from .catalogue import CATALOGUE, PING
from .forms import NotificationForm, WebhookForm
from .models import WebhookDelivery

PAGE_SIZE = 50


def _render(request, template: str, context: dict, status: int = 200):
    actor = request.actor
    context = {
        "section": "integrations",
        "can_manage_brand": actor.is_brand_wide and actor.can(Capability.MANAGE_BRAND),
        **context,
    }
    return render(request, template, context, status=status)


def _endpoint(request, pk: int):
    """The endpoint (404 outside the actor's reach), once the actor may manage the brand."""
    endpoint = selectors.webhook_endpoint_get(request.actor, pk=pk)
    request.actor.require(Capability.MANAGE_BRAND)
    return endpoint


def _post_only(request, pk: int):
    if request.method != "POST":
        selectors.webhook_endpoint_get(request.actor, pk=pk)
        return HttpResponseNotAllowed(["POST"])
    return None


@brand_page
def webhook_list(request):
    actor = request.actor
    actor.require(Capability.MANAGE_BRAND)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    endpoints = selectors.webhook_endpoints_visible_to(actor)
    return _render(
        request,
        "integrations/webhook_list.html",
        {"endpoints": endpoints, "catalogue": CATALOGUE},
    )


@brand_page
def webhook_new(request):
    actor = request.actor
    actor.require(Capability.MANAGE_BRAND)
    status = 200
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(actor=actor, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
                status = form_error_status(error)
            else:
                return _render(
                    request,
                    "integrations/webhook_secret.html",
                    {"endpoint": endpoint, "created": True},
                )
        else:
            status = 400
    else:
        form = WebhookForm()
    return _render(request, "integrations/webhook_form.html", {"form": form}, status)


@brand_page
def webhook_edit(request, pk):
    actor = request.actor
    endpoint = _endpoint(request, pk)
    status = 200
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_endpoint_update(
                    actor=actor, endpoint=endpoint, **form.cleaned_data
                )
            except AppError as error:
                add_app_error(form, error)
                status = form_error_status(error)
            else:
                messages.success(request, f"Webhook “{endpoint.name}” saved.")
                return redirect("integrations:list", actor.brand.slug)
        else:
            status = 400
    else:
        form = WebhookForm(initial=WebhookForm.initial_for(endpoint))
    recent = selectors.webhook_deliveries_visible_to(actor, endpoint=endpoint)[:10]
    return _render(
        request,
        "integrations/webhook_form.html",
        {"form": form, "endpoint": endpoint, "recent": recent},
        status,
    )


@brand_page
def webhook_delete(request, pk):
    if (refused := _post_only(request, pk)) is not None:
        return refused
    endpoint = _endpoint(request, pk)
    name = endpoint.name
    services.webhook_endpoint_delete(actor=request.actor, endpoint=endpoint)
    messages.success(request, f"Webhook “{name}” deleted with its delivery log.")
    return redirect("integrations:list", request.actor.brand.slug)


@brand_page
def webhook_rotate(request, pk):
    if (refused := _post_only(request, pk)) is not None:
        return refused
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_rotate_secret(actor=request.actor, endpoint=endpoint)
    return _render(
        request, "integrations/webhook_secret.html", {"endpoint": endpoint, "created": False}
    )


@brand_page
def webhook_ping(request, pk):
    if (refused := _post_only(request, pk)) is not None:
        return refused
    endpoint = _endpoint(request, pk)
    delivery = services.webhook_endpoint_ping(actor=request.actor, endpoint=endpoint)
    messages.success(request, "Test event queued; this page shows how it went.")
    return redirect("integrations:delivery", request.actor.brand.slug, delivery.pk)


@brand_page
def delivery_list(request):
    actor = request.actor
    actor.require(Capability.MANAGE_BRAND)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    status = request.GET.get("status", "")
    status = status if status in WebhookDelivery.Status.values else ""
    event = request.GET.get("event", "")
    events = [*CATALOGUE, PING]
    event = event if event in events else ""
    endpoints = selectors.webhook_endpoints_visible_to(actor)
    endpoint = None
    raw = request.GET.get("endpoint", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        endpoint = endpoints.filter(pk=int(raw)).first()
    deliveries = selectors.webhook_deliveries_visible_to(
        actor, endpoint=endpoint, status=status, event=event
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "integrations/delivery_list.html",
        {
            "page": page,
            "statuses": WebhookDelivery.Status.choices,
            "events": events,
            "endpoints": endpoints,
            "chosen": {"status": status, "event": event, "endpoint": endpoint},
        },
    )


@brand_page
def delivery_detail(request, pk):
    actor = request.actor
    delivery = selectors.webhook_delivery_get(actor, pk=pk)
    actor.require(Capability.MANAGE_BRAND)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    from .flows import body_for  # the body as it is sent

    body = body_for(delivery, delivery.endpoint)
    return _render(
        request,
        "integrations/delivery_detail.html",
        {
            "delivery": delivery,
            "body": body.decode(),
            "replays": delivery.replays.order_by("sequence"),
        },
    )


@brand_page
def delivery_replay(request, pk):
    actor = request.actor
    if request.method != "POST":
        selectors.webhook_delivery_get(actor, pk=pk)
        return HttpResponseNotAllowed(["POST"])
    delivery = selectors.webhook_delivery_get(actor, pk=pk)
    actor.require(Capability.MANAGE_BRAND)
    try:
        replay = services.webhook_delivery_replay(actor=actor, delivery=delivery)
    except AppError as error:
        messages.error(request, error.message)
        return redirect("integrations:delivery", actor.brand.slug, pk)
    messages.success(request, "Replay queued.")
    return redirect("integrations:delivery", actor.brand.slug, replay.pk)


@brand_page
def my_notifications(request):
    """Every member edits their own choices here, whatever their role."""
    actor = request.actor
    status = 200
    if request.method == "POST":
        form = NotificationForm(request.POST)
        if form.is_valid():
            try:
                services.notification_preference_update(actor=actor, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
                status = form_error_status(error)
            else:
                messages.success(request, "Your notification choices are saved.")
                return redirect("integrations:notifications", actor.brand.slug)
        else:
            status = 400
    else:
        preference = selectors.notification_preference_of(user=actor.user, brand=actor.brand)
        form = NotificationForm(initial=NotificationForm.initial_for(preference))
    return _render(
        request,
        "integrations/notifications.html",
        {"form": form, "section": "notifications"},
        status,
    )
