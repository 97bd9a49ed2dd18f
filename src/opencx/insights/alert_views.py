"""Pages of brand monitoring: the alerts in the member's reach, one alert with its figures and
the feedback behind it, and the rules that raise them.

Every member may read the alerts that their reach covers (a brand-level alert: brand-wide
members) and the rules; acknowledging needs REPLY, changing rules MANAGE_FEEDBACK, both checked
before the form is read.
"""

import re

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.inbox.selectors import channels_visible_to
from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.numbers import whole_number
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to
from opencx.ui.brand_views import brand_page, location_filter, page_or_partial

from . import alerts
from .models import AlertRule

PAGE_SIZE = 50
STATES = (("open", "Open"), ("acknowledged", "Acknowledged"), ("all", "All"))
_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,8})?")


# --- forms ------------------------------------------------------------------------------------


def _whole(field: str, label: str):
    def clean(self):
        raw = (self.cleaned_data.get(field) or "").strip()
        value = whole_number(raw)
        if value is None:
            raise forms.ValidationError(f"{label}: a whole number, e.g. 7.")
        return value

    return clean


def _decimal(field: str, label: str):
    def clean(self):
        raw = (self.cleaned_data.get(field) or "").strip().replace(",", ".")
        if not _DECIMAL.fullmatch(raw):
            raise forms.ValidationError(f"{label}: a number such as 0.05.")
        return float(raw)

    return clean


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(label="Alert on", choices=AlertRule.Kind.choices)
    location = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Whole brand", help_text="Its whole subtree"
    )
    channel = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every channel")
    group_by = forms.ChoiceField(
        label="Compare", choices=AlertRule.GroupBy.choices, initial="location"
    )
    keywords = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Keyword watch: words or phrases in any language, separated by commas",
    )
    window_days = forms.CharField(label="Recent window (days)", initial="7", max_length=6)
    baseline_days = forms.CharField(label="Baseline (days before it)", initial="56", max_length=6)
    min_n = forms.CharField(
        label="Least items in each window", initial="30", max_length=8, help_text="Thinner: no test"
    )
    min_count = forms.CharField(label="Keyword matches per alert", initial="1", max_length=8)
    alpha = forms.CharField(label="Significance level (alpha)", initial="0.05", max_length=12)
    threshold = forms.CharField(
        label="Least change",
        initial="0",
        max_length=12,
        help_text="Negative share: points of rise; rating drop: stars",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    clean_window_days = _whole("window_days", "Recent window")
    clean_baseline_days = _whole("baseline_days", "Baseline")
    clean_min_n = _whole("min_n", "Least items")
    clean_min_count = _whole("min_count", "Keyword matches")
    clean_alpha = _decimal("alpha", "Significance level")
    clean_threshold = _decimal("threshold", "Least change")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations_visible_to(actor)
        self.fields["channel"].queryset = channels_visible_to(actor)

    def clean_keywords(self):
        raw = self.cleaned_data.get("keywords") or ""
        return [word.strip() for word in re.split(r"[,\n]", raw) if word.strip()]

    @staticmethod
    def initial_for(rule: AlertRule) -> dict:
        initial = alerts.rule_fields(rule)
        initial["keywords"] = ", ".join(rule.keywords)
        for name in ("window_days", "baseline_days", "min_n", "min_count"):
            initial[name] = str(initial[name])
        initial["alpha"] = f"{rule.alpha:g}"
        initial["threshold"] = f"{rule.threshold:g}"
        return initial


# --- alerts -----------------------------------------------------------------------------------


@brand_page
def alert_list(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    actor = request.actor
    state = request.GET.get("state", "open")
    state = state if state in dict(STATES) else "open"
    kind = request.GET.get("kind", "")
    kind = kind if kind in AlertRule.Kind.values else ""
    within = location_filter(request) or request.current_location
    found = alerts.alerts_visible_to(
        actor, state="" if state == "all" else state, kind=kind, location=within
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return page_or_partial(
        request,
        "insights/alerts/alert_list.html",
        {
            "page": page,
            "filters": {"state": state, "kind": kind, "location": within.pk if within else None},
            "states": STATES,
            "kinds": AlertRule.Kind.choices,
            "locations": locations_visible_to(actor),
            "open_count": alerts.alerts_visible_to(actor, state="open").count(),
        },
    )


@brand_page
def alert_detail(request, pk):
    actor = request.actor
    alert = alerts.alert_get(actor, pk=pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return render(
        request,
        "insights/alerts/alert_detail.html",
        {
            "alert": alert,
            "figures": alert.details,
            "items": alerts.alert_items(actor, alert)[: alerts.ITEM_CAP],
            "can_acknowledge": actor.can(Capability.REPLY),
        },
    )


@brand_page
def alert_acknowledge(request, pk):
    actor = request.actor
    alert = alerts.alert_get(actor, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.REPLY)
    alerts.alert_acknowledge(actor=actor, alert=alert)
    messages.success(request, "Alert acknowledged.")
    return redirect("alerts:detail", actor.brand.slug, alert.pk)


# --- rules ------------------------------------------------------------------------------------


def _rules_page(request, *, form=None, status=200):
    actor = request.actor
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    if form is None and can_manage:
        form = AlertRuleForm(actor=actor)
    return render(
        request,
        "insights/alerts/alert_rules.html",
        {
            "rules": alerts.alert_rules_of(actor),
            "form": form,
            "can_manage": can_manage,
        },
        status=status,
    )


@brand_page
def alert_rules(request):
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        return _rules_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    form = AlertRuleForm(request.POST, actor=actor)
    if not form.is_valid():
        return _rules_page(request, form=form, status=400)
    try:
        rule = alerts.alert_rule_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="name")
        return _rules_page(request, form=form, status=form_error_status(error))
    messages.success(request, f"Alert rule “{rule.name}” added.")
    return redirect("alerts:rules", actor.brand.slug)


@brand_page
def alert_rule_edit(request, pk):
    actor = request.actor
    rule = alerts.alert_rule_get(actor, pk=pk)
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    status = 200
    if request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        form = AlertRuleForm(request.POST, actor=actor)
        if form.is_valid():
            try:
                alerts.alert_rule_update(actor=actor, rule=rule, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error, default_field="name")
                status = form_error_status(error)
            else:
                messages.success(request, f"Alert rule “{rule.name}” saved.")
                return redirect("alerts:rules", actor.brand.slug)
        else:
            status = 400
    elif request.method in ("GET", "HEAD"):
        form = AlertRuleForm(actor=actor, initial=AlertRuleForm.initial_for(rule))
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "insights/alerts/alert_rule_edit.html",
        {"rule": rule, "form": form, "can_manage": can_manage},
        status=status,
    )


@brand_page
def alert_rule_delete(request, pk):
    actor = request.actor
    rule = alerts.alert_rule_get(actor, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    alerts.alert_rule_delete(actor=actor, rule=rule)
    messages.success(request, f"Alert rule “{rule.name}” deleted; its alerts stay.")
    return redirect("alerts:rules", actor.brand.slug)
