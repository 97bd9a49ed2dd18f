"""After commit: rules run on new responses, owners hear of their cases, replies and re-surveys
reach a real SMTP server."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from opencx.cases import flows, services
from opencx.cases.models import Case, CaseRule
from opencx.integrations.models import NotificationPreference
from opencx.platform.roles import Role
from opencx.surveys.models import Response
from opencx.surveys.services import response_record, response_update
from tests.factories import headline_question_for


@pytest.fixture
def detractor_rule(brand):
    return CaseRule.objects.create(brand=brand, name="Detractor", trigger="nps_at_most")


def _detractor(survey, store, contact, score=2):
    return response_record(
        survey=survey,
        location=store,
        contact=contact,
        language="en",
        answers={headline_question_for(survey).pk: score},
    )


def test_a_detractor_opens_a_case_and_its_owner_is_told(
    brand,
    store,
    manager,
    customer,
    make_survey,
    detractor_rule,
    immediate_tasks,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    survey, *_ = make_survey("nps")
    with django_capture_on_commit_callbacks(execute=True):
        response = _detractor(survey, store, customer)
    case = Case.objects.get()
    assert case.sources.get().response == response and case.owner == manager
    [mail] = smtp_server.messages
    assert mail["To"] == "m@shop.test"
    assert f"Case #{case.pk} is yours" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert f"/b/{brand.slug}/cases/{case.pk}/" in text
    assert "Milano Centro" in text


def test_a_partial_response_waits_for_completion(
    brand,
    store,
    manager,
    make_survey,
    detractor_rule,
    immediate_tasks,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    survey, *_ = make_survey("nps")
    with django_capture_on_commit_callbacks(execute=True):
        partial = response_record(
            survey=survey,
            location=store,
            language="en",
            answers={headline_question_for(survey).pk: 1},
            is_partial=True,
        )
    assert not Case.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=partial, answers={}, complete=True)
    assert Case.objects.count() == 1


def test_a_detractor_who_leaves_before_the_comment_is_followed_up_once(
    brand,
    store,
    manager,
    customer,
    make_survey,
    detractor_rule,
    immediate_tasks,
    smtp_server,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SURVEY_ABANDON_MINUTES = 60
    survey, *_ = make_survey("nps")
    with django_capture_on_commit_callbacks(execute=True):
        partial = response_record(
            survey=survey,
            location=store,
            contact=customer,
            language="en",
            answers={headline_question_for(survey).pk: 1},
            is_partial=True,
        )
    Response.objects.filter(pk=partial.pk).update(
        updated_at=partial.updated_at - timedelta(minutes=61)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("abandon_partial_responses", stdout=StringIO())
    case = Case.objects.get()
    assert case.sources.get().response == partial and case.owner == manager
    assert f"Case #{case.pk} is yours" in smtp_server.messages[0]["Subject"]

    # Back to finish it an hour later: the same case, no second one.
    with django_capture_on_commit_callbacks(execute=True):
        response_update(response=partial, answers={}, complete=True)
    assert Case.objects.get() == case and case.sources.count() == 1


def test_no_mail_for_someone_who_turned_it_off(
    brand, store, manager, customer, make_survey, detractor_rule, immediate_tasks, smtp_server
):
    NotificationPreference.objects.create(user=manager, brand=brand, email_case_assigned=False)
    survey, *_ = make_survey("nps")
    case = services.cases_from_response(response_id=_detractor(survey, store, customer).pk)
    assert flows.case_notify(case_id=case.pk, kind="assigned") == []
    assert smtp_server.messages == []


def test_the_reply_reaches_the_customer_once(
    brand,
    store,
    manager,
    customer,
    make_survey,
    detractor_rule,
    make_actor,
    immediate_tasks,
    smtp_server,
):
    survey, *_ = make_survey("nps")
    case = services.cases_from_response(response_id=_detractor(survey, store, customer).pk)
    actor = make_actor(Role.LOCATION_MANAGER, store)
    event = services.case_reply(actor=actor, case=case, body="We are sorry.\nCome back soon.")
    assert flows.case_reply_send(event_id=event.pk) is True
    assert flows.case_reply_send(event_id=event.pk) is False  # claimed: never twice
    [mail] = smtp_server.messages
    assert mail["To"] == "giulia@example.test"
    assert mail["Reply-To"] == actor.user.email
    assert mail["Message-ID"] == event.message_id
    assert "We are sorry." in mail.get_body(("plain",)).get_content()
    event.refresh_from_db()
    assert event.delivery == "sent"


def test_a_refused_reply_is_marked_failed(
    brand, store, manager, customer, make_survey, detractor_rule, owner_actor
):
    survey, *_ = make_survey("nps")
    case = services.cases_from_response(response_id=_detractor(survey, store, customer).pk)
    event = services.case_reply(actor=owner_actor, case=case, body="Hello")
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=9,  # discard: nothing listens
        EMAIL_TIMEOUT=2,
    ):
        assert flows.case_reply_send(event_id=event.pk) is False
    event.refresh_from_db()
    assert event.delivery == "failed" and event.delivery_error


def test_resolving_sends_the_resurvey_by_mail(
    brand,
    store,
    manager,
    customer,
    make_survey,
    detractor_rule,
    owner_actor,
    immediate_tasks,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    survey, *_ = make_survey("nps")
    case = services.cases_from_response(response_id=_detractor(survey, store, customer).pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_transition(actor=owner_actor, case=case, to="resolved", note="Refunded")
    case.refresh_from_db()
    assert case.resurvey_invitation.status == "sent"
    invitations = [m for m in smtp_server.messages if m["To"] == "giulia@example.test"]
    assert len(invitations) == 1
    assert "/s/i/" in invitations[0].get_body(("plain",)).get_content()


def test_escalation_mails_the_cx_manager_and_the_owner(
    brand, store, manager, cx_manager, customer, make_survey, detractor_rule, smtp_server
):
    survey, *_ = make_survey("nps")
    case = services.cases_from_response(response_id=_detractor(survey, store, customer).pk)
    services.cases_escalate_overdue(now=case.due_at + timedelta(minutes=5))
    sent = flows.case_notify(case_id=case.pk, kind="escalated")
    assert sent == ["cx@shop.test", "m@shop.test"]
    assert all("escalated" in mail["Subject"] for mail in smtp_server.messages)


def test_an_imported_one_star_review_opens_a_case(
    brand, store, manager, immediate_tasks, django_capture_on_commit_callbacks
):
    from opencx.feedback.services import FEEDBACK_RECEIVED
    from opencx.platform.events import emit
    from tests.factories import FeedbackItemFactory

    CaseRule.objects.create(brand=brand, name="1–2 stars", trigger="low_rating")
    review = FeedbackItemFactory(brand=brand, location=store, rating=1, text="Never again")
    with django_capture_on_commit_callbacks(execute=True):
        emit(FEEDBACK_RECEIVED, feedback_id=review.pk, brand_id=brand.pk)
    case = Case.objects.get()
    assert case.sources.get().feedback == review and case.owner == manager
