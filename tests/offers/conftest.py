"""Fixtures of playbooks: an NPS survey, customers who may be e-mailed, a response helper."""

import pytest

from opencx.contacts.models import Identity
from tests.factories import ContactFactory, IdentityFactory, RecordedResponseFactory


@pytest.fixture
def nps_survey(make_survey):
    survey, _headline, _follow_up = make_survey("nps")
    return survey


@pytest.fixture
def customer(brand, store):
    """make customer(email=..., consent=True, name=..., language=...) -> a contact."""

    def make(email="ada@example.test", *, consent=True, name="Ada", language="en"):
        contact = ContactFactory(
            brand=brand, home_location=store, name=name, language=language, consent_email=consent
        )
        if email:
            IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value=email)
        return contact

    return make


@pytest.fixture
def answer(nps_survey, store, django_capture_on_commit_callbacks):
    """answer(contact, score, location=store) -> a response recorded through the survey
    service, with what its commit triggers (the playbook task) run."""

    def make(contact, score, location=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = RecordedResponseFactory(
                survey=nps_survey,
                location=location or store,
                contact=contact,
                score=score,
                **kwargs,
            )
        return response

    return make
