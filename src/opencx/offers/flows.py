"""Running the NPS-segment playbook of a response: the e-mail to a promoter or passive, the
hand-over of a detractor to cases.

`response.completed` (a response recorded complete, or a partial one finished), emitted by
`opencx.surveys.services` after commit, enqueues `tasks.run_playbooks`, which
calls `playbooks_run`. Only complete responses to NPS surveys from a known contact, recorded
within `MAX_AGE` of being given (an import of old responses is history, not a moment to act),
run a playbook: the most specific active one for the response's location and segment.

Exactly once: the run row is unique per response and is created before anything else, so a
second delivery of the event, or a second worker on the same task, finds it and stops; the
passive's coupon is taken by a conditional UPDATE (`services.coupon_issue`). The e-mail is
handed to the mail server after the run is marked sent, so a crash in between loses that
e-mail rather than sending it twice (at most once, as invitations). A refusal by the mail
server marks the run failed and puts its coupon back in the pool.
"""

import logging
import re
import smtplib
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from opencx.contacts.models import Identity
from opencx.platform.events import subscribe
from opencx.surveys.flows import public_url
from opencx.surveys.models import Response, Survey, SurveyOptOut
from opencx.surveys.services import RESPONSE_COMPLETED

from . import services
from .models import Action, Playbook, PlaybookRun, segment_of
from .selectors import effective_playbook

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(days=7)
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)
PLACEHOLDER = re.compile(r"\{(name|brand|location|link|code|expires|offer)\}")
INTERFACE_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _enqueue(response_id: int) -> None:
    # One indexed query keeps the hot path of the hosted survey free of task writes when the
    # response cannot run a playbook (anonymous, partial, not NPS, or the brand has none).
    could_run = Response.objects.filter(
        pk=response_id,
        is_partial=False,
        contact__isnull=False,
        survey__kind=Survey.Kind.NPS,
        brand__playbooks__is_active=True,
    ).exists()
    if could_run:
        from .tasks import run_playbooks  # tasks import this module

        run_playbooks.enqueue(response_id)


@subscribe(RESPONSE_COMPLETED)
def _when_completed(*, response_id: int, **_payload) -> None:
    _enqueue(response_id)


# --- Running ----------------------------------------------------------------------------------


def _skip(run: PlaybookRun, reason: str) -> PlaybookRun:
    PlaybookRun.objects.filter(pk=run.pk, status=PlaybookRun.Status.PENDING).update(
        status=PlaybookRun.Status.SKIPPED, skip_reason=reason
    )
    run.status, run.skip_reason = PlaybookRun.Status.SKIPPED, reason
    return run


def _address(contact_id: int) -> str:
    identity = (
        Identity.objects.filter(contact_id=contact_id, kind=Identity.Kind.EMAIL)
        .order_by("-is_primary", "pk")
        .first()
    )
    return identity.value if identity else ""


def _skip_reason(run: PlaybookRun, response: Response, playbook: Playbook) -> str:
    contact = response.contact
    if SurveyOptOut.objects.filter(contact=contact).exists():
        return "unsubscribed from surveys"
    if not contact.consent_email:
        return "no e-mail consent"
    if not run.address:
        return "no e-mail address"
    if playbook.action == Action.REVIEW and not response.location.review_url:
        return "the location has no review page"
    if playbook.action == Action.COUPON and playbook.coupon_pool_id is None:
        return "no coupon pool"
    return ""


def playbooks_run(*, response_id: int, now: datetime | None = None) -> PlaybookRun | None:
    """Run the playbook of a response, once; the run (None if no playbook applies or another
    delivery of the event ran it)."""
    now = now or timezone.now()
    response = (
        Response.objects.select_related("survey", "location", "brand", "contact")
        .filter(pk=response_id)
        .first()
    )
    if (
        response is None
        or response.is_partial
        or response.survey.kind != Survey.Kind.NPS
        or response.contact_id is None
        or response.created_at < now - MAX_AGE
    ):
        return None
    segment = segment_of(response.score)
    if segment is None:
        return None
    playbook = effective_playbook(
        brand_id=response.brand_id, location=response.location, segment=segment
    )
    if playbook is None:
        return None
    run = services.run_claim(playbook=playbook, response=response, segment=segment)
    if run is None:
        return None
    if playbook.action == Action.CASE:
        # Cases (opencx.cases) open and own the follow-up; the playbook only records it.
        PlaybookRun.objects.filter(pk=run.pk).update(status=PlaybookRun.Status.HANDED)
        run.status = PlaybookRun.Status.HANDED
        return run
    run.address = _address(response.contact_id)
    PlaybookRun.objects.filter(pk=run.pk).update(address=run.address)
    reason = _skip_reason(run, response, playbook)
    if reason:
        return _skip(run, reason)
    coupon = None
    if playbook.action == Action.COUPON:
        coupon = services.coupon_issue(pool=playbook.coupon_pool, response=response, now=now)
        if coupon is None:
            return _skip(run, "the coupon pool is empty")
        PlaybookRun.objects.filter(pk=run.pk).update(coupon=coupon)
        run.coupon = coupon
    PlaybookRun.objects.filter(pk=run.pk, status=PlaybookRun.Status.PENDING).update(
        status=PlaybookRun.Status.SENT, sent_at=now
    )
    run.status, run.sent_at = PlaybookRun.Status.SENT, now
    try:
        playbook_email(run, playbook=playbook, response=response).send(fail_silently=False)
    except Exception as error:
        message = str(error)[:500] or repr(error)
        PlaybookRun.objects.filter(pk=run.pk).update(
            status=PlaybookRun.Status.FAILED, sent_at=None, error=message, coupon=None
        )
        run.status, run.error = PlaybookRun.Status.FAILED, message
        if coupon is not None:
            pool = playbook.coupon_pool
            ours = pool.valid_days and coupon.expires_at == now + timedelta(days=pool.valid_days)
            services.coupon_release(coupon=coupon, expires_at=None if ours else coupon.expires_at)
            run.coupon = None
        if not isinstance(error, DELIVERY_ERRORS):
            raise
        logger.warning("Playbook e-mail of run %s was not sent: %s", run.pk, error)
    return run


# --- The e-mail -------------------------------------------------------------------------------


def review_link(run: PlaybookRun) -> str:
    return public_url(reverse("offers_public:review", kwargs={"token": run.token}))


def referral_link(run: PlaybookRun) -> str:
    return public_url(reverse("offers_public:referral", kwargs={"token": run.token}))


def unsubscribe_link(run: PlaybookRun) -> str:
    return public_url(reverse("offers_public:unsubscribe", kwargs={"token": run.token}))


def _language(playbook: Playbook, response: Response) -> str:
    """The contact's language, else the response's, else the brand's, among those the author
    wrote the texts in (or, with no texts written, those the interface is translated into)."""
    wanted = [response.contact.language, response.language, response.brand.default_language]
    authored = {**playbook.email_subject, **playbook.email_body}
    offered = set(authored) if authored else INTERFACE_LANGUAGES
    for language in wanted:
        if language and language in offered:
            return language
    return next(iter(playbook.email_body or authored), "en") if authored else "en"


def _default_subject(action: str) -> str:
    if action == Action.REVIEW:
        return _("{brand}: would you share your experience?")
    if action == Action.REFERRAL:
        return _("{brand}: know someone who would like us?")
    return _("{brand}: a thank-you for your next visit")


def _default_body(action: str, *, has_name: bool, has_expiry: bool) -> str:
    greeting = _("Hello {name},") if has_name else _("Hello,")
    if action == Action.REVIEW:
        middle = [
            _("Thank you for your kind words about {brand} at {location}."),
            _("Would you share them in a short public review? It helps others find us:"),
            "{link}",
        ]
    elif action == Action.REFERRAL:
        middle = [
            _("Thank you for recommending {brand}."),
            _("If a friend would enjoy {location} too, introduce them here:"),
            "{link}",
        ]
    else:
        middle = [
            _("Thank you for telling us about your visit to {location}."),
            _("As a thank-you, here is {offer}, with this code:"),
            "{code}",
            _("Valid until {expires}. It can be used once.")
            if has_expiry
            else _("It can be used once."),
        ]
    return "\n\n".join([greeting, *middle, _("See you soon,\n{brand}")])


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace the known placeholders only; any other brace is the author's text."""
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _fill_html(template: str, values: dict[str, str]) -> SafeString:
    """Like `_fill`, HTML-escaped, with the link clickable, the code bold, paragraphs kept."""
    pieces = []
    for position, piece in enumerate(PLACEHOLDER.split(template)):
        if position % 2 == 0:
            pieces.append(escape(piece))
        elif piece == "link" and values["link"]:
            link = escape(values["link"])
            pieces.append(f'<a href="{link}">{link}</a>')
        elif piece == "code" and values["code"]:
            pieces.append(f"<strong>{escape(values['code'])}</strong>")
        else:
            pieces.append(escape(values[piece]))
    html = "".join(pieces)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", html) if p.strip()]
    return mark_safe("".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs))


def _expiry_text(expires_at: datetime | None, zone_name: str) -> str:
    if expires_at is None:
        return ""
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    # Expiry is a moment; the customer reads the last day on which the code still works.
    last_day = (expires_at.astimezone(zone) - timedelta(microseconds=1)).date()
    return formats.date_format(last_day, "DATE_FORMAT")


def playbook_email(
    run: PlaybookRun, *, playbook: Playbook, response: Response
) -> EmailMultiAlternatives:
    """The run's e-mail as a multipart text + HTML message, ready to send."""
    brand, location, contact = response.brand, response.location, response.contact
    language = _language(playbook, response)
    coupon = run.coupon
    link = {
        Action.REVIEW: review_link,
        Action.REFERRAL: referral_link,
    }.get(playbook.action, lambda run: "")(run)
    unsubscribe = unsubscribe_link(run)
    with translation.override(language):
        values = {
            "name": contact.name,
            "brand": brand.name,
            "location": location.name,
            "link": link,
            "code": coupon.code if coupon else "",
            "expires": _expiry_text(coupon.expires_at if coupon else None, brand.timezone),
            "offer": playbook.coupon_pool.offer if playbook.coupon_pool_id else "",
        }
        subject = playbook.email_subject.get(language) or _default_subject(playbook.action)
        body = playbook.email_body.get(language) or _default_body(
            playbook.action, has_name=bool(contact.name), has_expiry=bool(values["expires"])
        )
        subject = _fill(subject, values)
        context = {
            "language": language,
            "brand": brand,
            "location": location,
            "subject": subject,
            "body_text": _fill(body, values),
            "body_html": _fill_html(body, values),
            "action": playbook.action,
            "link": link,
            "show_link": bool(link) and "{link}" not in body,
            "code": values["code"],
            "show_code": bool(values["code"]) and "{code}" not in body,
            "expires": values["expires"],
            "unsubscribe_url": unsubscribe,
        }
        text = render_to_string("offers/email/playbook.txt", context)
        html = render_to_string("offers/email/playbook.html", context)
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # a header is one line
        body=text,
        from_email=formataddr((brand.name, sender)),
        to=[run.address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": language,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
