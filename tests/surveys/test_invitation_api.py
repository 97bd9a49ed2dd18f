"""POST/GET /brands/{slug}/surveys/{id}/invitations: inviting contacts and recipients."""

import pytest

from opencx.contacts.models import Contact, Identity
from opencx.platform.services import api_token_create
from opencx.surveys.models import Invitation
from opencx.surveys.services import invitation_create
from tests.api.conftest import ApiClient, assert_error
from tests.factories import ContactFactory, IdentityFactory


def api(user):
    return ApiClient(api_token_create(user=user, name="tests").secret)


@pytest.fixture
def survey(make_survey):
    survey, _h, _f = make_survey("nps")
    survey.languages = ["en", "it"]
    survey.save()
    return survey


def customer(brand, location, email, *, consent=True, language="en"):
    contact = ContactFactory(
        brand=brand, home_location=location, language=language, consent_email=consent
    )
    IdentityFactory(contact=contact, kind=Identity.Kind.EMAIL, value=email)
    return contact


def _path(brand, survey):
    return f"/brands/{brand.slug}/surveys/{survey.pk}/invitations"


def test_owner_invites_contacts_and_recipients_with_a_status_each(
    owner, brand, store, survey, smtp_server, immediate_tasks, django_capture_on_commit_callbacks
):
    known = customer(brand, store, "known@example.test")
    matched = customer(brand, store, "matched@example.test", language="it")
    no_consent = customer(brand, store, "quiet@example.test", consent=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).post(
            _path(brand, survey),
            {
                "location_id": store.pk,
                "contact_ids": [known.pk, no_consent.pk],
                "recipients": [
                    {
                        "email": " New@Example.test ",
                        "name": "Nia",
                        "language": "cy",
                        "consent": True,
                    },
                    {"email": "MATCHED@example.test", "name": "ignored"},
                    {"email": "known@example.test"},  # the same person again: invited once
                    {"email": "nobody@example.test"},  # new, no consent given
                ],
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    new = Contact.objects.get(identities__value="new@example.test")
    nobody = Contact.objects.get(identities__value="nobody@example.test")
    statuses = [
        (r["contact_id"], r["contact_created"], r["status"], r["skip_reason"])
        for r in body["results"]
    ]
    assert statuses == [
        (known.pk, False, "queued", ""),
        (no_consent.pk, False, "skipped", "no consent for this channel"),
        (new.pk, True, "queued", ""),
        (matched.pk, False, "queued", ""),
        (nobody.pk, True, "skipped", "no consent for this channel"),
    ]
    assert (body["queued"], body["skipped"]) == (3, 2)
    assert (new.name, new.language, new.home_location, new.consent_email) == (
        "Nia",
        "cy",
        store,
        True,
    )
    assert matched.identities.count() == 1
    # Queued ones were sent once the request committed.
    assert sorted(e.rcpt_tos[0] for e in smtp_server.envelopes) == [
        "known@example.test",
        "matched@example.test",
        "new@example.test",
    ]
    sent = Invitation.objects.get(contact=matched)
    assert sent.status == Invitation.Status.SENT and sent.language == "it"


def test_sms_invitations_take_phones_in_international_form(owner, brand, store, survey):
    response = api(owner).post(
        _path(brand, survey),
        {
            "via": "sms",
            "location_id": store.pk,
            "recipients": [{"phone": "+44 (0)7700-900123".replace("(0)", ""), "consent": True}],
        },
    )
    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(pk=response.json()["results"][0]["invitation_id"])
    assert (invitation.via, invitation.address, invitation.status) == (
        "sms",
        "+447700900123",
        "queued",
    )


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({}, 400, "contact_ids"),
        ({"contact_ids": [999999]}, 404, "contact_ids"),
        (
            {"location_id": "STORE", "recipients": [{"email": "not an address"}]},
            400,
            "recipients.0.email",
        ),
        (
            {"location_id": "STORE", "recipients": [{"name": "No address"}]},
            400,
            "recipients.0.email",
        ),
        ({"recipients": [{"email": "a@example.test"}]}, 400, "location_id"),
        (
            {"via": "sms", "location_id": "STORE", "recipients": [{"email": "a@example.test"}]},
            400,
            "recipients.0.phone",
        ),
        (
            {"via": "sms", "location_id": "STORE", "recipients": [{"phone": "07700 900123"}]},
            400,
            "recipients.0.phone",
        ),
        ({"via": "fax"}, 422, None),
    ],
)
def test_invalid_input_writes_nothing(owner, brand, store, survey, payload, status, field):
    payload = {k: (store.pk if v == "STORE" else v) for k, v in payload.items()}
    response = api(owner).post(_path(brand, survey), payload)
    body = assert_error(
        response, status, {400: "invalid", 404: "not_found", 422: "invalid"}[status]
    )
    if field:
        assert body["field"] == field
    assert not Invitation.objects.exists()
    assert not Contact.objects.exists()


def test_a_contact_without_a_home_needs_a_location(owner, brand, survey):
    homeless = ContactFactory(brand=brand, home_location=None, consent_email=True)
    response = api(owner).post(_path(brand, survey), {"contact_ids": [homeless.pk]})
    assert_error(response, 400, "invalid", "location_id")


def test_only_members_who_manage_feedback_may_invite(make_actor, stranger, brand, store, survey):
    contact = customer(brand, store, "a@example.test")
    payload = {"contact_ids": [contact.pk], "location_id": store.pk}
    for role in ("viewer", "agent", "location_manager"):
        assert_error(
            api(make_actor(role).user).post(_path(brand, survey), payload), 403, "forbidden"
        )
    assert_error(api(stranger).post(_path(brand, survey), payload), 404, "not_found")
    cx = make_actor("cx_manager").user
    assert api(cx).post(_path(brand, survey), payload).status_code == 201


def test_a_location_scoped_manager_cannot_invite_about_another_store(
    make_actor, brand, store, sibling_store, survey
):
    scoped = make_actor("cx_manager", store).user
    contact = customer(brand, store, "a@example.test")
    payload = {"contact_ids": [contact.pk], "location_id": sibling_store.pk}
    assert_error(api(scoped).post(_path(brand, survey), payload), 404, "not_found", "location")
    hidden = customer(brand, sibling_store, "b@example.test")
    payload = {"contact_ids": [hidden.pk], "location_id": store.pk}
    assert_error(api(scoped).post(_path(brand, survey), payload), 404, "not_found", "contact_ids")


def test_list_shows_status_in_the_callers_reach(
    owner, owner_actor, make_actor, brand, store, sibling_store, survey
):
    here = invitation_create(
        actor=owner_actor,
        survey=survey,
        contact=customer(brand, store, "here@example.test"),
        location=store,
        via="email",
    )
    there = invitation_create(
        actor=owner_actor,
        survey=survey,
        contact=customer(brand, sibling_store, "there@example.test", consent=False),
        location=sibling_store,
        via="email",
    )
    everything = api(owner).get(_path(brand, survey)).json()
    assert everything["count"] == 2
    by_id = {item["id"]: item for item in everything["items"]}
    assert by_id[here.pk]["status"] == "queued" and by_id[here.pk]["address"] == "here@example.test"
    assert by_id[there.pk]["status"] == "skipped"
    assert by_id[there.pk]["skip_reason"] == "no consent for this channel"
    assert by_id[here.pk]["contact_name"] == here.contact.name

    skipped = api(owner).get(_path(brand, survey), {"status": "skipped"}).json()
    assert [item["id"] for item in skipped["items"]] == [there.pk]
    assert_error(api(owner).get(_path(brand, survey), {"status": "lost"}), 400, "invalid", "status")

    manager = make_actor("location_manager", store).user
    mine = api(manager).get(_path(brand, survey)).json()
    assert [item["id"] for item in mine["items"]] == [here.pk]
