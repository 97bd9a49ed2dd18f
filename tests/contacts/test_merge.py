"""Merging two records of one customer (contacts.services.contact_merge): everything of the
merged contact, in every app, moves to the kept one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.cases.models import Case
from opencx.contacts.models import Contact, Identity
from opencx.contacts.services import contact_merge
from opencx.inbox.models import Inbox, WebChatSession
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from opencx.surveys.models import Invitation, SurveyOptOut
from tests.factories import (
    CaseFactory,
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    FeedbackItemFactory,
    IdentityFactory,
    OrderFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def _invitation(contact, survey, location, nonce):
    return Invitation.objects.create(
        brand=contact.brand, survey=survey, contact=contact, location=location, via="email",
        address="x@example.test", language="en", nonce=nonce,
    )  # fmt: skip


def test_everything_of_the_merged_customer_moves_to_the_kept_one(owner_actor, brand, store):
    old_day = timezone.now() - timedelta(days=400)
    keep = ContactFactory(brand=brand, name="Marta Bianchi", city="", attributes={"tier": "gold"})
    merge = ContactFactory(
        brand=brand, name="M. B.", city="Milano", country="IT", created_at=old_day,
        attributes={"tier": "silver", "size": "M"},
    )  # fmt: skip
    IdentityFactory(contact=keep, kind="email", value="marta@example.test", is_primary=True)
    IdentityFactory(contact=merge, kind="email", value="mb@example.test", is_primary=True)
    IdentityFactory(contact=merge, kind="phone", value="+393471234567", is_primary=True)
    survey = SurveyFactory(brand=brand)
    response = ResponseFactory(survey=survey, location=store, contact=merge)
    feedback = FeedbackItemFactory(brand=brand, location=store, contact=merge)
    conversation = ConversationFactory(brand=brand, location=store, contact=merge)
    order = OrderFactory(brand=brand, location=store, contact=merge)
    case = CaseFactory(brand=brand, location=store, contact=merge)
    invitation = _invitation(merge, survey, store, "n1")
    channel = ChannelFactory(brand=brand, kind="web_chat")
    inbox = Inbox.objects.create(brand=brand, channel=channel, name="Chat", kind="web_chat")
    session = WebChatSession.objects.create(inbox=inbox, token_digest="d" * 64, contact=merge)

    kept = contact_merge(actor=owner_actor, keep=keep, merge=merge)

    assert kept.pk == keep.pk and not Contact.objects.filter(pk=merge.pk).exists()
    assert set(kept.identities.values_list("kind", "value", "is_primary")) == {
        ("email", "marta@example.test", True),
        ("email", "mb@example.test", False),  # the kept contact's primary e-mail stays primary
        ("phone", "+393471234567", True),
    }
    for row in (response, feedback, conversation, order, case, invitation, session):
        row.refresh_from_db()
        assert row.contact_id == keep.pk, row
    kept.refresh_from_db()
    assert (kept.name, kept.city, kept.country) == ("Marta Bianchi", "Milano", "IT")
    assert kept.attributes == {"tier": "gold", "size": "M"}
    assert kept.created_at == old_day  # a customer since the older record
    event = AuditEvent.objects.get(action="contact.merge")
    assert event.object_id == str(keep.pk) and event.changes["merged"] == merge.pk
    assert event.changes["moved"]["inbox.conversation"] == 1


def test_the_more_recent_consent_record_wins(owner_actor, brand):
    now = timezone.now()
    keep = ContactFactory(brand=brand, consent_email=True, consent_updated_at=now - timedelta(1))
    merge = ContactFactory(brand=brand, consent_email=False, consent_updated_at=now)
    kept = contact_merge(actor=owner_actor, keep=keep, merge=merge)
    assert not kept.consent_email and kept.consent_updated_at == now


def test_a_survey_opt_out_is_kept_once(owner_actor, brand):
    keep, merge = ContactFactory(brand=brand), ContactFactory(brand=brand)
    SurveyOptOut.objects.create(brand=brand, contact=merge)
    contact_merge(actor=owner_actor, keep=keep, merge=merge)
    assert SurveyOptOut.objects.get().contact_id == keep.pk
    other = ContactFactory(brand=brand)
    SurveyOptOut.objects.create(brand=brand, contact=other)
    contact_merge(actor=owner_actor, keep=keep, merge=other)
    assert SurveyOptOut.objects.get().contact_id == keep.pk


def test_two_open_cases_refuse_the_merge_and_nothing_moves(owner_actor, brand, store):
    keep, merge = ContactFactory(brand=brand), ContactFactory(brand=brand)
    IdentityFactory(contact=merge, value="mb@example.test")
    CaseFactory(brand=brand, location=store, contact=keep)
    theirs = CaseFactory(brand=brand, location=store, contact=merge)
    conversation = ConversationFactory(brand=brand, location=store, contact=merge)
    with pytest.raises(Conflict) as raised:
        contact_merge(actor=owner_actor, keep=keep, merge=merge)
    assert raised.value.field == "merge" and "case" in raised.value.message
    assert Contact.objects.filter(pk=merge.pk).exists()
    assert Identity.objects.get(value="mb@example.test").contact_id == merge.pk
    conversation.refresh_from_db()
    theirs.refresh_from_db()
    assert conversation.contact_id == merge.pk and theirs.contact_id == merge.pk
    theirs.status = Case.Status.CLOSED
    theirs.save()
    contact_merge(actor=owner_actor, keep=keep, merge=merge)  # a closed case may join
    assert Case.objects.filter(contact=keep).count() == 2


def test_another_brands_customer_cannot_be_merged(owner_actor, brand, other_brand):
    keep = ContactFactory(brand=brand)
    theirs = ContactFactory(brand=other_brand)
    IdentityFactory(contact=theirs, value="theirs@example.test")
    with pytest.raises(NotFound) as raised:
        contact_merge(actor=owner_actor, keep=keep, merge=theirs)
    assert raised.value.field == "merge"
    with pytest.raises(NotFound):
        contact_merge(actor=owner_actor, keep=theirs, merge=keep)
    assert Identity.objects.get(value="theirs@example.test").contact_id == theirs.pk
    stranger_actor = Actor(
        user=owner_actor.user, brand=other_brand, membership=owner_actor.membership
    )
    with pytest.raises(NotFound):
        contact_merge(actor=stranger_actor, keep=keep, merge=theirs)


def test_reach_and_role_are_checked(make_actor, brand, store, sibling_store):
    here = ContactFactory(brand=brand, home_location=store)
    there = ContactFactory(brand=brand, home_location=sibling_store)
    agent = make_actor(Role.AGENT, store)
    with pytest.raises(NotFound):
        contact_merge(actor=agent, keep=here, merge=there)
    with pytest.raises(Forbidden):
        contact_merge(actor=make_actor(Role.VIEWER), keep=here, merge=there)
    with pytest.raises(AppError):
        contact_merge(actor=agent, keep=here, merge=here)
    also_here = ContactFactory(brand=brand, home_location=store)
    contact_merge(actor=agent, keep=here, merge=also_here)
    assert not Contact.objects.filter(pk=also_here.pk).exists()
