"""The public unsubscribe page of an invitation: a confirmation on GET, the opt-out on POST."""

import pytest
from django.test import Client
from django.urls import reverse

from opencx.contacts.models import Identity
from opencx.surveys.models import Invitation, SurveyOptOut
from opencx.surveys.services import invitation_create, invitation_token
from tests.factories import ContactFactory, IdentityFactory


@pytest.fixture
def invitation(owner_actor, brand, store, make_survey):
    survey, _h, _f = make_survey("nps")
    survey.languages = ["en", "it"]
    survey.save()
    contact = ContactFactory(brand=brand, home_location=store, language="it", consent_email=True)
    IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value="ada@example.test")
    return invitation_create(
        actor=owner_actor, survey=survey, contact=contact, location=store, via="email"
    )


def _url(invitation):
    return reverse("survey_public:unsubscribe", kwargs={"token": invitation_token(invitation)})


def _opted_out(invitation):
    return SurveyOptOut.objects.filter(contact=invitation.contact).exists()


def test_get_asks_for_confirmation_and_changes_nothing(client, invitation):
    page = client.get(_url(invitation))
    assert page.status_code == 200
    assert page["Content-Language"] == "it"
    html = page.content.decode()
    assert '<html lang="it">' in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert "Bottega" in html
    assert not _opted_out(invitation)


def test_the_confirmed_form_opts_the_contact_out(invitation):
    browser = Client(enforce_csrf_checks=True)
    url = _url(invitation)
    form = browser.get(url)
    token = form.context["csrf_token"]
    done = browser.post(url, {"csrfmiddlewaretoken": str(token)})
    assert done.status_code == 200 and done.context["done"] is True
    assert _opted_out(invitation)
    # Coming back says so, without a form.
    again = browser.get(url)
    assert again.context["already"] is True and 'method="post"' not in again.content.decode()


def test_a_post_without_the_csrf_token_is_refused(invitation):
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(_url(invitation), {})
    assert refused.status_code == 403
    assert not _opted_out(invitation)


def test_the_one_click_post_of_mail_providers_needs_only_the_signed_link(invitation):
    """RFC 8058: the provider POSTs List-Unsubscribe=One-Click with no cookie or form token."""
    browser = Client(enforce_csrf_checks=True)
    done = browser.post(_url(invitation), {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert _opted_out(invitation)


@pytest.mark.parametrize("token", ["nonsense", "eyJub25jZSI6MX0:1abc:forged"])
def test_an_invalid_or_altered_token_is_404(client, invitation, token):
    url = reverse("survey_public:unsubscribe", kwargs={"token": token})
    assert client.get(url).status_code == 404
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 404
    tampered = invitation_token(invitation)[:-2] + "xx"
    url = reverse("survey_public:unsubscribe", kwargs={"token": tampered})
    assert client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 404
    assert not _opted_out(invitation)


def test_an_unsubscribed_contact_gets_no_further_invitation(
    client, owner_actor, store, invitation, make_survey
):
    client.post(_url(invitation), {"List-Unsubscribe": "One-Click"})
    other, _h, _f = make_survey("csat")
    again = invitation_create(
        actor=owner_actor, survey=other, contact=invitation.contact, location=store, via="email"
    )
    assert again.status == Invitation.Status.SKIPPED
    assert again.skip_reason == "unsubscribed from surveys"
