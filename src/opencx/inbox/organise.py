"""Working the queue in bulk and by theme: labels, teams, saved views and bulk actions.

Labels, teams and shared saved views are brand settings (MANAGE_FEEDBACK, like the brand's other
inbox settings); labelling a conversation, giving it to a team, saving one's own view and bulk
actions are work on conversations (REPLY). Bulk actions call the one-conversation services one
by one, each in its own savepoint inside one transaction: what is refused is reported per
conversation and the rest is done.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.events import emit
from opencx.platform.models import User
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import services
from .models import Conversation, Inbox, Label, SavedView, Team
from .selectors import (
    UNASSIGNED,
    QueueFilters,
    conversations_visible_to,
    inboxes_visible_to,
)

HEX_COLOUR = frozenset("0123456789abcdef")
MAX_BULK = 200  # conversations in one bulk action (a queue page is 50)
# The query-string keys a saved view keeps, beyond those of `QueueFilters.as_dict`.
VIEW_KEYS = ("status", "channel", "assignee", "label", "team", "inbox", "priority", "q")


def _name(value, *, field: str = "name", limit: int) -> str:
    value = " ".join((value or "").split()) if isinstance(value, str) else ""
    if not value:
        raise AppError("Give a name.", field=field)
    if len(value) > limit:
        raise AppError(f"At most {limit} characters.", field=field)
    return value


def _colour(value: str) -> str:
    value = (value or "").strip().lower() or "#64748b"
    if len(value) != 7 or value[0] != "#" or not set(value[1:]) <= HEX_COLOUR:
        raise AppError("A colour is written #rrggbb, e.g. #1d4ed8.", field="colour")
    return value


def _check_conversation(actor: Actor, conversation: Conversation) -> None:
    if conversation.brand_id != actor.brand.pk or not actor.covers(conversation.location):
        raise NotFound("No such conversation.", field="conversation")
    actor.require(Capability.REPLY)


def _changed(conversation: Conversation, change: str) -> None:
    emit(
        services.CONVERSATION_CHANGED,
        conversation_id=conversation.pk,
        brand_id=conversation.brand_id,
        change=change,
    )


# --- Labels ----------------------------------------------------------------------------------


def labels_of(actor: Actor) -> QuerySet[Label]:
    """The brand's labels (brand-level: every member sees them)."""
    return Label.objects.filter(brand=actor.brand).order_by("name", "pk")


def label_get(actor: Actor, *, pk: int) -> Label:
    label = labels_of(actor).filter(pk=pk).first()
    if label is None:
        raise NotFound("No such label.", field="label")
    return label


def labels_with_counts(actor: Actor) -> QuerySet[Label]:
    """Labels with `n`: how many conversations the actor may see carry each."""
    visible = conversations_visible_to(actor).values("pk")
    return labels_of(actor).annotate(
        n=Count("conversations", filter=Q(conversations__in=visible), distinct=True)
    )


def label_create(*, actor: Actor, name: str, colour: str = "") -> Label:
    actor.require(Capability.MANAGE_FEEDBACK)
    name, colour = _name(name, limit=60), _colour(colour)
    try:
        with transaction.atomic():
            label = Label.objects.create(brand=actor.brand, name=name, colour=colour)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="inbox_label.create",
                obj=label,
                summary=name,
            )
    except IntegrityError:
        raise Conflict(f"There is a label “{name}” already.", field="name") from None
    return label


def label_update(*, actor: Actor, label: Label, name: str, colour: str = "") -> Label:
    actor.require(Capability.MANAGE_FEEDBACK)
    if label.brand_id != actor.brand.pk:
        raise NotFound("No such label.", field="label")
    name, colour = _name(name, limit=60), _colour(colour)
    changes = {
        k: [getattr(label, k), v]
        for k, v in (("name", name), ("colour", colour))
        if getattr(label, k) != v
    }
    if not changes:
        return label
    try:
        with transaction.atomic():
            Label.objects.filter(pk=label.pk).update(name=name, colour=colour)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="inbox_label.update",
                obj=label,
                changes=changes,
            )
    except IntegrityError:
        raise Conflict(f"There is a label “{name}” already.", field="name") from None
    label.name, label.colour = name, colour
    return label


def label_delete(*, actor: Actor, label: Label) -> None:
    """Delete a label; the conversations that carried it lose it."""
    actor.require(Capability.MANAGE_FEEDBACK)
    if label.brand_id != actor.brand.pk:
        raise NotFound("No such label.", field="label")
    with transaction.atomic():
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="inbox_label.delete",
            obj=label,
            summary=label.name,
        )
        label.delete()


def conversation_label_add(*, actor: Actor, conversation: Conversation, label: Label) -> bool:
    """Put a label on a conversation; False if it had it already."""
    _check_conversation(actor, conversation)
    if label.brand_id != actor.brand.pk:
        raise NotFound("No such label.", field="label")
    with transaction.atomic():
        if conversation.labels.filter(pk=label.pk).exists():
            return False
        conversation.labels.add(label)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="conversation.label_add",
            obj=conversation,
            summary=label.name,
        )
        _changed(conversation, "labels")
    return True


def conversation_label_remove(*, actor: Actor, conversation: Conversation, label: Label) -> bool:
    """Take a label off a conversation; False if it did not have it."""
    _check_conversation(actor, conversation)
    if label.brand_id != actor.brand.pk:
        raise NotFound("No such label.", field="label")
    with transaction.atomic():
        if not conversation.labels.filter(pk=label.pk).exists():
            return False
        conversation.labels.remove(label)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="conversation.label_remove",
            obj=conversation,
            summary=label.name,
        )
        _changed(conversation, "labels")
    return True


# --- Teams -----------------------------------------------------------------------------------


def teams_of(actor: Actor) -> QuerySet[Team]:
    """The brand's teams (brand-level: every member sees them)."""
    return Team.objects.filter(brand=actor.brand).order_by("name", "pk")


def team_get(actor: Actor, *, pk: int) -> Team:
    team = teams_of(actor).prefetch_related("members", "inboxes").filter(pk=pk).first()
    if team is None:
        raise NotFound("No such team.", field="team")
    return team


def team_member_choices(actor: Actor) -> QuerySet[User]:
    """Active members of the brand who may reply: who can be in a team."""
    roles = services.REPLY_ROLES
    return (
        User.objects.filter(memberships__brand=actor.brand, memberships__role__in=roles)
        .filter(is_active=True)
        .distinct()
        .order_by("first_name", "email")
    )


def _team_parts(actor: Actor, members, inboxes) -> tuple[list[User], list[Inbox]]:
    member_ids = {int(m.pk if isinstance(m, User) else m) for m in members or ()}
    inbox_ids = {int(i.pk if isinstance(i, Inbox) else i) for i in inboxes or ()}
    people = list(team_member_choices(actor).filter(pk__in=member_ids))
    if len(people) != len(member_ids):
        raise AppError("Only members of the brand who may reply can be in a team.", field="members")
    # Brand-wide: a team is a brand setting, so any of the brand's inboxes may be its.
    boxes = list(Inbox.objects.filter(brand=actor.brand, pk__in=inbox_ids))
    if len(boxes) != len(inbox_ids):
        raise AppError("No such inbox.", field="inboxes")
    return people, boxes


def team_create(*, actor: Actor, name: str, members=(), inboxes=()) -> Team:
    """A team of agents, with the inboxes it looks after (both may be empty)."""
    actor.require(Capability.MANAGE_FEEDBACK)
    name = _name(name, limit=120)
    people, boxes = _team_parts(actor, members, inboxes)
    try:
        with transaction.atomic():
            team = Team.objects.create(brand=actor.brand, name=name)
            team.members.set(people)
            team.inboxes.set(boxes)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="team.create",
                obj=team,
                summary=name,
                changes={"members": [[], sorted(p.pk for p in people)]},
            )
    except IntegrityError:
        raise Conflict(f"There is a team “{name}” already.", field="name") from None
    return team


def team_update(*, actor: Actor, team: Team, name: str, members=(), inboxes=()) -> Team:
    """Rename a team and set its members and inboxes (the lists replace the old ones)."""
    actor.require(Capability.MANAGE_FEEDBACK)
    if team.brand_id != actor.brand.pk:
        raise NotFound("No such team.", field="team")
    name = _name(name, limit=120)
    people, boxes = _team_parts(actor, members, inboxes)
    before = {
        "name": team.name,
        "members": sorted(team.members.values_list("pk", flat=True)),
        "inboxes": sorted(team.inboxes.values_list("pk", flat=True)),
    }
    after = {
        "name": name,
        "members": sorted(p.pk for p in people),
        "inboxes": sorted(b.pk for b in boxes),
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    try:
        with transaction.atomic():
            Team.objects.filter(pk=team.pk).update(name=name)
            team.name = name
            team.members.set(people)
            team.inboxes.set(boxes)
            if changes:
                audit_record(
                    actor_user=actor.user,
                    brand=actor.brand,
                    action="team.update",
                    obj=team,
                    changes=changes,
                )
    except IntegrityError:
        raise Conflict(f"There is a team “{name}” already.", field="name") from None
    return team


def team_delete(*, actor: Actor, team: Team) -> None:
    """Delete a team; its conversations keep their assignee and lose the team."""
    actor.require(Capability.MANAGE_FEEDBACK)
    if team.brand_id != actor.brand.pk:
        raise NotFound("No such team.", field="team")
    with transaction.atomic():
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="team.delete",
            obj=team,
            summary=team.name,
        )
        team.delete()


def conversation_set_team(
    *, actor: Actor, conversation: Conversation, team: Team | None
) -> Conversation:
    """Give the conversation to a team (or to none). The assignee stays."""
    _check_conversation(actor, conversation)
    if team is not None and team.brand_id != actor.brand.pk:
        raise NotFound("No such team.", field="team")
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        before = locked.team_id
        if before == (team.pk if team else None):
            return locked
        locked.team = team
        locked.save(update_fields=["team"])
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="conversation.team",
            obj=locked,
            changes={"team": [before, team.pk if team else None]},
        )
        _changed(locked, "team")
    conversation.team = team
    return locked


# --- Saved views -----------------------------------------------------------------------------


def saved_views_of(actor: Actor) -> QuerySet[SavedView]:
    """The actor's own views and the brand's shared ones (shared first)."""
    return (
        SavedView.objects.filter(brand=actor.brand)
        .filter(Q(owner__isnull=True) | Q(owner=actor.user))
        .order_by(F("owner").asc(nulls_first=True), "position", "name", "pk")
    )


def saved_view_get(actor: Actor, *, pk: int) -> SavedView:
    view = saved_views_of(actor).filter(pk=pk).first()
    if view is None:
        raise NotFound("No such saved view.", field="view")
    return view


def _view_filters(filters: dict) -> dict:
    """Keep only known keys with short text values: a view stores a query string, no more."""
    if not isinstance(filters, dict):
        raise AppError("Expected filters.", field="filters")
    cleaned = {}
    for key in VIEW_KEYS:
        value = filters.get(key)
        if value is None or value == "":
            continue
        value = str(value).strip()[:200]
        if value:
            cleaned[key] = value
    return cleaned


def saved_view_create(*, actor: Actor, name: str, filters: dict, shared: bool = False) -> SavedView:
    """Save the queue's filters under a name: the actor's own, or `shared` with the brand (that
    is a brand setting: MANAGE_FEEDBACK)."""
    actor.require(Capability.MANAGE_FEEDBACK if shared else Capability.REPLY)
    name = _name(name, limit=80)
    filters = _view_filters(filters)
    if not filters:
        raise AppError("Choose some filters to save first.", field="filters")
    owner = None if shared else actor.user
    with transaction.atomic():
        clash = SavedView.objects.filter(brand=actor.brand, owner=owner, name=name)
        if clash.exists():
            raise Conflict(f"There is a view “{name}” already.", field="name")
        view = SavedView.objects.create(brand=actor.brand, owner=owner, name=name, filters=filters)
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="saved_view.create",
            obj=view,
            summary=f"{name} ({'shared' if shared else 'personal'})",
        )
    return view


def saved_view_delete(*, actor: Actor, view: SavedView) -> None:
    """Delete one's own view; a shared one needs MANAGE_FEEDBACK."""
    if view.brand_id != actor.brand.pk or view.owner_id not in (None, actor.user.pk):
        raise NotFound("No such saved view.", field="view")
    actor.require(Capability.MANAGE_FEEDBACK if view.owner_id is None else Capability.REPLY)
    with transaction.atomic():
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="saved_view.delete",
            obj=view,
            summary=view.name,
        )
        view.delete()


# --- Reading the queue's filters from a query string ------------------------------------------


def _id_in(raw, allowed: set[int]) -> int | None:
    raw = str(raw or "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    value = int(raw)
    return value if value in allowed else None


@dataclass(frozen=True)
class QueueChoices:
    """What the queue's extra filters offer, read once per page."""

    labels: list
    teams: list
    inboxes: list


def queue_choices(actor: Actor) -> QueueChoices:
    return QueueChoices(
        labels=list(labels_of(actor)),
        teams=list(teams_of(actor)),
        inboxes=list(inboxes_visible_to(actor)),
    )


def queue_filters(actor: Actor, params, choices: QueueChoices | None = None) -> QueueFilters:
    """`QueueFilters` from query parameters (a QueryDict or a saved view's dict); ids the actor
    may not see are dropped, as an unknown filter value is."""
    choices = choices or queue_choices(actor)
    label_ids = {label.pk for label in choices.labels}
    team_ids = {team.pk for team in choices.teams}
    inbox_ids = {inbox.pk for inbox in choices.inboxes}
    team = str(params.get("team") or "")
    if team != UNASSIGNED:
        team = str(_id_in(team, team_ids) or "")
    priority = str(params.get("priority") or "")
    return QueueFilters(
        label_id=_id_in(params.get("label"), label_ids),
        team=team,
        inbox_id=_id_in(params.get("inbox"), inbox_ids),
        priority=priority if priority in Conversation.Priority.values else "",
        q=str(params.get("q") or "").strip()[:200],
    )


# --- Bulk actions ----------------------------------------------------------------------------

BULK_ACTIONS = {
    "assign": "Assign to",
    "status": "Set status",
    "label": "Add label",
    "priority": "Set priority",
    "team": "Give to team",
}


@dataclass(frozen=True)
class BulkResult:
    conversation_id: int
    ok: bool
    message: str = ""  # why it was refused


def _bulk_target(actor: Actor, action: str, value: str):
    """What the action sets, read once for all conversations (an AppError if it is no choice)."""
    value = (value or "").strip()
    if action == "assign":
        if value in ("", UNASSIGNED):
            return None
        if not value.isdigit():
            raise AppError("Choose a person.", field="value")
        person = (
            User.objects.filter(pk=int(value), memberships__brand=actor.brand, is_active=True)
            .distinct()
            .first()
        )
        if person is None:
            raise AppError("No such person.", field="value")
        return person
    if action == "status":
        if value not in Conversation.Status.values or value == Conversation.Status.SNOOZED:
            raise AppError("Choose open, pending or resolved.", field="value")
        return value
    if action == "priority":
        if value not in Conversation.Priority.values:
            raise AppError("Choose a priority.", field="value")
        return value
    if action == "label":
        return label_get(actor, pk=int(value)) if value.isdigit() else _no_choice("label")
    if action == "team":
        if value in ("", UNASSIGNED):
            return None
        return team_get(actor, pk=int(value)) if value.isdigit() else _no_choice("team")
    raise AppError("Unknown bulk action.", field="action")


def _no_choice(what: str):
    raise AppError(f"Choose a {what}.", field="value")


def _bulk_one(actor: Actor, conversation: Conversation, action: str, target) -> None:
    if action == "assign":  # the service checks that they may reply at its location
        services.conversation_assign(actor=actor, conversation=conversation, assignee=target)
    elif action == "status":
        if conversation.status != target:
            services.conversation_transition(actor=actor, conversation=conversation, to=target)
    elif action == "priority":
        services.conversation_set_priority(actor=actor, conversation=conversation, priority=target)
    elif action == "label":
        conversation_label_add(actor=actor, conversation=conversation, label=target)
    elif action == "team":
        conversation_set_team(actor=actor, conversation=conversation, team=target)


def conversations_bulk(
    *, actor: Actor, conversation_ids, action: str, value: str = ""
) -> list[BulkResult]:
    """Do one action to many conversations: assign (a person id, or "none"), status, priority,
    label (add) or team. One transaction; each conversation in its own savepoint, so a refusal
    (not allowed from its status, not someone who works there, not visible) is reported for
    that conversation and the others are done. Results follow the given order."""
    actor.require(Capability.REPLY)
    if action not in BULK_ACTIONS:
        raise AppError("Unknown bulk action.", field="action")
    ids = []
    for raw in conversation_ids or ():
        raw = str(raw)
        if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) not in ids:
            ids.append(int(raw))
    if not ids:
        raise AppError("Select some conversations first.", field="ids")
    if len(ids) > MAX_BULK:
        raise AppError(f"At most {MAX_BULK} conversations at once.", field="ids")
    target = _bulk_target(actor, action, value)
    found = {
        c.pk: c
        for c in conversations_visible_to(actor)
        .filter(pk__in=ids)
        .select_related("location", "brand", "inbox")
    }
    results = []
    with transaction.atomic():
        for pk in ids:
            conversation = found.get(pk)
            if conversation is None:
                results.append(BulkResult(pk, False, "No such conversation."))
                continue
            try:
                with transaction.atomic():
                    _bulk_one(actor, conversation, action, target)
            except AppError as error:
                results.append(BulkResult(pk, False, error.message))
            else:
                results.append(BulkResult(pk, True))  # each service audited its change
    return results
