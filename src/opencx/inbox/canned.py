"""Canned replies: a brand's saved answers, with placeholders filled in for one conversation.

A placeholder is `{{ name }}` with one of the names in `PLACEHOLDERS`. Texts are filled by plain
substitution, never by the template engine: an agent's text can neither reach the database nor
run template tags. An unknown placeholder is refused when the reply is saved, by name.
Managing them needs MANAGE_FEEDBACK (as the brand's other inbox settings); anyone who may reply
uses them.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from .models import CannedReply, Conversation

MAX_BODY = 5_000
# {{ anything }}: every such pair is checked against the known names, so a typo is refused
# instead of reaching a customer as literal braces.
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PLACEHOLDERS = {
    "contact.name": "The customer's name",
    "contact.first_name": "The customer's first name",
    "agent.name": "Your name",
    "brand.name": "The brand's name",
    "location.name": "The conversation's location",
    "conversation.id": "The conversation's number",
}


def placeholders_in(text: str) -> list[str]:
    """The placeholder names written in `text`, in order (stripped of spaces)."""
    return [match.group(1).strip() for match in PLACEHOLDER.finditer(text)]


def check_placeholders(text: str, *, field: str = "body") -> None:
    """AppError naming the first placeholder `text` uses that is not one of `PLACEHOLDERS`."""
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS:
            known = ", ".join("{{ %s }}" % known for known in PLACEHOLDERS)  # noqa: UP031
            raise AppError(
                f"Unknown placeholder {{{{ {name} }}}}. Use one of: {known}.", field=field
            )


def placeholder_values(*, actor: Actor, conversation: Conversation) -> dict[str, str]:
    """What each placeholder stands for in `conversation`, answered by `actor` ('' if unknown)."""
    contact = conversation.contact
    name = (contact.name if contact is not None else "").strip()
    agent = actor.user
    return {
        "contact.name": name,
        "contact.first_name": name.split()[0] if name else "",
        "agent.name": agent.get_full_name() or agent.first_name or agent.email,
        "brand.name": actor.brand.name,
        "location.name": conversation.location.name,
        "conversation.id": str(conversation.pk),
    }


# A placeholder with the space before it: an empty value takes its space too ("Hi {{ x }}!"
# becomes "Hi!", not "Hi !").
SPACED_PLACEHOLDER = re.compile(r"([ \t]?)\{\{(.*?)\}\}", re.DOTALL)


def render_text(text: str, values: dict[str, str]) -> str:
    """`text` with each known placeholder replaced by its value; others left as written."""

    def replace(match: re.Match) -> str:
        space, name = match.group(1), match.group(2).strip()
        if name not in values:
            return match.group(0)
        return space + values[name] if values[name] else ""

    return SPACED_PLACEHOLDER.sub(replace, text)


# --- reads -------------------------------------------------------------------------------------


def canned_replies_of(actor: Actor) -> QuerySet[CannedReply]:
    """The brand's canned replies (brand-level: every member sees them)."""
    return CannedReply.objects.filter(brand=actor.brand).order_by("shortcut", "pk")


def canned_reply_get(actor: Actor, *, pk: int) -> CannedReply:
    reply = canned_replies_of(actor).filter(pk=pk).first()
    if reply is None:
        raise NotFound("No such canned reply.", field="canned_reply")
    return reply


def canned_reply_find(actor: Actor, *, shortcut: str) -> CannedReply:
    """The canned reply typed as `/shortcut` (a leading slash is ignored)."""
    reply = canned_replies_of(actor).filter(shortcut=shortcut.strip().lstrip("/").lower()).first()
    if reply is None:
        raise NotFound(f"No canned reply /{shortcut.strip().lstrip('/')}.", field="shortcut")
    return reply


def canned_reply_render(*, actor: Actor, reply: CannedReply, conversation: Conversation) -> str:
    """The reply's text for this conversation. The caller read `conversation` through an
    actor-scoped selector; placeholders were checked when the reply was saved."""
    actor.require(Capability.REPLY)
    if reply.brand_id != actor.brand.pk or conversation.brand_id != actor.brand.pk:
        raise NotFound("No such canned reply.", field="canned_reply")
    return render_text(reply.body, placeholder_values(actor=actor, conversation=conversation))


# --- writes ------------------------------------------------------------------------------------


def _cleaned(*, shortcut: str, title: str, body: str) -> dict[str, str]:
    raw_shortcut = (shortcut or "").strip().lstrip("/")
    cleaned_shortcut = slugify(raw_shortcut)[:40]
    if not cleaned_shortcut:
        raise AppError("Give a shortcut: letters, digits and dashes.", field="shortcut")
    if cleaned_shortcut != raw_shortcut.lower():
        raise AppError(
            f"A shortcut has only letters, digits, dashes and underscores (e.g. "
            f"{cleaned_shortcut!r}).",
            field="shortcut",
        )
    title = (title or "").strip()
    if not title:
        raise AppError("Give the reply a title.", field="title")
    if len(title) > 120:
        raise AppError("At most 120 characters.", field="title")
    body = (body or "").strip()
    if not body:
        raise AppError("Write the reply.", field="body")
    if len(body) > MAX_BODY:
        raise AppError(f"At most {MAX_BODY} characters.", field="body")
    check_placeholders(body)
    return {"shortcut": cleaned_shortcut, "title": title, "body": body}


def _taken(shortcut: str) -> Conflict:
    return Conflict(f"Another canned reply is /{shortcut} already.", field="shortcut")


def canned_reply_create(*, actor: Actor, shortcut: str, title: str, body: str) -> CannedReply:
    actor.require(Capability.MANAGE_FEEDBACK)
    fields = _cleaned(shortcut=shortcut, title=title, body=body)
    try:
        with transaction.atomic():
            reply = CannedReply.objects.create(brand=actor.brand, created_by=actor.user, **fields)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="canned_reply.create",
                obj=reply,
                summary=f"/{reply.shortcut}",
            )
    except IntegrityError:
        raise _taken(fields["shortcut"]) from None
    return reply


def canned_reply_update(
    *, actor: Actor, reply: CannedReply, shortcut: str, title: str, body: str
) -> CannedReply:
    actor.require(Capability.MANAGE_FEEDBACK)
    if reply.brand_id != actor.brand.pk:
        raise NotFound("No such canned reply.", field="canned_reply")
    fields = _cleaned(shortcut=shortcut, title=title, body=body)
    changes = {k: [getattr(reply, k), v] for k, v in fields.items() if getattr(reply, k) != v}
    if not changes:
        return reply
    try:
        with transaction.atomic():
            CannedReply.objects.filter(pk=reply.pk).update(**fields)
            audit_record(
                actor_user=actor.user,
                brand=actor.brand,
                action="canned_reply.update",
                obj=reply,
                changes={k: v for k, v in changes.items() if k != "body"},
                summary=f"/{fields['shortcut']}",
            )
    except IntegrityError:
        raise _taken(fields["shortcut"]) from None
    for key, value in fields.items():
        setattr(reply, key, value)
    return reply


def canned_reply_delete(*, actor: Actor, reply: CannedReply) -> None:
    actor.require(Capability.MANAGE_FEEDBACK)
    if reply.brand_id != actor.brand.pk:
        raise NotFound("No such canned reply.", field="canned_reply")
    with transaction.atomic():
        audit_record(
            actor_user=actor.user,
            brand=actor.brand,
            action="canned_reply.delete",
            obj=reply,
            summary=f"/{reply.shortcut}",
        )
        reply.delete()
