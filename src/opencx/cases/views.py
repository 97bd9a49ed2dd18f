"""Case pages: the list, one case (worked through forms that call the services), a new case by
hand, and the "closed loop" dashboard. Rules, routing and SLA settings are in rule_views.py.

Every read starts from an actor-scoped selector (another brand's or another store's case is
404); every POST checks the capability before it reads the form, goes through a service, shows
the service's AppError next to the field it names, and redirects after success.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from opencx.contacts.selectors import (
    TIMELINE_LIMIT,
    contact_address,
    contact_order_summary,
    contact_timeline,
    contacts_visible_to,
)
from opencx.platform.errors import AppError, NotFound
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.numbers import whole_number
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to
from opencx.surveys.selectors import response_get
from opencx.ui.brand_views import brand_page, location_choices, location_filter, page_or_partial

from . import report_selectors, selectors, services
from .forms import (
    AssignForm,
    CaseNewForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    RootCauseForm,
    TransitionForm,
)
from .models import Case, CaseEvent, Priority

PAGE_SIZE = 50
DUE_SOON = timedelta(hours=24)
REPORT_DAYS = 90
MAX_ID = 2**31 - 1
STATUS_TABS = ("open", *Case.Status.values, "all")
TAB_LABELS = {"open": "Open", **dict(Case.Status.choices), "all": "All"}
# The button that moves a case to each status (reopening a resolved case reads differently).
TRANSITION_LABELS = {
    Case.Status.ACKNOWLEDGED: "Acknowledge",
    Case.Status.IN_PROGRESS: "Start work",
    Case.Status.RESOLVED: "Resolve",
    Case.Status.CLOSED: "Close",
}


def _id(text: str) -> int | None:
    number = whole_number((text or "").strip())
    return number if number is not None and 0 < number <= MAX_ID else None


def sla_table(actor) -> list[dict]:
    """Per priority, the business hours to acknowledge and to resolve, and whether they are
    the built-in defaults."""
    policies = selectors.sla_policies_of(actor)
    rows = []
    for priority in reversed(Priority.values):
        policy = policies.get(priority)
        acknowledge, resolve = services.DEFAULT_SLA_HOURS[priority]
        rows.append(
            {
                "priority": priority,
                "label": Priority(priority).label,
                "acknowledge_hours": policy.acknowledge_hours if policy else acknowledge,
                "resolve_hours": policy.resolve_hours if policy else resolve,
                "is_default": policy is None,
                "default": (acknowledge, resolve),
            }
        )
    return rows


# --- The list ---------------------------------------------------------------------------------


def _list_filters(request) -> tuple[selectors.CaseFilters, dict]:
    get = request.GET
    status = get.get("status", "open")
    status = status if status in STATUS_TABS else "open"
    owner_param = get.get("owner", "")
    if owner_param == "none":
        owner = 0
    elif owner_param == "me":
        owner = request.user.pk
    else:
        owner = _id(owner_param)
        owner_param = str(owner) if owner else ""
    within = location_filter(request)
    priority = get.get("priority", "")
    priority = priority if priority in Priority.values else ""
    root_cause = get.get("root_cause", "")
    root_cause = root_cause if root_cause in Case.RootCause.values else ""
    overdue = get.get("overdue", "") == "1"
    q = get.get("q", "").strip()[:200]
    filters = selectors.CaseFilters(
        status="" if status == "all" else status,
        owner=owner,
        location=within or request.current_location,
        priority=priority,
        overdue=overdue,
        root_cause=root_cause,
        q=q,
    )
    shown = {
        "status": status,
        "owner": owner_param,
        "location": within.pk if within else None,
        "priority": priority,
        "root_cause": root_cause,
        "overdue": overdue,
        "q": q,
    }
    return filters, shown


def flag(case: Case, now: datetime) -> str:
    """ "overdue", "due_soon", "ack_late" (new and past its acknowledge-by time) or ""."""
    if not case.is_open:
        return ""
    if case.is_overdue(now):
        return "overdue"
    if case.due_at is not None and case.due_at - now <= DUE_SOON:
        return "due_soon"
    if (
        case.status == Case.Status.NEW
        and case.acknowledge_due_at is not None
        and case.acknowledge_due_at < now
    ):
        return "ack_late"
    return ""


@brand_page
@require_safe
def case_list(request):
    actor = request.actor
    filters, shown = _list_filters(request)
    now = timezone.now()
    counts = selectors.case_status_counts(actor, location=filters.location)
    tab_counts = {
        "open": sum(counts.get(status, 0) for status in Case.OPEN_STATUSES),
        **{status: counts.get(status, 0) for status in Case.Status.values},
        "all": sum(counts.values()),
    }
    cases = selectors.case_list(actor, filters=filters, now=now)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(case, flag(case, now)) for case in page.object_list]
    return page_or_partial(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": shown,
            "tabs": [(tab, TAB_LABELS[tab], tab_counts[tab]) for tab in STATUS_TABS],
            "status_label": TAB_LABELS[shown["status"]].lower(),
            "owners": selectors.case_owners(actor),
            "locations": location_choices(actor, request.current_location),
            "priorities": Priority.choices,
            "root_causes": Case.RootCause.choices,
            "can_work": actor.can(Capability.REPLY),
            "filtered": any(
                shown[key]
                for key in ("owner", "location", "priority", "root_cause", "overdue", "q")
            ),
            "subnav": "list",
        },
        partial="results",
    )


# --- A new case by hand -----------------------------------------------------------------------


def _linked(request, data) -> tuple:
    """The response or customer a new case starts from (`?response=` / `?contact=`), each
    within the actor's reach (404 otherwise)."""
    actor = request.actor
    response = contact = None
    response_id, contact_id = _id(data.get("response", "")), _id(data.get("contact", ""))
    if response_id:
        response = response_get(actor, pk=response_id)
        contact = response.contact
    elif contact_id:
        contact = contacts_visible_to(actor).filter(pk=contact_id).first()
        if contact is None:
            raise NotFound("No such customer.")
    return response, contact


@brand_page
def case_new(request):
    actor = request.actor
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.REPLY)
    data = request.POST if request.method == "POST" else request.GET
    response, contact = _linked(request, data)
    locations = list(locations_visible_to(actor))
    status = 200
    if request.method == "POST":
        form = CaseNewForm(request.POST, locations=locations)
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                if email and contact is None:
                    contact = (
                        contacts_visible_to(actor)
                        .filter(identities__kind="email", identities__value=email.strip().lower())
                        .first()
                    )
                    if contact is None:
                        raise AppError("No customer with this e-mail address.", field="email")
                case = services.case_open_manually(
                    actor=actor,
                    location=form.cleaned_data["location"],
                    title=form.cleaned_data["title"],
                    priority=form.cleaned_data["priority"],
                    contact=contact,
                    response=response,
                )
            except AppError as error:
                add_app_error(form, error, default_field="title")
                status = form_error_status(error)
            else:
                messages.success(request, f"Case #{case.pk} opened.")
                return redirect("cases:detail", actor.brand.slug, case.pk)
        else:
            status = 400
    else:
        initial = {"priority": Priority.NORMAL}
        place = response.location if response else request.current_location
        if place is not None:
            initial["location"] = place.pk
        if response is not None:
            score = f" {response.score}" if response.score is not None else ""
            initial["title"] = f"{response.survey.name}:{score} at {response.location.name}"
        form = CaseNewForm(initial=initial, locations=locations)
    return render(
        request,
        "cases/case_new.html",
        {"form": form, "response": response, "contact": contact, "subnav": "list"},
        status=status,
    )


# --- One case ---------------------------------------------------------------------------------


def _sla_of(actor, case: Case) -> tuple[int, int, bool]:
    row = next(r for r in sla_table(actor) if r["priority"] == case.priority)
    return row["acknowledge_hours"], row["resolve_hours"], row["is_default"]


def _link(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _history(actor, case: Case) -> dict:
    """The customer's whole history beside the case (what the actor may see of it)."""
    contact = case.contact
    if contact is None:
        return {}
    slug = actor.brand.slug
    entries = []
    for entry in contact_timeline(actor, contact=contact):
        item = entry.item
        url = {
            "response": lambda pk: _link("surveys:response-detail", slug, pk),
            "feedback": lambda pk: _link("feedback:detail", slug, pk),
            "conversation": lambda pk: _link("inbox:detail", slug, pk),
        }.get(entry.kind, lambda pk: None)(item.pk)
        entries.append({"entry": entry, "url": url, "in_case": False})
    in_case = {
        ("response", source.response_id) if source.response_id else ("feedback", source.feedback_id)
        for source in case.sources.all()
    }
    for row in entries:
        row["in_case"] = (row["entry"].kind, row["entry"].item.pk) in in_case
    return {
        "address": contact_address(contact),
        "contact_url": (
            reverse("contacts:detail", args=[slug, contact.pk])
            if contacts_visible_to(actor).filter(pk=contact.pk).exists()
            else None
        ),
        "orders": contact_order_summary(actor, contact=contact),
        "entries": entries,
        "limit": TIMELINE_LIMIT,
        "other_cases": list(
            selectors.cases_visible_to(actor)
            .filter(contact=contact)
            .exclude(pk=case.pk)
            .order_by("-opened_at")[:10]
        ),
    }


def _detail_page(request, case: Case, *, bound: dict | None = None, status: int = 200):
    actor = request.actor
    bound = bound or {}
    now = timezone.now()
    can_work = actor.can(Capability.REPLY)
    forms = {}
    if can_work:
        people = list(selectors.case_assignees(actor, location=case.location))
        zone = case.location.timezone
        forms = {
            "transition": TransitionForm(),
            "assign": AssignForm(initial={"owner": case.owner_id or ""}, people=people),
            "priority": PriorityForm(initial={"priority": case.priority}),
            "root_cause": RootCauseForm(initial=RootCauseForm.initial_for(case), zone_name=zone),
            "reply": ReplyForm(),
            "note": NoteForm(),
        }
        forms.update(bound)
    acknowledge_hours, resolve_hours, sla_default = _sla_of(actor, case)
    allowed = services.TRANSITIONS[case.status]
    transitions = [
        (
            status_,
            "Reopen"
            if case.status == Case.Status.RESOLVED and status_ == Case.Status.IN_PROGRESS
            else TRANSITION_LABELS[status_],
        )
        for status_ in Case.Status.values
        if status_ in allowed
    ]
    events = list(selectors.case_timeline(case))
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "now": now,
            "flag": flag(case, now),
            "ack_late": case.acknowledge_due_at is not None
            and (case.acknowledged_at or now) > case.acknowledge_due_at,
            "resolve_late": case.due_at is not None
            and (case.resolved_at or case.closed_at or now) > case.due_at,
            "sla": {
                "acknowledge_hours": acknowledge_hours,
                "resolve_hours": resolve_hours,
                "is_default": sla_default,
            },
            "events": events,
            "replies": [e for e in events if e.kind == CaseEvent.Kind.REPLY],
            "sources": list(selectors.case_sources(case)),
            "transitions": transitions,
            "can_work": can_work,
            "forms": forms,
            "history": _history(actor, case),
            "subnav": "list",
        },
        status=status,
    )


def _run(request, case: Case, action: str, form, call):
    """Validate `form`, run the service `call(cleaned_data)`; redirect or show the error."""
    if not form.is_valid():
        return _detail_page(request, case, bound={action: form}, status=400)
    try:
        message = call(form.cleaned_data)
    except AppError as error:
        add_app_error(form, error)
        return _detail_page(request, case, bound={action: form}, status=form_error_status(error))
    messages.success(request, message)
    return redirect(
        reverse("cases:detail", args=[request.actor.brand.slug, case.pk]) + f"#{action}"
    )


def _transition(request, case):
    actor = request.actor

    def call(data):
        services.case_transition(actor=actor, case=case, to=data["to"], note=data["note"])
        return f"Case #{case.pk} is now {Case.Status(data['to']).label.lower()}."

    return _run(request, case, "transition", TransitionForm(request.POST), call)


def _assign(request, case):
    actor = request.actor
    people = list(selectors.case_assignees(actor, location=case.location))

    def call(data):
        services.case_assign(actor=actor, case=case, owner=data["owner"])
        return f"Owner: {data['owner'] or 'nobody'}."

    return _run(request, case, "assign", AssignForm(request.POST, people=people), call)


def _priority(request, case):
    actor = request.actor

    def call(data):
        services.case_set_priority(actor=actor, case=case, priority=data["priority"])
        return f"Priority: {Priority(data['priority']).label.lower()}; due dates moved."

    return _run(request, case, "priority", PriorityForm(request.POST), call)


def _root_cause(request, case):
    actor = request.actor
    form = RootCauseForm(request.POST, zone_name=case.location.timezone)

    def call(data):
        services.case_record_root_cause(actor=actor, case=case, **data)
        return "Root cause saved."

    return _run(request, case, "root_cause", form, call)


def _reply(request, case):
    actor = request.actor

    def call(data):
        event = services.case_reply(
            actor=actor, case=case, body=data["body"], subject=data["subject"]
        )
        return f"Reply to {event.data.get('to')} queued."

    return _run(request, case, "reply", ReplyForm(request.POST), call)


def _note(request, case):
    actor = request.actor

    def call(data):
        services.case_note(actor=actor, case=case, body=data["body"])
        return "Note added."

    return _run(request, case, "note", NoteForm(request.POST), call)


ACTIONS = {
    "transition": _transition,
    "assign": _assign,
    "priority": _priority,
    "root_cause": _root_cause,
    "reply": _reply,
    "note": _note,
}


@brand_page
def case_detail(request, pk):
    actor = request.actor
    case = selectors.case_get(actor, pk=pk)
    if request.method in ("GET", "HEAD"):
        return _detail_page(request, case)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.REPLY)
    handler = ACTIONS.get(request.POST.get("action", ""))
    if handler is None:
        raise AppError("Unknown action.", field="action")
    return handler(request, case)


# --- The closed-loop dashboard ----------------------------------------------------------------


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def report_period(request) -> tuple[date, date]:
    """[from, to] days (inclusive) from the query string; default the last 90 days."""
    zone = ZoneInfo(request.actor.brand.timezone or "UTC")
    today = timezone.now().astimezone(zone).date()
    last = _day(request.GET.get("to", "")) or today
    first = _day(request.GET.get("from", "")) or last - timedelta(days=REPORT_DAYS - 1)
    if first > last:
        first, last = last, first
    return first, last


def day_bounds(actor, first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(actor.brand.timezone or "UTC")
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


@brand_page
@require_safe
def case_dashboard(request):
    actor = request.actor
    first, last = report_period(request)
    since, until = day_bounds(actor, first, last)
    within = location_filter(request)
    location = within or request.current_location
    report = report_selectors.closed_loop_report(actor, since=since, until=until, location=location)
    outcomes = report_selectors.playbook_outcomes(
        actor, since=since, until=until, location=location
    )
    for outcome in outcomes:
        outcome.next_promoter = outcome.moved_to("promoter")
    return page_or_partial(
        request,
        "cases/case_dashboard.html",
        {
            "report": report,
            "time_rows": [("To acknowledge", report.acknowledge), ("To resolve", report.resolve)],
            "outcomes": outcomes,
            "first": first,
            "last": last,
            "filters": {"location": within.pk if within else None},
            "locations": location_choices(actor, request.current_location),
            "scope": location,
            "subnav": "dashboard",
        },
        partial="report",
    )
