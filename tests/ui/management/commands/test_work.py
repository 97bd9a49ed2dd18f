"""`opencx work`: runs what is queued (an invitation to send) and the periodic reminders."""

import io

import pytest
from django.core import mail
from django.core.management import call_command

from opencx.surveys.definitions import library
from opencx.surveys.models import Invitation
from opencx.surveys.services import invitation_create, survey_import
from tests.factories import ContactFactory, IdentityFactory

# The database worker closes connections as it goes: outside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def test_work_once_sends_the_queued_invitation_and_runs_the_reminders(owner_actor, brand, store):
    survey = survey_import(actor=owner_actor, spec=library()["nps"])
    contact = ContactFactory(brand=brand, home_location=store, consent_email=True, language="en")
    IdentityFactory(contact=contact, kind="email", value="ada@example.test")
    invitation = invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )
    assert invitation.status == Invitation.Status.QUEUED and mail.outbox == []

    call_command("work", "--once", stdout=io.StringIO())

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT
    assert [message.to for message in mail.outbox] == [["ada@example.test"]]
