"""Sending invitations and reminders: through a real SMTP server (aiosmtpd on loopback) and the
file SMS backend, by the task the `invitation.queued` event enqueues."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import resolve
from django.utils import timezone

from opencx.contacts.models import Identity
from opencx.surveys import flows
from opencx.surveys.models import Invitation, SurveyPolicy
from opencx.surveys.services import (
    invitation_create,
    invitation_from_token,
    survey_opt_out,
)
from opencx.surveys.tasks import send_invitation, send_reminders
from tests.factories import ContactFactory, IdentityFactory, RecordedResponseFactory


@pytest.fixture
def survey(make_survey):
    survey, _headline, _follow_up = make_survey("nps")
    survey.default_language = "en"
    survey.languages = ["en", "it"]
    survey.invitation_subject = {
        "en": "How was your visit to {location}?",
        "it": "Com'è andata a {location}?",
    }
    survey.invitation_body = {
        "en": "Dear {name},\n\nplease tell us about {location}: {link}\n\n{brand}",
        "it": "Ciao {name},\n\ncome è andata a {location}? {link}\n\n{brand} {non toccare}",
    }
    survey.sms_body = {"it": "{brand}: com'è andata? {link}"}
    survey.reminder_days = 3
    survey.save()
    return survey


def invitable(brand, store, *, email="ada@example.test", phone="", language="it", name="Ada"):
    contact = ContactFactory(
        brand=brand,
        home_location=store,
        name=name,
        language=language,
        consent_email=True,
        consent_sms=True,
    )
    if email:
        IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value=email)
    if phone:
        IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=phone)
    return contact


def invite(actor, survey, contact, store, capture, via="email"):
    """Create an invitation and run what its commit triggers (the send task)."""
    with capture(execute=True):
        invitation = invitation_create(
            actor=actor, survey=survey, contact=contact, location=store, via=via
        )
    invitation.refresh_from_db()
    return invitation


LINK = re.compile(r"https://127\.0\.0\.1:8000/s/i/[^/\s]+/")
UNSUBSCRIBE = re.compile(r"https://127\.0\.0\.1:8000/s/u/[^/\s]+/")


def _invitation_of(link):
    match = resolve(urlsplit(link).path)
    assert match.view_name == "survey_public:invitation"
    return invitation_from_token(match.kwargs["token"])


def _text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message):
    return message.get_body(preferencelist=("html",)).get_content()


def test_an_invitation_is_delivered_to_the_smtp_server_in_the_contacts_language(
    owner_actor,
    brand,
    store,
    survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    contact = invitable(brand, store)
    invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)

    assert invitation.status == Invitation.Status.SENT
    assert invitation.sent_at is not None and invitation.error == ""
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ada@example.test"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Com'è andata a Milano Centro?"
    assert message["Content-Language"] == "it"
    assert message["From"].addresses[0].display_name == "Bottega"
    text, html = _text(message), _html(message)
    [link] = LINK.findall(text)
    [unsubscribe] = UNSUBSCRIBE.findall(text)
    assert "Ciao Ada," in text
    assert f'href="{link}"' in html and 'lang="it"' in html
    assert "{non toccare}" in text  # braces that are not placeholders are the author's
    # The link opens this invitation's hosted page, and only this one.
    match = resolve(urlsplit(link).path)
    assert match.view_name == "survey_public:invitation"
    assert invitation_from_token(match.kwargs["token"]) == invitation
    # Unsubscribing: a header mail clients act on, and a link in the body.
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"  # folded: long
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{unsubscribe}"' in html
    assert invitation_from_token(resolve(urlsplit(unsubscribe).path).kwargs["token"]) == invitation
    assert resolve(urlsplit(unsubscribe).path).view_name == "survey_public:unsubscribe"


def test_links_are_absolute_on_the_public_host(owner_actor, brand, store, survey):
    contact = invitable(brand, store)
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )
    with override_settings(OPENCX_PUBLIC_HOST="cx.example.com", DEBUG=False):
        assert flows.invitation_link(invitation).startswith("https://cx.example.com/s/i/")
    with override_settings(OPENCX_PUBLIC_HOST="http://127.0.0.1:8000"):
        assert flows.unsubscribe_link(invitation).startswith("http://127.0.0.1:8000/s/u/")


def test_texts_fall_back_to_the_surveys_default_language(owner_actor, brand, store, survey):
    survey.invitation_subject = {"en": "How was {location}?"}
    survey.invitation_body = {"en": "Hi {name}: {link}"}
    survey.save()
    contact = invitable(brand, store, language="it")
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )
    assert invitation.language == "it"
    message = flows.invitation_email(invitation)
    assert message.subject == "How was Milano Centro?"
    assert message.extra_headers["Content-Language"] == "en"
    assert message.body.startswith("Hi Ada: http")


def test_a_survey_without_texts_uses_the_shipped_ones(owner_actor, brand, store, survey):
    survey.invitation_subject, survey.invitation_body = {}, {}
    survey.save()
    contact = invitable(brand, store, name="", language="en")
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )
    message = flows.invitation_email(invitation)
    assert message.subject == "Bottega: how did we do?"
    assert message.body.startswith("Hello,\n")
    assert "Milano Centro" in message.body
    [link] = LINK.findall(message.body)
    assert _invitation_of(link) == invitation


def test_names_are_escaped_in_the_html_part(owner_actor, brand, store, survey):
    contact = invitable(brand, store, name="<script>x</script>")
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )
    html = flows.invitation_email(invitation).alternatives[0][0]
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_running_the_task_twice_sends_one_email(
    owner_actor, brand, store, survey, smtp_server, django_capture_on_commit_callbacks
):
    contact = invitable(brand, store)
    # The database backend queues the task for a worker: nothing is sent yet.
    invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    assert invitation.status == Invitation.Status.QUEUED and smtp_server.envelopes == []

    assert send_invitation.call(invitation.pk) is True
    assert send_invitation.call(invitation.pk) is False
    assert len(smtp_server.envelopes) == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


# The worker closes database connections as it goes: run outside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_the_database_task_worker_sends_a_queued_invitation(
    owner_actor, brand, store, survey, smtp_server, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    contact = invitable(brand, store)
    invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs == {"args": [invitation.pk], "kwargs": {}}

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert len(smtp_server.envelopes) == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


def test_a_refusing_mail_server_marks_the_invitation_failed(
    owner_actor, brand, store, survey, immediate_tasks, django_capture_on_commit_callbacks
):
    contact = invitable(brand, store)
    closed = _closed_port()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed,
        EMAIL_TIMEOUT=5,
    ):
        invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    assert invitation.status == Invitation.Status.FAILED
    assert invitation.sent_at is None and "refused" in invitation.error.lower()
    # A failed invitation is not sent again by a second run.
    assert flows.invitation_send(invitation_id=invitation.pk) is False


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


def test_a_contact_is_not_invited_twice_within_the_fatigue_window(
    owner_actor,
    brand,
    store,
    survey,
    make_survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    SurveyPolicy.objects.create(brand=brand, fatigue_days=14)
    other_survey, _h, _f = make_survey("csat")
    contact = invitable(brand, store)
    first = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    second = invite(owner_actor, other_survey, contact, store, django_capture_on_commit_callbacks)

    assert first.status == Invitation.Status.SENT
    assert second.status == Invitation.Status.SKIPPED
    assert second.skip_reason == "already invited in the last 14 days"
    assert len(smtp_server.envelopes) == 1

    Invitation.objects.filter(pk=first.pk).update(sent_at=timezone.now() - timedelta(days=15))
    third = invite(owner_actor, other_survey, contact, store, django_capture_on_commit_callbacks)
    assert third.status == Invitation.Status.SENT
    assert len(smtp_server.envelopes) == 2


def test_an_invitation_waiting_for_the_worker_counts_for_fatigue(
    owner_actor, brand, store, survey, make_survey, django_capture_on_commit_callbacks
):
    contact = invitable(brand, store)
    first = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    assert first.status == Invitation.Status.QUEUED  # no worker has run
    again = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    assert again.status == Invitation.Status.SKIPPED
    assert again.skip_reason.startswith("already invited")


def test_an_unsubscribed_contact_is_not_invited(
    owner_actor,
    brand,
    store,
    survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    contact = invitable(brand, store)
    survey_opt_out(contact=contact)
    invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    assert invitation.status == Invitation.Status.SKIPPED
    assert invitation.skip_reason == "unsubscribed from surveys"
    assert smtp_server.envelopes == []


def test_unsubscribing_before_the_worker_runs_stops_the_invitation(
    owner_actor, brand, store, survey, smtp_server, django_capture_on_commit_callbacks
):
    contact = invitable(brand, store)
    invitation = invite(owner_actor, survey, contact, store, django_capture_on_commit_callbacks)
    survey_opt_out(contact=contact)

    assert send_invitation.call(invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SKIPPED
    assert smtp_server.envelopes == []


def test_pausing_the_survey_before_the_worker_runs_stops_the_invitation(
    owner_actor, brand, store, survey, smtp_server, django_capture_on_commit_callbacks
):
    invitation = invite(
        owner_actor, survey, invitable(brand, store), store, django_capture_on_commit_callbacks
    )
    survey.is_active = False
    survey.save()

    assert send_invitation.call(invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SKIPPED
    assert invitation.skip_reason == "the survey is not active"
    assert smtp_server.envelopes == []


def test_an_sms_invitation_goes_through_the_configured_provider(
    owner_actor,
    brand,
    store,
    survey,
    sms_outbox,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    contact = invitable(brand, store, email="", phone="+393331234567")
    invitation = invite(
        owner_actor, survey, contact, store, django_capture_on_commit_callbacks, via="sms"
    )
    assert invitation.status == Invitation.Status.SENT
    [sms] = sms_outbox.messages()
    assert sms["to"] == "+393331234567"
    prefix, link = sms["body"].rsplit(" ", 1)
    assert prefix == "Bottega: com'è andata?" and _invitation_of(link) == invitation


def test_an_sms_without_the_authors_text_uses_the_shipped_one_with_the_link(
    owner_actor, brand, store, survey
):
    survey.sms_body = {"en": "Tell us how we did!"}  # no {link}: it is added
    survey.save()
    contact = invitable(brand, store, email="", phone="+447700900123", language="en")
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="sms"
    )
    text, link = flows.invitation_sms_text(invitation).rsplit(" ", 1)
    assert text == "Tell us how we did!" and _invitation_of(link) == invitation
    survey.sms_body = {}
    survey.save()
    invitation.survey.refresh_from_db()
    text, link = flows.invitation_sms_text(invitation).rsplit(" ", 1)
    assert text == "Bottega: how was your visit to Milano Centro? Tell us in a minute:"
    assert _invitation_of(link) == invitation


def test_an_sms_provider_failure_is_recorded(
    owner_actor, brand, store, survey, immediate_tasks, django_capture_on_commit_callbacks
):
    contact = invitable(brand, store, email="", phone="+393331234567")
    closed = f"http://127.0.0.1:{_closed_port()}"
    with override_settings(SMS_URL=f"twilio://AC1:t@x?from=%2B15005550006&base_url={closed}"):
        invitation = invite(
            owner_actor, survey, contact, store, django_capture_on_commit_callbacks, via="sms"
        )
    assert invitation.status == Invitation.Status.FAILED
    assert "could not be reached" in invitation.error


# --- Reminders ---


def _sent(owner_actor, survey, contact, store, capture, days_ago):
    invitation = invite(owner_actor, survey, contact, store, capture)
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=days_ago)
    )
    return invitation


def test_one_reminder_after_the_surveys_days_and_only_one(
    owner_actor,
    brand,
    store,
    survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    due = _sent(
        owner_actor,
        survey,
        invitable(brand, store, email="due@example.test"),
        store,
        django_capture_on_commit_callbacks,
        days_ago=4,
    )
    _sent(
        owner_actor,
        survey,
        invitable(brand, store, email="early@example.test"),
        store,
        django_capture_on_commit_callbacks,
        days_ago=2,
    )
    answered = _sent(
        owner_actor,
        survey,
        invitable(brand, store, email="answered@example.test"),
        store,
        django_capture_on_commit_callbacks,
        days_ago=5,
    )
    RecordedResponseFactory(survey=survey, location=store, score=9, invitation=answered)
    gone = _sent(
        owner_actor,
        survey,
        invitable(brand, store, email="gone@example.test"),
        store,
        django_capture_on_commit_callbacks,
        days_ago=5,
    )
    survey_opt_out(contact=gone.contact)
    smtp_server.envelopes.clear()

    assert flows.invitations_due_for_reminder() == [due.pk]
    assert flows.reminders_send() == 1
    assert flows.reminders_send() == 0
    assert send_reminders.call() == 0
    call_command("send_reminders")

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["due@example.test"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Promemoria: Com'è andata a Milano Centro?"  # in Italian
    [link] = LINK.findall(_text(message))
    assert invitation_from_token(resolve(urlsplit(link).path).kwargs["token"]) == due
    due.refresh_from_db()
    assert due.reminded_at is not None and due.status == Invitation.Status.SENT


def test_no_reminders_for_a_survey_without_reminder_days(
    owner_actor, brand, store, survey, smtp_server, django_capture_on_commit_callbacks
):
    survey.reminder_days = None
    survey.save()
    invitation = _sent(
        owner_actor,
        survey,
        invitable(brand, store),
        store,
        django_capture_on_commit_callbacks,
        days_ago=30,
    )
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.SENT)
    assert flows.invitations_due_for_reminder() == []
    assert flows.invitation_remind(invitation_id=invitation.pk) is False


def test_the_command_reports_how_many_reminders_it_sent(
    owner_actor,
    brand,
    store,
    survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
    capsys,
):
    _sent(
        owner_actor,
        survey,
        invitable(brand, store),
        store,
        django_capture_on_commit_callbacks,
        days_ago=3,
    )
    call_command("send_reminders")
    assert capsys.readouterr().out.strip() == "Sent 1 reminder."
    call_command("send_reminders")
    assert capsys.readouterr().out.strip() == "Sent 0 reminders."
