"""Playbook screens: playbooks by segment, their editor, coupon pools, outcomes.

Everyone in the brand may read these pages (within their reach); every POST needs
MANAGE_FEEDBACK, checked before anything else, so lower roles get 403.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get, locations_visible_to
from opencx.ui.brand_views import brand_page

from . import selectors, services
from .forms import FileForm, GenerateForm, PlaybookForm, PoolForm
from .models import SEGMENT_ACTIONS, Action, Segment

# --- Playbooks --------------------------------------------------------------------------------


@brand_page
@require_safe
def playbook_list(request):
    actor, location = request.actor, request.current_location
    playbooks = selectors.playbook_list(actor, location=location)
    sections = [
        {
            "segment": value,
            "label": label,
            "actions": [Action(a).label for a in SEGMENT_ACTIONS[value]],
            "playbooks": [p for p in playbooks if p.segment == value],
        }
        for value, label in Segment.choices
    ]
    return render(
        request,
        "offers/playbook_list.html",
        {"sections": sections, "can_manage": actor.can(Capability.MANAGE_FEEDBACK)},
    )


def _form(request, *, data=None, initial=None, editing=False):
    actor = request.actor
    return PlaybookForm(
        data,
        initial=initial,
        brand=actor.brand,
        locations=locations_visible_to(actor).only("id", "name", "path"),
        pools=selectors.coupon_pools_of(actor),
        allow_default=actor.is_brand_wide,
        editing=editing,
    )


def _pool_of(request, form):
    raw = form.cleaned_data.get("coupon_pool") or ""
    return selectors.coupon_pool_get(request.actor, pk=int(raw)) if raw else None


def _editor(request, form, playbook=None, status=200):
    return render(
        request,
        "offers/playbook_form.html",
        {
            "form": form,
            "playbook": playbook,
            "can_manage": request.actor.can(Capability.MANAGE_FEEDBACK),
        },
        status=status,
    )


@brand_page
def playbook_new(request):
    actor = request.actor
    if request.method != "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        return _editor(request, _form(request, initial={"is_active": True}))
    actor.require(Capability.MANAGE_FEEDBACK)
    form = _form(request, data=request.POST)
    if not form.is_valid():
        return _editor(request, form, status=400)
    try:
        raw = form.cleaned_data["location"]
        playbook = services.playbook_create(
            actor=actor,
            location=location_get(actor, pk=int(raw)) if raw else None,
            segment=form.cleaned_data["segment"],
            action=form.cleaned_data["action"],
            is_active=form.cleaned_data["is_active"],
            coupon_pool=_pool_of(request, form),
            email_subject=form.texts("subject"),
            email_body=form.texts("body"),
        )
    except AppError as error:
        add_app_error(form, error)
        return _editor(request, form, status=form_error_status(error))
    messages.success(request, f"Playbook saved: {playbook}.")
    return redirect("offers:list", actor.brand.slug)


@brand_page
def playbook_edit(request, pk):
    actor = request.actor
    playbook = selectors.playbook_get(actor, pk=pk)
    initial = PlaybookForm.initial_for(playbook)
    if request.method != "POST":
        return _editor(request, _form(request, initial=initial, editing=True), playbook)
    actor.require(Capability.MANAGE_FEEDBACK)
    form = _form(request, data=request.POST, initial=initial, editing=True)
    if not form.is_valid():
        return _editor(request, form, playbook, status=400)
    try:
        services.playbook_update(
            actor=actor,
            playbook=playbook,
            action=form.cleaned_data["action"],
            is_active=form.cleaned_data["is_active"],
            coupon_pool=_pool_of(request, form),
            email_subject=form.texts("subject"),
            email_body=form.texts("body"),
        )
    except AppError as error:
        add_app_error(form, error)
        return _editor(request, form, playbook, status=form_error_status(error))
    messages.success(request, f"Playbook saved: {playbook}.")
    return redirect("offers:list", actor.brand.slug)


# --- Coupon pools -----------------------------------------------------------------------------


def _pools_page(request, *, pool_form=None, errors=None, status=200):
    actor = request.actor
    pools = list(selectors.coupon_pools_of(actor))
    counts = selectors.pool_counts(actor, pools=pools)
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    return render(
        request,
        "offers/pools.html",
        {
            "rows": [(pool, counts[pool.pk]) for pool in pools],
            "can_manage": can_manage,
            "pool_form": pool_form or (PoolForm() if can_manage else None),
            "generate_form": GenerateForm(),
            "file_form": FileForm(),
            "errors": errors or {},
        },
        status=status,
    )


@brand_page
def pools(request):
    actor = request.actor
    if request.method != "POST":
        return _pools_page(request)
    actor.require(Capability.MANAGE_FEEDBACK)
    form = PoolForm(request.POST)
    if not form.is_valid():
        return _pools_page(request, pool_form=form, status=400)
    try:
        pool = services.coupon_pool_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error)
        return _pools_page(request, pool_form=form, status=form_error_status(error))
    messages.success(request, f"Pool “{pool.name}” created. Add codes to it below.")
    return redirect("offers:pools", actor.brand.slug)


def _post_only(request, pk=None):
    if pk is not None:
        selectors.coupon_pool_get(request.actor, pk=pk)  # 404 outside the brand
    return HttpResponseNotAllowed(["POST"])


def _form_error(form) -> str:
    return "; ".join(str(message) for messages_ in form.errors.values() for message in messages_)


@brand_page
def pool_generate(request, pk):
    actor = request.actor
    if request.method != "POST":
        return _post_only(request, pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    pool = selectors.coupon_pool_get(actor, pk=pk)
    form = GenerateForm(request.POST)
    if not form.is_valid():
        return _pools_page(request, errors={pool.pk: _form_error(form)}, status=400)
    try:
        count = services.coupons_generate(actor=actor, pool=pool, **form.cleaned_data)
    except AppError as error:
        status = form_error_status(error)
        return _pools_page(request, errors={pool.pk: error.message}, status=status)
    messages.success(request, f"{count:,} codes added to “{pool.name}”.")
    return redirect("offers:pools", actor.brand.slug)


@brand_page
def pool_upload(request, pk):
    actor = request.actor
    if request.method != "POST":
        return _post_only(request, pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    pool = selectors.coupon_pool_get(actor, pk=pk)
    form = FileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _pools_page(request, errors={pool.pk: _form_error(form)}, status=400)
    try:
        count = services.coupons_upload(actor=actor, pool=pool, text=form.cleaned_data["file"])
    except AppError as error:
        status = form_error_status(error)
        return _pools_page(request, errors={pool.pk: error.message}, status=status)
    messages.success(request, f"{count:,} codes added to “{pool.name}”.")
    return redirect("offers:pools", actor.brand.slug)


@brand_page
def redemptions(request):
    actor = request.actor
    if request.method != "POST":
        return _post_only(request)
    actor.require(Capability.MANAGE_FEEDBACK)
    form = FileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _pools_page(request, errors={"redemptions": _form_error(form)}, status=400)
    try:
        result = services.redemptions_import(actor=actor, text=form.cleaned_data["file"])
    except AppError as error:
        status = form_error_status(error)
        return _pools_page(request, errors={"redemptions": error.message}, status=status)
    messages.success(
        request,
        f"{result.redeemed:,} redemptions recorded"
        + (f"; {result.already:,} codes had been redeemed already." if result.already else "."),
    )
    return redirect("offers:pools", actor.brand.slug)


# --- Outcomes ---------------------------------------------------------------------------------


def _day(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, "")[:10])
    except ValueError:
        return None


@brand_page
@require_safe
def outcomes(request):
    actor, location = request.actor, request.current_location
    try:
        zone = ZoneInfo(actor.brand.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    day_from, day_to = _day(request, "from"), _day(request, "to")
    since = datetime.combine(day_from, time(0), tzinfo=zone) if day_from else None
    until = datetime.combine(day_to + timedelta(days=1), time(0), tzinfo=zone) if day_to else None
    by_location = request.GET.get("by") == "location"
    rows = selectors.playbook_outcomes(
        actor, location=location, since=since, until=until, by_location=by_location
    )
    return render(
        request,
        "offers/outcomes.html",
        {
            "rows": rows,
            "totals": selectors.outcome_totals(rows),
            "day_from": day_from,
            "day_to": day_to,
            "by_location": by_location,
        },
    )
