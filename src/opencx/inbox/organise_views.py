"""Pages for the agent's tools: canned replies, labels, teams, saved views, bulk actions, and
the conversation's customer panel (labels, team, merge). Routes in `organise_urls.py`."""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from opencx.contacts.selectors import contacts_visible_to
from opencx.contacts.services import contact_merge
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, page_or_partial

from . import canned, customer_panel, organise, selectors
from .models import Conversation

# --- Canned replies ----------------------------------------------------------------------------


def _canned_page(request, *, error=None, form=None, editing=None, status=200):
    actor = request.actor
    return render(
        request,
        "inbox/canned_replies.html",
        {
            "replies": canned.canned_replies_of(actor),
            "placeholders": canned.PLACEHOLDERS.items(),
            "can_manage": actor.can(Capability.MANAGE_FEEDBACK),
            "error": error,
            "form": form or {},
            "editing": editing,
        },
        status=status,
    )


def _canned_fields(request) -> dict:
    return {k: request.POST.get(k, "") for k in ("shortcut", "title", "body")}


@brand_page
def canned_replies(request):
    """The brand's canned replies; managers add one here (POST)."""
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        return _canned_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        reply = canned.canned_reply_create(actor=actor, **_canned_fields(request))
    except AppError as error:
        if error.status == 403:
            raise
        return _canned_page(request, error=error, form=request.POST, status=error.status)
    messages.success(request, f"Canned reply /{reply.shortcut} added.")
    return redirect("inbox:canned", actor.brand.slug)


@brand_page
def canned_reply_edit(request, pk):
    actor = request.actor
    reply = canned.canned_reply_get(actor, pk=pk)
    if request.method in ("GET", "HEAD"):
        return _canned_page(request, editing=reply, form=_canned_initial(reply))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        canned.canned_reply_update(actor=actor, reply=reply, **_canned_fields(request))
    except AppError as error:
        if error.status == 403:
            raise
        return _canned_page(
            request, error=error, form=request.POST, editing=reply, status=error.status
        )
    messages.success(request, f"Canned reply /{reply.shortcut} saved.")
    return redirect("inbox:canned", actor.brand.slug)


def _canned_initial(reply) -> dict:
    return {"shortcut": reply.shortcut, "title": reply.title, "body": reply.body}


@brand_page
@require_POST
def canned_reply_delete(request, pk):
    actor = request.actor
    reply = canned.canned_reply_get(actor, pk=pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    canned.canned_reply_delete(actor=actor, reply=reply)
    messages.success(request, f"Canned reply /{reply.shortcut} deleted.")
    return redirect("inbox:canned", actor.brand.slug)


@brand_page
@require_safe
def canned_reply_render(request, pk):
    """The text of a canned reply (`?reply=<id>` or `?shortcut=<name>`) filled in for
    conversation `pk`, as plain text: the reply box inserts it where the cursor is."""
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    actor.require(Capability.REPLY)
    raw = request.GET.get("reply", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        reply = canned.canned_reply_get(actor, pk=int(raw))
    else:
        reply = canned.canned_reply_find(actor, shortcut=request.GET.get("shortcut", ""))
    text = canned.canned_reply_render(actor=actor, reply=reply, conversation=conversation)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


# --- Labels and teams (brand settings) ---------------------------------------------------------


def _settings_page(request, template, context, *, error=None, form=None, status=200):
    actor = request.actor
    return render(
        request,
        template,
        {
            **context,
            "can_manage": actor.can(Capability.MANAGE_FEEDBACK),
            "error": error,
            "form": form or {},
        },
        status=status,
    )


def _labels_context(request, editing=None):
    return {"labels": organise.labels_with_counts(request.actor), "editing": editing}


@brand_page
def labels(request):
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        return _settings_page(request, "inbox/labels.html", _labels_context(request))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        label = organise.label_create(
            actor=actor, name=request.POST.get("name", ""), colour=request.POST.get("colour", "")
        )
    except AppError as error:
        if error.status == 403:
            raise
        return _settings_page(
            request,
            "inbox/labels.html",
            _labels_context(request),
            error=error,
            form=request.POST,
            status=error.status,
        )
    messages.success(request, f"Label “{label.name}” added.")
    return redirect("inbox:labels", actor.brand.slug)


@brand_page
def label_edit(request, pk):
    actor = request.actor
    label = organise.label_get(actor, pk=pk)
    context = _labels_context(request, editing=label)
    if request.method in ("GET", "HEAD"):
        form = {"name": label.name, "colour": label.colour}
        return _settings_page(request, "inbox/labels.html", context, form=form)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        organise.label_update(
            actor=actor,
            label=label,
            name=request.POST.get("name", ""),
            colour=request.POST.get("colour", ""),
        )
    except AppError as error:
        if error.status == 403:
            raise
        return _settings_page(
            request,
            "inbox/labels.html",
            context,
            error=error,
            form=request.POST,
            status=error.status,
        )
    messages.success(request, f"Label “{label.name}” saved.")
    return redirect("inbox:labels", actor.brand.slug)


@brand_page
@require_POST
def label_delete(request, pk):
    actor = request.actor
    label = organise.label_get(actor, pk=pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    organise.label_delete(actor=actor, label=label)
    messages.success(request, f"Label “{label.name}” deleted.")
    return redirect("inbox:labels", actor.brand.slug)


def _teams_context(request, editing=None):
    actor = request.actor
    return {
        "teams": organise.teams_of(actor).prefetch_related("members", "inboxes"),
        "people": organise.team_member_choices(actor),
        "inboxes": selectors.inboxes_visible_to(actor),
        "editing": editing,
    }


def _team_fields(request) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "members": [v for v in request.POST.getlist("members") if v.isascii() and v.isdigit()],
        "inboxes": [v for v in request.POST.getlist("inboxes") if v.isascii() and v.isdigit()],
    }


def _team_form(request) -> dict:
    return {
        "name": request.POST.get("name", ""),
        "members": request.POST.getlist("members"),
        "inboxes": request.POST.getlist("inboxes"),
    }


@brand_page
def teams(request):
    actor = request.actor
    if request.method in ("GET", "HEAD"):
        return _settings_page(request, "inbox/teams.html", _teams_context(request))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        team = organise.team_create(actor=actor, **_team_fields(request))
    except AppError as error:
        if error.status == 403:
            raise
        return _settings_page(
            request,
            "inbox/teams.html",
            _teams_context(request),
            error=error,
            form=_team_form(request),
            status=error.status,
        )
    messages.success(request, f"Team “{team.name}” added.")
    return redirect("inbox:teams", actor.brand.slug)


@brand_page
def team_edit(request, pk):
    actor = request.actor
    team = organise.team_get(actor, pk=pk)
    context = _teams_context(request, editing=team)
    if request.method in ("GET", "HEAD"):
        form = {
            "name": team.name,
            "members": [str(p.pk) for p in team.members.all()],
            "inboxes": [str(i.pk) for i in team.inboxes.all()],
        }
        return _settings_page(request, "inbox/teams.html", context, form=form)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        organise.team_update(actor=actor, team=team, **_team_fields(request))
    except AppError as error:
        if error.status == 403:
            raise
        return _settings_page(
            request,
            "inbox/teams.html",
            context,
            error=error,
            form=_team_form(request),
            status=error.status,
        )
    messages.success(request, f"Team “{team.name}” saved.")
    return redirect("inbox:teams", actor.brand.slug)


@brand_page
@require_POST
def team_delete(request, pk):
    actor = request.actor
    team = organise.team_get(actor, pk=pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    organise.team_delete(actor=actor, team=team)
    messages.success(request, f"Team “{team.name}” deleted.")
    return redirect("inbox:teams", actor.brand.slug)


# --- Saved views and bulk actions (from the queue) --------------------------------------------


def _back_to_queue(request, fallback_query: str = ""):
    """The queue page the form was sent from (its `next`), else the queue."""
    target = request.POST.get("next", "")
    queue = reverse("inbox:list", args=[request.actor.brand.slug])
    if target.startswith(queue) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(queue + (f"?{fallback_query}" if fallback_query else ""))


@brand_page
@require_POST
def saved_view_create(request):
    """Save the queue's current filters (sent as hidden fields) under a name."""
    actor = request.actor
    shared = request.POST.get("shared") == "on"
    actor.require(Capability.MANAGE_FEEDBACK if shared else Capability.REPLY)
    filters = {key: request.POST.get(key, "") for key in organise.VIEW_KEYS}
    try:
        view = organise.saved_view_create(
            actor=actor, name=request.POST.get("name", ""), filters=filters, shared=shared
        )
    except AppError as error:
        if error.status == 403:
            raise
        messages.error(request, f"The view was not saved: {error.message}")
        return _back_to_queue(request)
    messages.success(request, f"View “{view.name}” saved.")
    return redirect(reverse("inbox:list", args=[actor.brand.slug]) + f"?view={view.pk}")


@brand_page
@require_POST
def saved_view_delete(request, pk):
    actor = request.actor
    view = organise.saved_view_get(actor, pk=pk)
    organise.saved_view_delete(actor=actor, view=view)
    messages.success(request, f"View “{view.name}” deleted.")
    return redirect("inbox:list", actor.brand.slug)


@brand_page
@require_POST
def conversations_bulk(request):
    """One action on the conversations ticked in the queue; says what was refused, and why."""
    actor = request.actor
    actor.require(Capability.REPLY)
    action = request.POST.get("bulk_action", "")
    # Each action has its own choice (a select named after it); `value` serves any.
    value = request.POST.get("value") or request.POST.get(action, "")
    try:
        results = organise.conversations_bulk(
            actor=actor,
            conversation_ids=request.POST.getlist("ids"),
            action=action,
            value=value,
        )
    except AppError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
        return _back_to_queue(request)
    done = sum(r.ok for r in results)
    label = organise.BULK_ACTIONS[action].lower()
    messages.success(request, f"{label.capitalize()}: {done} of {len(results)} done.")
    for result in results:
        if not result.ok:
            messages.warning(request, f"Conversation #{result.conversation_id}: {result.message}")
    return _back_to_queue(request)


# --- The conversation's labels, team and customer ---------------------------------------------


def _to_detail(request, conversation):
    return redirect(reverse("inbox:detail", args=[request.actor.brand.slug, conversation.pk]))


@brand_page
def conversation_labels(request, pk):
    """Add (`add=<label id>`) or remove (`remove=<label id>`) a label."""
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    if request.method != "POST":  # after the lookup: another store's conversation is 404
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.REPLY)
    raw_add, raw_remove = request.POST.get("add", ""), request.POST.get("remove", "")
    raw = raw_add or raw_remove
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        messages.error(request, "Choose a label.")
        return _to_detail(request, conversation)
    label = organise.label_get(actor, pk=int(raw))
    if raw_add:
        organise.conversation_label_add(actor=actor, conversation=conversation, label=label)
        messages.success(request, f"Label “{label.name}” added.")
    else:
        organise.conversation_label_remove(actor=actor, conversation=conversation, label=label)
        messages.success(request, f"Label “{label.name}” removed.")
    return _to_detail(request, conversation)


@brand_page
def conversation_team(request, pk):
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    if request.method != "POST":  # after the lookup: another store's conversation is 404
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.REPLY)
    raw = request.POST.get("team", "")
    team = organise.team_get(actor, pk=int(raw)) if raw.isascii() and raw.isdigit() else None
    organise.conversation_set_team(actor=actor, conversation=conversation, team=team)
    messages.success(request, f"Team: {team.name}." if team else "No team.")
    return _to_detail(request, conversation)


@brand_page
@require_safe
def merge_candidates(request, pk):
    """Customers matching `q`, to merge with this conversation's customer (a page, or the list
    alone for HTMX)."""
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    actor.require(Capability.REPLY)
    q = request.GET.get("q", "").strip()[:200]
    return page_or_partial(
        request,
        "inbox/merge_candidates.html",
        {
            "conversation": conversation,
            "q": q,
            "candidates": customer_panel.merge_candidates(actor, conversation=conversation, q=q),
        },
        partial="candidates",
    )


@brand_page
def conversation_merge_contact(request, pk):
    """ "This is the same customer as…": the chosen customer (`other`) is merged into the
    conversation's customer, who keeps their details."""
    actor = request.actor
    conversation = selectors.conversation_get(actor, pk=pk)
    if request.method != "POST":  # after the lookup: another store's conversation is 404
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.REPLY)
    raw = request.POST.get("other", "")
    if conversation.contact is None:
        raise AppError("This conversation has no customer to merge into.", field="other")
    visible = contacts_visible_to(actor)
    other = visible.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() else None
    if other is None:
        raise NotFound("No such customer.", field="other")
    try:
        kept = contact_merge(actor=actor, keep=conversation.contact, merge=other)
    except AppError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
        return _to_detail(request, conversation)
    messages.success(request, f"Merged: {other} is now part of {kept}.")
    return _to_detail(request, conversation)


# --- What the queue page (views.conversation_list) shows of these tools -----------------------


def saved_view_redirect(request):
    """`?view=<id>` alone opens the queue with the saved view's filters in the query string
    (so every filter, the tabs and the pages read them as usual); None when there is nothing
    to open. A view the actor may not see is ignored."""
    raw = request.GET.get("view", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
        return None
    if any(request.GET.get(key) for key in organise.VIEW_KEYS):
        return None
    view = organise.saved_views_of(request.actor).filter(pk=int(raw)).first()
    if view is None or not view.filters:
        return None
    query = QueryDict(mutable=True)
    query.update({key: value for key, value in view.filters.items() if key in organise.VIEW_KEYS})
    query["view"] = str(view.pk)
    return redirect(f"{request.path}?{query.urlencode()}")


# What a person's name in a choice list reads (User.__str__): the queue lists every agent twice.
PERSON_FIELDS = ("id", "first_name", "last_name", "email")


class QueueTools:
    """The queue page's share of these tools: its extra filters (`filters`, for the selectors)
    and what its template shows (`context()`), from choices read once."""

    def __init__(self, request):
        self.request = request
        self.choices = organise.queue_choices(request.actor)
        self.filters = organise.queue_filters(request.actor, request.GET, self.choices)

    def context(self) -> dict:
        actor, request = self.request.actor, self.request
        views = list(organise.saved_views_of(actor))
        raw_view = request.GET.get("view", "")
        can_work = actor.can(Capability.REPLY)
        return {
            "saved_views": views,
            "current_view": next((v for v in views if str(v.pk) == raw_view), None),
            "can_share_views": actor.can(Capability.MANAGE_FEEDBACK),
            "can_work": can_work,
            "labels": self.choices.labels,
            "teams": self.choices.teams,
            "inboxes": self.choices.inboxes,
            "priorities": Conversation.Priority.choices,
            "statuses": [(s, label) for s, label in Conversation.Status.choices if s != "snoozed"],
            "more": self.filters,
            "bulk_actions": organise.BULK_ACTIONS.items(),
            "bulk_people": organise.team_member_choices(actor).only(*PERSON_FIELDS)
            if can_work
            else [],
            "view_keys": organise.VIEW_KEYS,
        }
