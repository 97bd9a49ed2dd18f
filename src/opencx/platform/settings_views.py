"""Brand settings: the brand itself, its members, its touchpoints and the audit log.

Everyone in the brand may read these pages (members limited to their own reach); every POST
needs the capability of the section, checked before anything else, so lower roles get 403.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.ui.brand_views import brand_page

from . import selectors, services
from .errors import AppError
from .forms import (
    BrandForm,
    InviteForm,
    MembershipForm,
    TouchpointEditForm,
    TouchpointForm,
    add_app_error,
    form_error_status,
)
from .roles import Capability

PAGE_SIZE = 50


def _render(request, template: str, section: str, context: dict, status: int = 200):
    context = {"section": section, **context}
    return render(request, template, context, status=status)


@brand_page
def brand_settings(request):
    actor = request.actor
    can_manage = actor.can(Capability.MANAGE_BRAND)
    status = 200
    if request.method == "POST":
        actor.require(Capability.MANAGE_BRAND)
        form = BrandForm(request.POST)
        if form.is_valid():
            try:
                services.brand_update(actor=actor, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
                status = form_error_status(error)
            else:
                messages.success(request, "Brand settings saved.")
                return redirect("settings:brand", actor.brand.slug)
        else:
            status = 400
    else:
        form = BrandForm(initial=BrandForm.initial_for(actor.brand))
    return _render(
        request,
        "platform/brand_settings.html",
        "brand",
        {"form": form, "can_manage": can_manage, "brand": actor.brand},
        status,
    )


def _members_page(request, *, invite_form=None, status=200):
    actor = request.actor
    memberships = selectors.memberships_visible_to(actor)
    location = request.current_location
    if location is not None:
        memberships = memberships.filter(location__path__startswith=location.path)
    page = Paginator(memberships, PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = actor.can(Capability.MANAGE_MEMBERS)
    if can_manage and invite_form is None:
        invite_form = InviteForm(locations=selectors.locations_visible_to(actor))
    return _render(
        request,
        "platform/members.html",
        "members",
        {"page": page, "can_manage": can_manage, "invite_form": invite_form},
        status,
    )


@brand_page
def members(request):
    actor = request.actor
    if request.method != "POST":
        return _members_page(request)
    actor.require(Capability.MANAGE_MEMBERS)
    form = InviteForm(request.POST, locations=selectors.locations_visible_to(actor))
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    try:
        invitation = services.membership_invite(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error)
        return _members_page(request, invite_form=form, status=form_error_status(error))
    email = invitation.membership.user.email
    if invitation.created_user:
        messages.success(request, f"{email} was invited and will get an e-mail to set a password.")
    else:
        messages.success(request, f"{email} was added to the brand.")
    return redirect("settings:members", actor.brand.slug)


@brand_page
def member_edit(request, pk):
    actor = request.actor
    membership = selectors.membership_get(actor, pk=pk)
    can_manage = actor.can(Capability.MANAGE_MEMBERS)
    locations = selectors.locations_visible_to(actor)
    status = 200
    if request.method == "POST":
        actor.require(Capability.MANAGE_MEMBERS)
        form = MembershipForm(request.POST, locations=locations)
        if form.is_valid():
            try:
                services.membership_change(actor=actor, membership=membership, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error)
                status = form_error_status(error)
            else:
                messages.success(request, f"Access of {membership.user.email} changed.")
                return redirect("settings:members", actor.brand.slug)
        else:
            status = 400
    else:
        form = MembershipForm(
            initial={"role": membership.role, "location": membership.location_id},
            locations=locations,
        )
    return _render(
        request,
        "platform/member_edit.html",
        "members",
        {"membership": membership, "form": form, "can_manage": can_manage},
        status,
    )


@brand_page
def member_remove(request, pk):
    actor = request.actor
    if request.method != "POST":
        selectors.membership_get(actor, pk=pk)  # 404 outside the actor's reach
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_MEMBERS)
    membership = selectors.membership_get(actor, pk=pk)
    email = membership.user.email
    try:
        services.membership_remove(actor=actor, membership=membership)
    except AppError as error:
        messages.error(request, error.message)
        return redirect("settings:member", actor.brand.slug, pk)
    messages.success(request, f"{email} no longer has access to the brand.")
    return redirect("settings:members", actor.brand.slug)


def _touchpoints_page(request, *, add_form=None, edit_forms=None, status=200):
    actor = request.actor
    can_manage = actor.can(Capability.MANAGE_TOUCHPOINTS)
    edit_forms = edit_forms or {}
    rows = []
    for touchpoint in selectors.touchpoints_of(actor):
        form = edit_forms.get(touchpoint.pk)
        if form is None and can_manage:
            form = TouchpointEditForm(
                initial={
                    "name": touchpoint.name,
                    "description": touchpoint.description,
                    "is_active": touchpoint.is_active,
                },
                prefix=f"tp{touchpoint.pk}",
            )
        rows.append((touchpoint, form))
    return _render(
        request,
        "platform/touchpoints.html",
        "touchpoints",
        {
            "rows": rows,
            "can_manage": can_manage,
            "add_form": add_form or (TouchpointForm() if can_manage else None),
        },
        status,
    )


@brand_page
def touchpoints(request):
    actor = request.actor
    if request.method != "POST":
        return _touchpoints_page(request)
    actor.require(Capability.MANAGE_TOUCHPOINTS)
    form = TouchpointForm(request.POST)
    if not form.is_valid():
        return _touchpoints_page(request, add_form=form, status=400)
    try:
        touchpoint = services.touchpoint_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error)
        return _touchpoints_page(request, add_form=form, status=form_error_status(error))
    messages.success(request, f"Touchpoint “{touchpoint.name}” added.")
    return redirect("settings:touchpoints", actor.brand.slug)


@brand_page
def touchpoint_edit(request, pk):
    actor = request.actor
    if request.method != "POST":
        selectors.touchpoint_get(actor, pk=pk)
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_TOUCHPOINTS)
    touchpoint = selectors.touchpoint_get(actor, pk=pk)
    form = TouchpointEditForm(request.POST, prefix=f"tp{touchpoint.pk}")
    if not form.is_valid():
        return _touchpoints_page(request, edit_forms={touchpoint.pk: form}, status=400)
    try:
        services.touchpoint_update(actor=actor, touchpoint=touchpoint, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error)
        return _touchpoints_page(
            request, edit_forms={touchpoint.pk: form}, status=form_error_status(error)
        )
    messages.success(request, f"Touchpoint “{form.cleaned_data['name']}” saved.")
    return redirect("settings:touchpoints", actor.brand.slug)


@brand_page
def audit_log(request):
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET"])
    events = selectors.audit_events_visible_to(request.actor)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "platform/audit_log.html", "audit", {"page": page})
