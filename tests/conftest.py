"""Shared fixtures: a brand with a small hierarchy and one member per role; a real SMTP server
on loopback and tasks run at once, for whatever sends mail."""

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from opencx.platform.actor import Actor
from opencx.platform.roles import Role

from .factories import (
    BrandFactory,
    LocationFactory,
    MembershipFactory,
    QuestionFactory,
    SurveyFactory,
    UserFactory,
)


@pytest.fixture
def brand(db):
    return BrandFactory(name="Bottega", slug="bottega", languages=["it", "en"])


@pytest.fixture
def region(brand):
    return LocationFactory(brand=brand, name="North", code="north", kind="region")


@pytest.fixture
def store(region):
    return LocationFactory(parent=region, name="Milano Centro", code="milano")


@pytest.fixture
def sibling_store(region):
    return LocationFactory(parent=region, name="Torino", code="torino")


def _member(brand, role, location=None):
    return MembershipFactory(brand=brand, role=role, location=location)


@pytest.fixture
def owner(brand):
    return _member(brand, Role.OWNER).user


@pytest.fixture
def owner_actor(brand, owner):
    return Actor(user=owner, brand=brand, membership=owner.memberships.get())


@pytest.fixture
def make_actor(brand):
    """make_actor(role, location=None) -> an Actor with a fresh user in `brand`."""

    def make(role, location=None):
        membership = _member(brand, role, location)
        return Actor(user=membership.user, brand=brand, membership=membership)

    return make


@pytest.fixture
def other_brand(db):
    return BrandFactory(name="Rival", slug="rival")


@pytest.fixture
def stranger(other_brand):
    """A user who owns another brand and nothing in ours."""
    return _member(other_brand, Role.OWNER).user


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def make_survey(brand):
    """make_survey(kind, satisfied=None, of_brand=None) -> (survey, headline, open question)."""
    scales = {"nps": (0, 10, [9, 10]), "csat": (1, 5, [4, 5]), "ces": (1, 7, [5, 6, 7])}

    def make(kind, satisfied=None, of_brand=None):
        low, high, default = scales[kind]
        survey = SurveyFactory(brand=of_brand or brand, kind=kind, name=f"{kind} survey")
        headline = QuestionFactory(
            survey=survey,
            position=0,
            kind=kind,
            scale_min=low,
            scale_max=high,
            satisfied_values=default if satisfied is None else satisfied,
            required=True,
        )
        follow_up = QuestionFactory(
            survey=survey, position=1, kind="text", scale_min=None, scale_max=None
        )
        return survey, headline, follow_up

    return make


@pytest.fixture(autouse=True)
def _fresh_public_link_cache():
    """Each test sees survey links as they are in its own database (the cache is per process)."""
    from opencx.surveys import public_views

    public_views._placements.clear()


@pytest.fixture(autouse=True)
def _fresh_api_token_cache():
    """Each test sees API inbox tokens as they are in its own database (cached per process)."""
    from opencx.inbox import selectors

    selectors._api_inboxes.clear()


class Mailbox:
    """Collects every message the SMTP server accepts, parsed."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(envelope.original_content, policy=policy.default)
            for envelope in self.envelopes
        ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port; Django sends mail through it.

    Settings change through pytest-django's `settings`, like every other test's: one stack of
    overrides, undone in order (a separate override_settings undone out of order leaks)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run as they are enqueued (the database backend would wait for a worker)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def still_rate_window(monkeypatch):
    """Hold the rate limiter's clock still, so a test's hits never straddle two windows."""
    from opencx.platform import ratelimit

    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
