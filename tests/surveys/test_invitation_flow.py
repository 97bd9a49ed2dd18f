"""End to end: an invitation made through the API is delivered to a real SMTP server; the link
in the e-mail opens the hosted survey, records one response, and works once and only once."""

import re
from urllib.parse import urlsplit

from django.test import Client

from opencx.contacts.models import Identity
from opencx.platform.services import api_token_create
from opencx.surveys.models import Invitation, Response
from opencx.surveys.public_forms import field_name
from tests.api.conftest import ApiClient
from tests.factories import ContactFactory, IdentityFactory

LINK = re.compile(r"https?://[^\s]+/s/i/[^/\s]+/")


def test_an_emailed_link_answers_the_survey_once_and_only_once(
    owner,
    brand,
    store,
    make_survey,
    smtp_server,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    survey, headline, follow_up = make_survey("nps")
    survey.languages = ["en", "it"]
    survey.invitation_subject = {"it": "Com'è andata a {location}?"}
    survey.invitation_body = {"it": "Ciao {name}, rispondi qui: {link}"}
    survey.save()
    contact = ContactFactory(
        brand=brand, home_location=store, name="Ada", language="it", consent_email=True
    )
    IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value="ada@example.test")
    api = ApiClient(api_token_create(user=owner, name="crm").secret)

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            f"/brands/{brand.slug}/surveys/{survey.pk}/invitations", {"contact_ids": [contact.pk]}
        )
    assert created.status_code == 201, created.content
    assert created.json()["results"][0]["status"] == "queued"

    [message] = smtp_server.messages
    assert message["To"] == "ada@example.test"
    assert message["Subject"] == "Com'è andata a Milano Centro?"
    [link] = LINK.findall(message.get_body(preferencelist=("plain",)).get_content())
    path = urlsplit(link).path
    invitation = Invitation.objects.get(contact=contact)
    assert invitation.status == Invitation.Status.SENT and invitation.opened_at is None

    respondent = Client()
    page = respondent.get(path)
    assert page.status_code == 200
    assert page["Content-Language"] == "it"
    invitation.refresh_from_db()
    assert invitation.opened_at is not None

    scored = respondent.post(path, {field_name(headline): "9"})  # the score is saved at once
    assert scored.status_code == 303
    assert Response.objects.get().is_partial
    # Coming back to the link mid-way continues the same response, it does not start another.
    assert respondent.get(path)["Location"] == scored["Location"]
    answered = respondent.post(
        scored["Location"], {field_name(follow_up): "Personale gentilissimo"}
    )
    assert answered.status_code == 303
    response = Response.objects.get()
    assert (response.invitation, response.contact, response.location) == (
        invitation,
        contact,
        store,
    )
    assert (response.score, response.comment, response.language) == (
        9,
        "Personale gentilissimo",
        "it",
    )
    assert not response.is_partial
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.RESPONDED and invitation.responded_at

    # Once answered, the link answers nothing more: not on a new visit, not on a replayed post.
    assert respondent.get(path).status_code == 410
    assert Client().get(path).status_code == 410
    replay = Client().post(path, {field_name(headline): "0"})
    assert replay.status_code in {409, 410}
    assert Response.objects.count() == 1 and Response.objects.get().score == 9

    # A link with an altered signature opens nothing.
    token = path.rstrip("/").rsplit("/", 1)[1]
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().get(path.replace(token, altered)).status_code == 404
