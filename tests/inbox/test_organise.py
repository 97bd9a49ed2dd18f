"""Labels, teams, saved views, queue search and bulk actions (opencx.inbox.organise)."""

import pytest
from django.http import QueryDict

from opencx.inbox import organise, selectors
from opencx.inbox.models import Conversation, Inbox, SavedView
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db
Status = Conversation.Status


def _shown(actor, **filters):
    more = selectors.QueueFilters(**filters)
    return set(selectors.conversation_list(actor, location=None, status="all", more=more))


@pytest.fixture
def chat(brand, store):
    channel = ChannelFactory(brand=brand, kind="web_chat", name="Chat")
    return Inbox.objects.create(
        brand=brand, location=store, channel=channel, name="Chat", kind=Inbox.Kind.WEB_CHAT
    )


# --- labels ---


def test_labels_are_managed_by_managers_and_unique_per_brand(owner_actor, make_actor):
    label = organise.label_create(actor=owner_actor, name="  Refund ", colour="#FF0000")
    assert (label.name, label.colour) == ("Refund", "#ff0000")
    with pytest.raises(Conflict):
        organise.label_create(actor=owner_actor, name="Refund")
    with pytest.raises(AppError) as raised:
        organise.label_create(actor=owner_actor, name="x", colour="red")
    assert raised.value.field == "colour"
    with pytest.raises(Forbidden):
        organise.label_create(actor=make_actor(Role.AGENT), name="Other")
    organise.label_update(actor=owner_actor, label=label, name="Refunds", colour="#00ff00")
    label.refresh_from_db()
    assert label.name == "Refunds"
    organise.label_delete(actor=owner_actor, label=label)
    assert not organise.labels_of(owner_actor).exists()


def test_agents_label_conversations_they_reach(
    owner_actor, make_actor, brand, store, sibling_store
):
    label = organise.label_create(actor=owner_actor, name="Refund")
    agent = make_actor(Role.AGENT, store)
    mine = ConversationFactory(brand=brand, location=store)
    assert organise.conversation_label_add(actor=agent, conversation=mine, label=label)
    assert not organise.conversation_label_add(actor=agent, conversation=mine, label=label)
    assert list(mine.labels.all()) == [label]
    assert AuditEvent.objects.filter(action="conversation.label_add").count() == 1
    elsewhere = ConversationFactory(brand=brand, location=sibling_store)
    with pytest.raises(NotFound):
        organise.conversation_label_add(actor=agent, conversation=elsewhere, label=label)
    with pytest.raises(Forbidden):
        organise.conversation_label_add(
            actor=make_actor(Role.VIEWER), conversation=mine, label=label
        )
    assert organise.conversation_label_remove(actor=agent, conversation=mine, label=label)
    assert not mine.labels.exists()


def test_another_brands_label_cannot_be_used(owner_actor, stranger, other_brand, brand, store):
    theirs_actor = Actor(user=stranger, brand=other_brand, membership=stranger.memberships.get())
    theirs = organise.label_create(actor=theirs_actor, name="Theirs")
    conversation = ConversationFactory(brand=brand, location=store)
    with pytest.raises(NotFound):
        organise.conversation_label_add(actor=owner_actor, conversation=conversation, label=theirs)
    with pytest.raises(NotFound):
        organise.label_get(owner_actor, pk=theirs.pk)


# --- teams ---


def test_teams_have_members_who_may_reply_and_the_brands_inboxes(
    owner_actor, make_actor, chat, brand, store
):
    agent, viewer = make_actor(Role.AGENT, store), make_actor(Role.VIEWER)
    team = organise.team_create(
        actor=owner_actor, name="Returns", members=[agent.user.pk], inboxes=[chat.pk]
    )
    assert list(team.members.all()) == [agent.user] and list(team.inboxes.all()) == [chat]
    with pytest.raises(AppError) as raised:
        organise.team_create(actor=owner_actor, name="Looky", members=[viewer.user.pk])
    assert raised.value.field == "members"
    with pytest.raises(Conflict):
        organise.team_create(actor=owner_actor, name="Returns")
    organise.team_update(actor=owner_actor, team=team, name="Returns desk", members=[], inboxes=[])
    team.refresh_from_db()
    assert team.name == "Returns desk" and not team.members.exists()
    assert AuditEvent.objects.filter(action="team.update", object_id=str(team.pk)).exists()
    with pytest.raises(Forbidden):
        organise.team_delete(actor=agent, team=team)


def test_a_conversation_is_given_to_a_team_and_back(owner_actor, make_actor, brand, store):
    team = organise.team_create(actor=owner_actor, name="Returns")
    conversation = ConversationFactory(brand=brand, location=store)
    agent = make_actor(Role.AGENT, store)
    organise.conversation_set_team(actor=agent, conversation=conversation, team=team)
    conversation.refresh_from_db()
    assert conversation.team == team
    organise.conversation_set_team(actor=agent, conversation=conversation, team=None)
    conversation.refresh_from_db()
    assert conversation.team is None
    assert AuditEvent.objects.filter(action="conversation.team").count() == 2


# --- saved views ---


def test_saved_views_are_personal_or_shared_by_managers(owner_actor, make_actor):
    agent = make_actor(Role.AGENT)
    mine = organise.saved_view_create(
        actor=agent, name="My urgent", filters={"priority": "urgent", "evil": "x", "q": " "}
    )
    assert mine.owner == agent.user and mine.filters == {"priority": "urgent"}
    with pytest.raises(Forbidden):
        organise.saved_view_create(actor=agent, name="All", filters={"status": "all"}, shared=True)
    with pytest.raises(Forbidden):
        organise.saved_view_create(actor=make_actor(Role.VIEWER), name="V", filters={"q": "x"})
    with pytest.raises(AppError) as raised:
        organise.saved_view_create(actor=agent, name="Nothing", filters={})
    assert raised.value.field == "filters"
    shared = organise.saved_view_create(
        actor=owner_actor, name="Unassigned", filters={"assignee": "none"}, shared=True
    )
    assert shared.owner is None
    assert list(organise.saved_views_of(agent)) == [shared, mine]
    assert list(organise.saved_views_of(owner_actor)) == [shared]  # not the agent's own
    with pytest.raises(NotFound):
        organise.saved_view_delete(actor=owner_actor, view=mine)
    with pytest.raises(Forbidden):
        organise.saved_view_delete(actor=agent, view=shared)
    organise.saved_view_delete(actor=agent, view=mine)
    assert list(SavedView.objects.all()) == [shared]


# --- queue filters and search ---


def test_queue_filters_by_label_team_inbox_and_priority(owner_actor, brand, store, chat):
    label = organise.label_create(actor=owner_actor, name="Refund")
    team = organise.team_create(actor=owner_actor, name="Returns")
    labelled = ConversationFactory(brand=brand, location=store, priority="urgent", inbox=chat)
    labelled.labels.add(label)
    teamed = ConversationFactory(brand=brand, location=store, team=team)
    plain = ConversationFactory(brand=brand, location=store)
    assert _shown(owner_actor, label_id=label.pk) == {labelled}
    assert _shown(owner_actor, team=str(team.pk)) == {teamed}
    assert _shown(owner_actor, team=selectors.UNASSIGNED) == {labelled, plain}
    assert _shown(owner_actor, inbox_id=chat.pk) == {labelled}
    assert _shown(owner_actor, priority="urgent") == {labelled}
    counts = selectors.conversation_status_counts(
        owner_actor, location=None, more=selectors.QueueFilters(label_id=label.pk)
    )
    assert counts["all"] == 1 and counts["open"] == 1


def test_queue_filters_drop_ids_the_actor_may_not_use(owner_actor, brand, stranger, other_brand):
    theirs = organise.label_create(
        actor=Actor(user=stranger, brand=other_brand, membership=stranger.memberships.get()),
        name="Theirs",
    )
    params = QueryDict(f"label={theirs.pk}&team=abc&inbox=99999&priority=weird&q=%20hi%20")
    assert organise.queue_filters(owner_actor, params) == selectors.QueueFilters(q="hi")


def test_search_finds_bodies_subjects_names_addresses_phones_and_numbers(owner_actor, brand, store):
    marta = ContactFactory(brand=brand, name="Marta Bianchi")
    IdentityFactory(contact=marta, kind="email", value="marta@example.test")
    IdentityFactory(contact=marta, kind="phone", value="+393471234567")
    by_contact = ConversationFactory(brand=brand, location=store, contact=marta, subject="Hello")
    by_subject = ConversationFactory(brand=brand, location=store, subject="Broken ZIP on bag")
    by_body = ConversationFactory(brand=brand, location=store, subject="Question")
    MessageFactory(conversation=by_body, body="The zip broke twice")
    MessageFactory(conversation=by_body, body="Still broken: zip again")  # two hits, one row
    assert _shown(owner_actor, q="bianchi") == {by_contact}
    assert _shown(owner_actor, q="MARTA@example") == {by_contact}
    assert _shown(owner_actor, q="347 123 4567") == {by_contact}
    assert _shown(owner_actor, q="zip") == {by_subject, by_body}
    assert len(list(selectors.conversation_list(
        owner_actor, location=None, status="all", more=selectors.QueueFilters(q="zip")
    ))) == 2  # fmt: skip
    assert _shown(owner_actor, q=f"#{by_body.pk}") == {by_body}
    assert _shown(owner_actor, q="100%") == set()  # LIKE wildcards are literal


def test_search_stays_within_reach(make_actor, brand, store, sibling_store):
    ConversationFactory(brand=brand, location=sibling_store, subject="Refund please")
    mine = ConversationFactory(brand=brand, location=store, subject="Refund now")
    agent = make_actor(Role.AGENT, store)
    assert _shown(agent, q="refund") == {mine}


# --- bulk actions ---


def test_bulk_status_reports_each_refusal_and_does_the_rest(
    make_actor, brand, store, sibling_store
):
    agent = make_actor(Role.AGENT, store)
    open_one = ConversationFactory(brand=brand, location=store)
    pending = ConversationFactory(brand=brand, location=store, status=Status.PENDING)
    resolved = ConversationFactory(brand=brand, location=store, status=Status.RESOLVED)
    elsewhere = ConversationFactory(brand=brand, location=sibling_store)
    ids = [open_one.pk, resolved.pk, elsewhere.pk, pending.pk, "junk"]
    results = organise.conversations_bulk(
        actor=agent, conversation_ids=ids, action="status", value="pending"
    )
    assert [(r.conversation_id, r.ok) for r in results] == [
        (open_one.pk, True),
        (resolved.pk, False),
        (elsewhere.pk, False),
        (pending.pk, True),  # already pending: nothing to do, not an error
    ]
    assert "cannot become pending" in results[1].message
    assert results[2].message == "No such conversation."
    for conversation, status in (
        (open_one, "pending"),
        (resolved, "resolved"),
        (elsewhere, "open"),
    ):
        conversation.refresh_from_db()
        assert conversation.status == status


def test_bulk_assign_label_priority_and_team(owner_actor, make_actor, brand, store, sibling_store):
    agent = make_actor(Role.AGENT, store)
    label = organise.label_create(actor=owner_actor, name="VIP")
    team = organise.team_create(actor=owner_actor, name="Returns")
    here = ConversationFactory(brand=brand, location=store)
    there = ConversationFactory(brand=brand, location=sibling_store)
    ids = [here.pk, there.pk]
    results = organise.conversations_bulk(
        actor=owner_actor, conversation_ids=ids, action="assign", value=str(agent.user.pk)
    )
    assert [r.ok for r in results] == [True, False]  # the agent does not work at the sibling
    assert results[1].message == "That person cannot answer conversations here."
    for action, value in (("label", str(label.pk)), ("priority", "high"), ("team", str(team.pk))):
        results = organise.conversations_bulk(
            actor=owner_actor, conversation_ids=ids, action=action, value=value
        )
        assert all(r.ok for r in results)
    for conversation in (here, there):
        conversation.refresh_from_db()
        assert (conversation.priority, conversation.team) == ("high", team)
        assert list(conversation.labels.all()) == [label]
    here.refresh_from_db()
    assert here.assignee == agent.user and there.assignee is None


def test_bulk_refuses_bad_requests_before_touching_anything(owner_actor, make_actor, brand, store):
    conversation = ConversationFactory(brand=brand, location=store)
    with pytest.raises(AppError):
        organise.conversations_bulk(actor=owner_actor, conversation_ids=[], action="status")
    with pytest.raises(AppError):
        organise.conversations_bulk(
            actor=owner_actor, conversation_ids=[conversation.pk], action="delete"
        )
    with pytest.raises(AppError):
        organise.conversations_bulk(
            actor=owner_actor, conversation_ids=[conversation.pk], action="priority", value="meh"
        )
    with pytest.raises(Forbidden):
        organise.conversations_bulk(
            actor=make_actor(Role.VIEWER),
            conversation_ids=[conversation.pk],
            action="priority",
            value="high",
        )
    conversation.refresh_from_db()
    assert conversation.priority == "normal"
