"""Settings of the closed loop: the rules that open cases, the routing rules that pick their
owner, and the SLA (business hours) per priority.

Every member may read them; changing them needs MANAGE_FEEDBACK, checked before the form is
read (so a viewer's POST is a 403 whatever it carries).
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to, touchpoints_of
from opencx.surveys.selectors import surveys_visible_to
from opencx.ui.brand_views import brand_page

from . import selectors, services
from .forms import CaseRuleForm, RoutingRuleForm, SlaPolicyForm
from .views import sla_table


def _rule_form(actor, *args, **kwargs) -> CaseRuleForm:
    return CaseRuleForm(
        *args,
        locations=list(locations_visible_to(actor)),
        touchpoints=list(touchpoints_of(actor)),
        surveys=list(surveys_visible_to(actor).order_by("name")),
        **kwargs,
    )


def _routing_form(actor, *args, **kwargs) -> RoutingRuleForm:
    return RoutingRuleForm(
        *args,
        locations=list(locations_visible_to(actor)),
        touchpoints=list(touchpoints_of(actor)),
        people=list(selectors.brand_members(actor)),
        **kwargs,
    )


def _page(request, *, bound: dict | None = None, status: int = 200):
    actor = request.actor
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    bound = bound or {}
    sla_rows = sla_table(actor)
    if can_manage:
        for row in sla_rows:
            form = bound.get(("sla", row["priority"]))
            row["form"] = form or SlaPolicyForm(
                initial={
                    "priority": row["priority"],
                    "acknowledge_hours": row["acknowledge_hours"],
                    "resolve_hours": row["resolve_hours"],
                },
                prefix=f"sla-{row['priority']}",
            )
    return render(
        request,
        "cases/case_rules.html",
        {
            "rules": selectors.case_rules_of(actor),
            "routes": selectors.routing_rules_of(actor),
            "sla_rows": sla_rows,
            "can_manage": can_manage,
            "rule_form": bound.get("rule") or (_rule_form(actor) if can_manage else None),
            "routing_form": bound.get("routing") or (_routing_form(actor) if can_manage else None),
            "subnav": "rules",
        },
        status=status,
    )


def _create_rule(request):
    actor = request.actor
    form = _rule_form(actor, request.POST, prefix="rule")
    if not form.is_valid():
        return _page(request, bound={"rule": form}, status=400)
    try:
        rule = services.case_rule_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="name")
        return _page(request, bound={"rule": form}, status=form_error_status(error))
    messages.success(request, f"Rule “{rule.name}” added.")
    return redirect("cases:rules", actor.brand.slug)


def _create_route(request):
    actor = request.actor
    form = _routing_form(actor, request.POST, prefix="routing")
    if not form.is_valid():
        return _page(request, bound={"routing": form}, status=400)
    try:
        services.routing_rule_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="owner")
        return _page(request, bound={"routing": form}, status=form_error_status(error))
    messages.success(request, "Routing rule added.")
    return redirect("cases:rules", actor.brand.slug)


def _set_sla(request):
    actor = request.actor
    priority = request.POST.get("priority", "")
    form = SlaPolicyForm(request.POST, prefix=f"sla-{priority}")
    if not form.is_valid():
        return _page(request, bound={("sla", priority): form}, status=400)
    try:
        services.sla_policy_set(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="acknowledge_hours")
        return _page(request, bound={("sla", priority): form}, status=form_error_status(error))
    messages.success(request, "SLA saved; it applies to cases opened or re-prioritised from now.")
    return redirect("cases:rules", actor.brand.slug)


FORMS = {"rule": _create_rule, "routing": _create_route, "sla": _set_sla}


@brand_page
def case_rules(request):
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        return _page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    handler = FORMS.get(request.POST.get("form", ""))
    if handler is None:
        raise AppError("Unknown form.", field="form")
    return handler(request)


@brand_page
def case_rule_edit(request, pk):
    actor = request.actor
    rule = selectors.case_rule_get(actor, pk=pk)
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    status = 200
    if request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        if request.POST.get("action") == "toggle":
            services.case_rule_update(actor=actor, rule=rule, is_active=not rule.is_active)
            state = "on" if rule.is_active else "off"
            messages.success(request, f"Rule “{rule.name}” turned {state}.")
            return redirect("cases:rules", actor.brand.slug)
        form = _rule_form(actor, request.POST, prefix="rule")
        if form.is_valid():
            try:
                services.case_rule_update(actor=actor, rule=rule, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error, default_field="name")
                status = form_error_status(error)
            else:
                messages.success(request, f"Rule “{rule.name}” saved.")
                return redirect("cases:rules", actor.brand.slug)
        else:
            status = 400
    elif request.method in ("GET", "HEAD"):
        form = _rule_form(actor, initial=CaseRuleForm.initial_for(rule), prefix="rule")
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "cases/case_rule_edit.html",
        {"rule": rule, "form": form, "can_manage": can_manage, "subnav": "rules"},
        status=status,
    )


@brand_page
def case_rule_delete(request, pk):
    actor = request.actor
    rule = selectors.case_rule_get(actor, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    services.case_rule_delete(actor=actor, rule=rule)
    messages.success(request, f"Rule “{rule.name}” deleted; the cases it opened stay.")
    return redirect("cases:rules", actor.brand.slug)


@brand_page
def routing_rule_delete(request, pk):
    actor = request.actor
    route = selectors.routing_rule_get(actor, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    services.routing_rule_delete(actor=actor, route=route)
    messages.success(request, "Routing rule deleted.")
    return redirect("cases:rules", actor.brand.slug)
