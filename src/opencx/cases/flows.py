"""Side effects of the closed loop, run after commit: rules on new responses, the owner's
e-mails, replies to the customer, and the re-survey after resolution.

Each subscription only enqueues a task that takes ids; each task is safe to run twice (a reply is
claimed by a conditional UPDATE before it is handed to the mail server: at most once).
"""

import logging
import smtplib
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from opencx.feedback.models import FeedbackItem
from opencx.feedback.services import FEEDBACK_ANALYSED, FEEDBACK_RECEIVED
from opencx.platform.events import subscribe
from opencx.surveys.flows import public_url
from opencx.surveys.services import RESPONSE_ABANDONED, RESPONSE_COMPLETED

from .models import Case, CaseEvent, CaseRule
from .services import (
    CASE_CHANGED,
    CASE_ESCALATED,
    CASE_OPENED,
    CASE_REPLY_QUEUED,
    CASE_RESOLVED,
    FEEDBACK_TRIGGERS,
    case_reply_delivered,
)

logger = logging.getLogger(__name__)
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)


@subscribe(RESPONSE_COMPLETED)
@subscribe(RESPONSE_ABANDONED)  # the score given, the comment never: follow it up all the same
def _rules_on_completed(*, response_id: int, brand_id: int) -> None:
    from .tasks import apply_case_rules

    apply_case_rules.enqueue(response_id)


@subscribe(FEEDBACK_RECEIVED)
def _rules_on_feedback(*, feedback_id: int, brand_id: int) -> None:
    from .tasks import apply_case_rules_to_feedback

    # An import stores items by the thousand: queue work only where a rule could open a case.
    if CaseRule.objects.filter(
        brand_id=brand_id, is_active=True, trigger__in=FEEDBACK_TRIGGERS
    ).exists():
        apply_case_rules_to_feedback.enqueue(feedback_id)


@subscribe(FEEDBACK_ANALYSED)
def _sentiment_rules_on_analysed(*, feedback_ids: list[int], brand_id: int) -> None:
    from .tasks import apply_case_rules_to_feedback

    # Sentiment is known only now: items found negative get the rules again (a case opened on
    # arrival, by another rule, stands: an item belongs to one case at most).
    if not CaseRule.objects.filter(
        brand_id=brand_id, is_active=True, trigger=CaseRule.Trigger.NEGATIVE_SENTIMENT
    ).exists():
        return
    negative = FeedbackItem.objects.filter(
        pk__in=feedback_ids, sentiment="negative", case_source__isnull=True
    ).exclude(kind=FeedbackItem.Kind.SURVEY)
    for feedback_id in negative.values_list("pk", flat=True):
        apply_case_rules_to_feedback.enqueue(feedback_id)


@subscribe(CASE_REPLY_QUEUED)
def _send_reply(*, event_id: int) -> None:
    from .tasks import send_case_reply

    send_case_reply.enqueue(event_id)


@subscribe(CASE_RESOLVED)
def _resurvey_after_resolution(*, case_id: int, brand_id: int) -> None:
    from .tasks import send_resurvey

    send_resurvey.enqueue(case_id)


@subscribe(CASE_OPENED)
def _tell_owner_of_new_case(*, case_id: int, brand_id: int) -> None:
    from .tasks import notify_case

    notify_case.enqueue(case_id, "assigned")


@subscribe(CASE_CHANGED)
def _tell_new_owner(*, case_id: int, brand_id: int, change: str) -> None:
    from .tasks import notify_case

    if change == "owner":
        notify_case.enqueue(case_id, "assigned")


@subscribe(CASE_ESCALATED)
def _tell_escalation(*, case_id: int, brand_id: int) -> None:
    from .tasks import notify_case

    notify_case.enqueue(case_id, "escalated")


def case_url(case: Case) -> str:
    return public_url(reverse("cases:detail", args=[case.brand.slug, case.pk]))


def _sender(case: Case) -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    return formataddr((case.brand.name, address))


# --- The owner's e-mails --------------------------------------------------------------------


def case_notify(*, case_id: int, kind: str) -> list[str]:
    """E-mail the people a case concerns: its new owner ("assigned"), or on escalation
    ("escalated") the CX manager and the owner. Honours each person's notification preferences.
    Returns the addresses written to."""
    from opencx.integrations.selectors import notification_wanted

    case = (
        Case.objects.select_related("brand", "location", "owner", "escalated_to", "contact")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return []
    if kind == "assigned":
        people = [(case.owner, "case_assigned")] if case.owner else []
    else:
        people = [
            (person, "case_escalated")
            for person in (case.escalated_to, case.owner)
            if person is not None
        ]
    sent = []
    for person, preference in people:
        if person.email in sent or not notification_wanted(
            user=person, brand=case.brand, kind=preference
        ):
            continue
        context = {
            "case": case,
            "person": person,
            "kind": kind,
            "url": case_url(case),
            "brand": case.brand,
        }
        subject = (
            f"[{case.brand.name}] Case #{case.pk} is yours: {case.title}"
            if kind == "assigned"
            else f"[{case.brand.name}] Overdue case #{case.pk} escalated: {case.title}"
        )
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split())[:250],
            body=render_to_string("cases/email/notify.txt", context),
            from_email=_sender(case),
            to=[person.email],
            headers={"Auto-Submitted": "auto-generated"},
        )
        html = render_to_string("cases/email/notify.html", context)
        message.attach_alternative(html, "text/html")
        try:
            message.send(fail_silently=False)
        except DELIVERY_ERRORS as error:
            logger.warning("Case %s notification to %s failed: %s", case.pk, person.email, error)
            continue
        sent.append(person.email)
    return sent


# --- Replies to the customer ----------------------------------------------------------------


def case_reply_send(*, event_id: int) -> bool:
    """Send a queued reply; True if the mail server took it. Claimed first: sent at most once."""
    claimed = CaseEvent.objects.filter(
        pk=event_id, kind=CaseEvent.Kind.REPLY, delivery="queued"
    ).update(delivery="sending")
    if not claimed:
        return False
    event = CaseEvent.objects.select_related(
        "case__brand", "case__location", "case__owner", "actor"
    ).get(pk=event_id)
    case = event.case
    agent = event.actor
    reply_to = [agent.email] if agent is not None and agent.email else []
    context = {"case": case, "body": event.body, "agent": agent, "brand": case.brand}
    message = EmailMultiAlternatives(
        subject=" ".join(event.data.get("subject", "").split())[:250],
        body=render_to_string("cases/email/reply.txt", context),
        from_email=_sender(case),
        to=[event.data["to"]],
        reply_to=reply_to,
        headers={"Message-ID": event.message_id},
    )
    message.attach_alternative(render_to_string("cases/email/reply.html", context), "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as error:
        case_reply_delivered(event_id=event_id, error=str(error) or repr(error))
        if not isinstance(error, DELIVERY_ERRORS):
            raise
        logger.warning("Reply %s on case %s was not sent: %s", event_id, case.pk, error)
        return False
    case_reply_delivered(event_id=event_id)
    return True
