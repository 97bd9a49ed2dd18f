"""Side effects of service levels and resolution, run after commit: a missed target is
e-mailed to the people concerned; a resolved conversation sends the CSAT survey.

Subscriptions only enqueue tasks that take ids (`sla_tasks`); each is safe to run twice.
"""

import logging
import smtplib
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.urls import reverse

from opencx.platform.events import subscribe
from opencx.platform.models import Membership, User
from opencx.platform.roles import Role
from opencx.surveys.flows import public_url

from . import services, sla
from .models import Conversation

logger = logging.getLogger(__name__)
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)
# Who hears of a missed target on a conversation nobody is assigned to: its team (or the
# inbox's teams), else the managers who reach its location.
MANAGER_ROLES = (Role.CX_MANAGER, Role.LOCATION_MANAGER, Role.BRAND_ADMIN, Role.OWNER)


@subscribe(sla.SLA_BREACHED)
def _tell_breach(*, conversation_id: int, brand_id: int, target: str) -> None:
    from .sla_tasks import notify_sla_breach

    notify_sla_breach.enqueue(conversation_id, target)


@subscribe(services.CONVERSATION_CHANGED)
def _csat_when_resolved(*, conversation_id: int, brand_id: int, change: str) -> None:
    from .sla_tasks import send_csat

    if change == "status":
        send_csat.enqueue(conversation_id)


def breach_recipients(conversation: Conversation) -> list[User]:
    if conversation.assignee is not None:
        return [conversation.assignee]
    if conversation.team_id is not None:
        team = Q(teams=conversation.team_id)
    elif conversation.inbox_id is not None:
        team = Q(teams__inboxes=conversation.inbox_id)
    else:
        team = None
    if team is not None:
        people = list(User.objects.filter(team, is_active=True).distinct().order_by("email"))
        if people:
            return people
    location = conversation.location
    reach = Q(location__isnull=True) | Q(location__path__in=location.lineage_paths)
    managers = Membership.objects.filter(
        reach, brand_id=conversation.brand_id, role__in=MANAGER_ROLES, user__is_active=True
    ).select_related("user")
    return sorted({m.user for m in managers}, key=lambda user: user.email)


def sla_breach_notify(*, conversation_id: int, target: str) -> list[str]:
    """E-mail the assignee (or the team, or the managers) that a target was missed. Honours each
    person's "alerts" notification preference. Returns the addresses written to."""
    from opencx.integrations.selectors import notification_wanted

    conversation = (
        Conversation.objects.select_related("brand", "location", "assignee", "inbox")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return []
    url = public_url(reverse("inbox:detail", args=[conversation.brand.slug, conversation.pk]))
    what = sla.TARGET_LABELS.get(target, target).lower()
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    sent = []
    for person in breach_recipients(conversation):
        if not person.email or not notification_wanted(
            user=person, brand=conversation.brand, kind="alerts"
        ):
            continue
        message = EmailMessage(
            subject=f"[{conversation.brand.name}] Service level missed ({what}): {conversation}"[
                :250
            ],
            body=(
                f"The {what} target of this conversation was missed.\n\n"
                f"{conversation} · {conversation.location.name}"
                f"{' · ' + conversation.inbox.name if conversation.inbox else ''}\n"
                f"Assignee: {conversation.assignee or 'nobody'}\n\n{url}\n"
            ),
            from_email=formataddr((conversation.brand.name, address)),
            to=[person.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        try:
            message.send(fail_silently=False)
        except DELIVERY_ERRORS as error:
            logger.warning(
                "SLA notice for %s to %s failed: %s", conversation.pk, person.email, error
            )
            continue
        sent.append(person.email)
    return sent
