"""The page listing a survey's invitations with how they fared."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.contacts.models import Identity
from opencx.platform.roles import Role
from opencx.surveys.models import Invitation
from opencx.surveys.services import invitation_create, survey_opt_out
from tests.factories import ContactFactory, IdentityFactory


def _contact(brand, location, email, *, consent=True):
    contact = ContactFactory(brand=brand, home_location=location, consent_email=consent)
    IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value=email)
    return contact


@pytest.fixture
def invitations(owner_actor, brand, store, sibling_store, make_survey):
    """At the store: sent+opened+responded, sent, failed, two skipped (consent, opt-out), and
    one queued; at the sibling store: one sent."""
    survey, _h, _f = make_survey("nps")
    now = timezone.now()

    def invite(email, location=store, **fields):
        contact = _contact(brand, location, email, consent=fields.pop("consent", True))
        if fields.pop("opted_out", False):
            survey_opt_out(contact=contact)
        invitation = invitation_create(
            actor=owner_actor, survey=survey, contact=contact, location=location, via="email"
        )
        if fields:
            Invitation.objects.filter(pk=invitation.pk).update(**fields)
        return invitation

    sent = {"status": Invitation.Status.SENT, "sent_at": now - timedelta(days=1)}
    invite(
        "answered@example.test",
        status=Invitation.Status.RESPONDED,
        sent_at=now - timedelta(days=2),
        opened_at=now - timedelta(days=1),
        responded_at=now,
    )
    invite("sent@example.test", **sent)
    invite("failed@example.test", status=Invitation.Status.FAILED, error="550 mailbox unavailable")
    invite("quiet@example.test", consent=False)
    invite("gone@example.test", opted_out=True)
    invite("waiting@example.test")
    invite("elsewhere@example.test", location=sibling_store, **sent)
    return survey


def _url(brand, survey, **query):
    url = reverse("surveys:invitations", args=[brand.slug, survey.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_counts_and_rows_for_the_whole_brand(client, owner, brand, invitations):
    client.force_login(owner)
    page = client.get(_url(brand, invitations))
    assert page.status_code == 200
    counts = page.context["counts"]
    assert (counts.total, counts.sent, counts.opened, counts.responded) == (7, 3, 1, 1)
    assert (counts.failed, counts.queued, counts.skipped) == (1, 1, 2)
    assert dict(counts.skipped_by_reason) == {
        "no consent for this channel": 1,
        "unsubscribed from surveys": 1,
    }
    assert page.context["response_rate"] == pytest.approx(100 / 3)
    html = page.content.decode()
    assert "550 mailbox unavailable" in html and "No consent for this channel" in html
    assert len(page.context["page"].object_list) == 7


def test_status_filter_and_htmx_partial(client, owner, brand, invitations):
    client.force_login(owner)
    page = client.get(_url(brand, invitations, status="skipped"), headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert {i.address for i in page.context["page"].object_list} == {
        "quiet@example.test",
        "gone@example.test",
    }
    html = page.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html


def test_a_location_manager_sees_only_their_store(
    client, make_actor, brand, sibling_store, invitations
):
    manager = make_actor(Role.LOCATION_MANAGER, sibling_store)
    client.force_login(manager.user)
    page = client.get(_url(brand, invitations))
    assert page.status_code == 200
    assert page.context["counts"].total == 1
    assert [i.address for i in page.context["page"].object_list] == ["elsewhere@example.test"]


def test_another_brand_gets_404(client, stranger, brand, invitations):
    client.force_login(stranger)
    assert client.get(_url(brand, invitations)).status_code == 404
