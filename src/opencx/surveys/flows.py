"""Sending personal invitations and their one reminder, by e-mail or SMS.

`invitation.queued` (emitted by `services.invitation_create` after commit) enqueues the
`send_invitation` task; the task calls `invitation_send`, which sends only an invitation that is
still queued. The claim is one conditional UPDATE, so two workers running the same task send it
once: a crash between the claim and the hand-over to the mail server loses that message rather
than sending it twice (at most once). A refusal by the mail server or the SMS provider marks the
invitation failed with the reason.

Reminders: `invitations_due_for_reminder` finds sent, unanswered, not yet reminded invitations
older than their survey's `reminder_days`, whose contact has not opted out; `invitation_remind`
sends one reminder each (claimed the same way, so one reminder only, however often it runs).
"""

import logging
import re
import smtplib
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opencx.platform.events import subscribe
from opencx.platform.sms import SmsError, send_sms

from .models import Invitation, Survey, SurveyOptOut
from .services import INVITATION_QUEUED, invitation_token

logger = logging.getLogger(__name__)

# Errors of the mail server or the SMS provider: recorded on the invitation, not raised.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError, SmsError)
PLACEHOLDER = re.compile(r"\{(name|brand|location|link)\}")


@subscribe(INVITATION_QUEUED)
def _send_when_queued(*, invitation_id: int) -> None:
    from .tasks import send_invitation  # tasks import this module

    send_invitation.enqueue(invitation_id)


# --- Links ---


def public_url(path: str) -> str:
    """An absolute URL for `path` on the public host (`OPENCX_PUBLIC_HOST`), as in e-mails."""
    host = settings.OPENCX_PUBLIC_HOST.rstrip("/")
    if "://" not in host:
        host = f"{'http' if settings.DEBUG else 'https'}://{host}"
    return host + path


def invitation_link(invitation: Invitation, *, token: str = "") -> str:
    """The absolute link that opens the invitation's survey (signed token)."""
    token = token or invitation_token(invitation)
    return public_url(reverse("survey_public:invitation", kwargs={"token": token}))


def unsubscribe_link(invitation: Invitation, *, token: str = "") -> str:
    """The absolute link of the invitation's unsubscribe page."""
    token = token or invitation_token(invitation)
    return public_url(reverse("survey_public:unsubscribe", kwargs={"token": token}))


# --- Texts ---


def _default_subject() -> str:
    return _("{brand}: how did we do?")


def _default_body(has_name: bool) -> str:
    greeting = _("Hello {name},") if has_name else _("Hello,")
    return "\n\n".join(
        [
            greeting,
            _("Thank you for choosing {brand} at {location}."),
            _(
                "Would you tell us how it went? It takes a minute, and every answer is read "
                "by the people who can make it better:"
            ),
            "{link}",
            _("Thank you,\n{brand}"),
        ]
    )


def _default_sms() -> str:
    return _("{brand}: how was your visit to {location}? Tell us in a minute: {link}")


def _authored(texts: dict, language: str, fallback: str) -> tuple[str, str]:
    """The author's text in `language`, else in the survey's default language ('' if none),
    with the language it is in."""
    texts = texts or {}
    if texts.get(language):
        return texts[language], language
    if texts.get(fallback):
        return texts[fallback], fallback
    return "", language


def _message_language(survey: Survey, invitation: Invitation, *fields: dict) -> str:
    """The invitation's language if the author's texts exist in it (or there are none, so the
    shipped translations are used); otherwise the survey's default language."""
    language = invitation.language or survey.default_language
    authored = [texts for texts in fields if texts]
    if authored and not any(texts.get(language) for texts in authored):
        return survey.default_language
    return language


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace the known placeholders only; any other brace is the author's text."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _fill_html(template: str, values: dict[str, str]) -> SafeString:
    """Like `_fill`, HTML-escaped, with the link clickable and paragraphs kept."""
    link = values["link"]
    anchor = f'<a href="{escape(link)}">{escape(link)}</a>'
    pieces = []
    for position, piece in enumerate(PLACEHOLDER.split(template)):
        if position % 2 == 0:
            pieces.append(escape(piece))
        elif piece == "link":
            pieces.append(anchor)
        else:
            pieces.append(escape(values[piece]))
    html = "".join(pieces)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", html) if p.strip()]
    return mark_safe("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs))


def _values(invitation: Invitation, link: str) -> dict[str, str]:
    return {
        "name": invitation.contact.name,
        "brand": invitation.survey.brand.name,
        "location": invitation.location.name,
        "link": link,
    }


def invitation_email(invitation: Invitation, *, reminder: bool = False) -> EmailMultiAlternatives:
    """The invitation (or its reminder) as a multipart text + HTML message, ready to send."""
    survey = invitation.survey
    language = _message_language(
        survey, invitation, survey.invitation_subject, survey.invitation_body
    )
    token = invitation_token(invitation)
    link = invitation_link(invitation, token=token)
    unsubscribe = unsubscribe_link(invitation, token=token)
    values = _values(invitation, link)
    with translation.override(language):
        subject, _lang = _authored(survey.invitation_subject, language, survey.default_language)
        body, _lang = _authored(survey.invitation_body, language, survey.default_language)
        subject = _fill(subject or _default_subject(), values)
        body = body or _default_body(bool(values["name"]))
        if reminder:
            subject = _("Reminder: {subject}").format(subject=subject)
        context = {
            "language": language,
            "survey": survey,
            "brand": survey.brand,
            "location": invitation.location,
            "subject": subject,
            "body_text": _fill(body, values),
            "body_html": _fill_html(body, values),
            "has_link": "{link}" in body,
            "link": link,
            "unsubscribe_url": unsubscribe,
            "reminder": reminder,
        }
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a header is one line
        body=text,
        from_email=formataddr((survey.brand.name, sender)),
        to=[invitation.address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def invitation_sms_text(invitation: Invitation, *, reminder: bool = False) -> str:
    survey = invitation.survey
    language = _message_language(survey, invitation, survey.sms_body)
    values = _values(invitation, invitation_link(invitation))
    with translation.override(language):
        body, _lang = _authored(survey.sms_body, language, survey.default_language)
        text = _fill(body or _default_sms(), values)
        if "{link}" not in (body or "{link}"):
            text = f"{text} {values['link']}"
        if reminder:
            text = _("Reminder: {text}").format(text=text)
    return text


def _deliver(invitation: Invitation, *, reminder: bool) -> None:
    if invitation.via == Invitation.Via.EMAIL:
        invitation_email(invitation, reminder=reminder).send(fail_silently=False)
    else:
        send_sms(to=invitation.address, body=invitation_sms_text(invitation, reminder=reminder))


def _load(invitation_id: int) -> Invitation | None:
    return (
        Invitation.objects.select_related("survey__brand", "location", "contact")
        .filter(pk=invitation_id)
        .first()
    )


# --- Sending ---


def invitation_send(*, invitation_id: int) -> bool:
    """Send a queued invitation; True if it was handed to the mail server or SMS provider.

    Anything but a queued invitation is left alone, so running this twice sends once. A contact
    who opted out, or a survey paused, after the invitation was queued makes it skipped.
    """
    reason = ""
    if SurveyOptOut.objects.filter(contact__invitations__pk=invitation_id).exists():
        reason = "unsubscribed from surveys"
    elif Survey.objects.filter(invitations__pk=invitation_id, is_active=False).exists():
        reason = "the survey is not active"
    if reason:
        Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.QUEUED).update(
            status=Invitation.Status.SKIPPED, skip_reason=reason
        )
        return False
    now = timezone.now()
    claimed = Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.QUEUED).update(
        status=Invitation.Status.SENT, sent_at=now, error=""
    )
    if not claimed:
        return False
    invitation = _load(invitation_id)
    try:
        _deliver(invitation, reminder=False)
    except Exception as error:
        Invitation.objects.filter(pk=invitation_id, status=Invitation.Status.SENT).update(
            status=Invitation.Status.FAILED, sent_at=None, error=str(error)[:500] or repr(error)
        )
        if not isinstance(error, DELIVERY_ERRORS):
            raise
        logger.warning("Invitation %s was not sent: %s", invitation_id, error)
        return False
    return True


def invitations_due_for_reminder(*, now: datetime | None = None) -> list[int]:
    """Ids of sent, unanswered, not yet reminded invitations older than their survey's
    `reminder_days`, of active surveys, to contacts who have not opted out."""
    now = now or timezone.now()
    surveys = Survey.objects.filter(
        is_active=True, reminder_days__isnull=False, reminder_days__gt=0
    ).values_list("pk", "reminder_days")
    due: list[int] = []
    for survey_id, days in surveys:
        due.extend(
            Invitation.objects.filter(
                survey_id=survey_id,
                status=Invitation.Status.SENT,
                sent_at__lte=now - timedelta(days=days),
                reminded_at__isnull=True,
                responded_at__isnull=True,
                contact__survey_opt_out__isnull=True,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return due


def invitation_remind(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Send the one reminder of an invitation if it is due; True if it was sent."""
    now = now or timezone.now()
    invitation = _load(invitation_id)
    if invitation is None:
        return False
    days = invitation.survey.reminder_days
    if (
        not days
        or not invitation.survey.is_active
        or SurveyOptOut.objects.filter(contact_id=invitation.contact_id).exists()
    ):
        return False
    claimed = Invitation.objects.filter(
        pk=invitation_id,
        status=Invitation.Status.SENT,
        sent_at__lte=now - timedelta(days=days),
        reminded_at__isnull=True,
        responded_at__isnull=True,
    ).update(reminded_at=now)
    if not claimed:
        return False
    try:
        _deliver(invitation, reminder=True)
    except Exception as error:
        # Not delivered: the next run may try again (still one reminder at most).
        Invitation.objects.filter(pk=invitation_id, reminded_at=now).update(
            reminded_at=None, error=str(error)[:500] or repr(error)
        )
        if not isinstance(error, DELIVERY_ERRORS):
            raise
        logger.warning("Reminder of invitation %s was not sent: %s", invitation_id, error)
        return False
    return True


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every due reminder; how many were sent."""
    now = now or timezone.now()
    return sum(
        invitation_remind(invitation_id=pk, now=now) for pk in invitations_due_for_reminder(now=now)
    )
