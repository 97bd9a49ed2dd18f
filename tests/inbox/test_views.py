from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from opencx.inbox import sla
from opencx.inbox.models import Conversation, Message
from opencx.platform.models import Channel
from opencx.platform.roles import Role
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    LocationFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
Status = Conversation.Status


def _url(brand, *args):
    name = "inbox:detail" if args else "inbox:list"
    return reverse(name, args=[brand.slug, *args])


def _shown(client, brand, **params):
    return list(client.get(_url(brand), params).context["page"].object_list)


@pytest.fixture
def email(brand):
    return ChannelFactory(brand=brand, kind=Channel.Kind.EMAIL, name="Support e-mail")


@pytest.fixture
def chat(brand):
    return ChannelFactory(brand=brand, kind=Channel.Kind.WEB_CHAT, name="Web chat")


def test_owner_sees_open_conversations_with_tab_counts(client, brand, owner, store, email):
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    waiting = ConversationFactory(
        brand=brand,
        location=store,
        channel=email,
        contact=contact,
        subject="Broken zip",
        waiting_since=timezone.now() - timedelta(hours=5),
        priority="urgent",
    )
    ConversationFactory(brand=brand, location=store, channel=email, status=Status.PENDING)
    ConversationFactory(brand=brand, location=store, channel=email, status=Status.RESOLVED)
    ConversationFactory(brand=brand, location=store, channel=email, status=Status.RESOLVED)
    client.force_login(owner)

    page = client.get(_url(brand))

    assert page.status_code == 200
    assert list(page.context["page"].object_list) == [waiting]
    counts = {tab: count for tab, _, count in page.context["tabs"]}
    assert counts == {"open": 1, "pending": 1, "snoozed": 0, "resolved": 2, "all": 4}
    body = page.content.decode()
    assert "Broken zip" in body and "Marta Bianchi" in body and "Support e-mail" in body
    assert "Urgent" in body and "waiting <time" in body and "Open a conversation to reply" in body


def test_a_row_says_who_what_and_how_long_and_escapes_what_customers_wrote(
    client, brand, owner, store, email, make_actor
):
    now = timezone.now()
    anonymous = ConversationFactory(
        brand=brand, location=store, channel=email, subject="<b>bold</b> & co", priority="high",
        waiting_since=now - timedelta(hours=3), assignee=owner,
    )  # fmt: skip
    unanswered = ConversationFactory(brand=brand, location=store, channel=email, subject="Hi")
    client.force_login(owner)

    body = client.get(_url(brand)).content.decode()
    row = body[body.index(f'name="ids" value="{anonymous.pk}"') :].split("</tr>")[0]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in row and "<b>" not in row
    assert 'aria-label="Select &lt;b&gt;bold&lt;/b&gt; &amp; co"' in row
    assert f'href="{_url(brand)}{anonymous.pk}/"' in row and "<td>Unknown</td>" in row
    assert '<span class="badge priority-high">High</span>' in row and str(owner) in row
    assert "waiting <time datetime=" in row and "3\xa0hours</time>" in row
    other = body[body.index(f'name="ids" value="{unanswered.pk}"') :].split("</tr>")[0]
    assert "no reply yet" in other and "<td>Unassigned</td>" in other

    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    assert 'name="ids"' not in client.get(_url(brand)).content.decode()  # no bulk actions


def test_status_tabs_show_their_conversations(client, brand, owner, store, email):
    opened = ConversationFactory(brand=brand, location=store, channel=email)
    snoozed = ConversationFactory(brand=brand, location=store, channel=email, status="snoozed")
    resolved = ConversationFactory(
        brand=brand,
        location=store,
        channel=email,
        status=Status.RESOLVED,
        first_reply_at=timezone.now(),
    )
    client.force_login(owner)

    assert _shown(client, brand, status="snoozed") == [snoozed]
    assert _shown(client, brand, status="resolved") == [resolved]
    assert set(_shown(client, brand, status="all")) == {opened, snoozed, resolved}
    assert _shown(client, brand, status="bogus") == [opened]
    assert "first response in" in client.get(_url(brand), {"status": "resolved"}).content.decode()


def test_open_tab_lists_the_longest_waiting_first(client, brand, owner, store, email):
    now = timezone.now()
    recent = ConversationFactory(
        brand=brand, location=store, channel=email, waiting_since=now - timedelta(minutes=5)
    )
    oldest = ConversationFactory(
        brand=brand, location=store, channel=email, waiting_since=now - timedelta(days=2)
    )
    client.force_login(owner)

    assert _shown(client, brand) == [oldest, recent]


def test_channel_and_assignee_filters_narrow_the_list_and_the_counts(
    client, brand, owner, store, email, chat
):
    agent = UserFactory(first_name="Agata")
    by_mail = ConversationFactory(brand=brand, location=store, channel=email, assignee=agent)
    by_chat = ConversationFactory(brand=brand, location=store, channel=chat)
    ConversationFactory(brand=brand, location=store, channel=chat, status=Status.RESOLVED)
    client.force_login(owner)

    assert _shown(client, brand, channel=email.pk) == [by_mail]
    assert _shown(client, brand, channel=chat.pk) == [by_chat]
    assert _shown(client, brand, assignee=agent.pk) == [by_mail]
    assert _shown(client, brand, assignee="none") == [by_chat]
    page = client.get(_url(brand), {"channel": chat.pk})
    counts = {tab: count for tab, _, count in page.context["tabs"]}
    assert (counts["open"], counts["resolved"], counts["all"]) == (1, 1, 2)
    assert "Agata" in page.content.decode()  # offered as an assignee


def test_the_assignee_choices_mark_the_chosen_one_and_me_and_escape_names(
    client, brand, owner, store, email
):
    owner.first_name, owner.last_name = "Olga", "Owner"
    owner.save()
    agent = UserFactory(first_name="<b>Agata</b>", last_name="")
    for person in (owner, agent):
        ConversationFactory(brand=brand, location=store, channel=email, assignee=person)
    client.force_login(owner)

    html = client.get(_url(brand), {"assignee": agent.pk}).content.decode()
    assert f'<option value="{agent.pk}" selected>&lt;b&gt;Agata&lt;/b&gt;</option>' in html
    assert f'<option value="{owner.pk}">Olga Owner (me)</option>' in html
    assert "<b>Agata" not in html


def test_location_manager_sees_only_their_subtree(
    client, brand, store, sibling_store, make_actor, email
):
    mine = ConversationFactory(brand=brand, location=store, channel=email)
    ConversationFactory(brand=brand, location=sibling_store, channel=email)
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    page = client.get(_url(brand), {"status": "all"})

    assert list(page.context["page"].object_list) == [mine]
    assert {tab: count for tab, _, count in page.context["tabs"]}["all"] == 1


def test_switcher_location_narrows_the_list(client, brand, owner, store, sibling_store, email):
    ConversationFactory(brand=brand, location=store, channel=email)
    theirs = ConversationFactory(brand=brand, location=sibling_store, channel=email)
    client.force_login(owner)
    session = client.session
    session[f"location_scope:{brand.pk}"] = sibling_store.pk
    session.save()

    assert _shown(client, brand) == [theirs]


def test_list_paginates_by_25(client, brand, owner, store, email):
    ConversationFactory.create_batch(26, brand=brand, location=store, channel=email)
    client.force_login(owner)

    assert len(_shown(client, brand)) == 25
    assert len(_shown(client, brand, page=2)) == 1


def test_list_query_count_is_flat(client, brand, owner, store, django_assert_max_num_queries):
    for _ in range(8):
        location = LocationFactory(parent=store)
        ConversationFactory.create_batch(
            3,
            brand=brand,
            location=location,
            channel=ChannelFactory(brand=brand, location=location),
            contact=ContactFactory(brand=brand),
            assignee=UserFactory(),
        )
    client.force_login(owner)

    # 9 for the queue (session, user, membership, brands and locations for the menus,
    # channels, one aggregate for the tab counts and the live fingerprint, assignees, the
    # page of rows; the paginator reuses the tab's count), + 5 for the agent tools' choices
    # (labels, teams, inboxes, saved views, people for bulk assignment), + 1 for my
    # availability (status and open load in one query); none per row.
    with django_assert_max_num_queries(15):
        page = client.get(_url(brand))

    assert len(page.context["page"].object_list) == 24
    assert page.context["page"].paginator.count == 24
    # A filter counts its tabs apart (+1); the fingerprint is then read on its own (shared
    # for a second outside the tests, whose cache keeps nothing).
    with django_assert_max_num_queries(16):
        filtered = client.get(_url(brand), {"assignee": "none"})
    assert filtered.context["page"].paginator.count == 0


def test_detail_shows_thread_notes_bots_contact_and_facts(client, brand, owner, store, email):
    contact = ContactFactory(brand=brand, name="Luca Rossi")
    IdentityFactory(contact=contact, value="luca@example.test")
    agent = UserFactory(first_name="Agata", last_name="Verdi")
    conversation = ConversationFactory(
        brand=brand, location=store, channel=email, contact=contact, subject="Late parcel"
    )
    MessageFactory(conversation=conversation, body="Where is my parcel?")
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTGOING,
        sender_kind=Message.Sender.BOT,
        body="Your parcel ships tomorrow.",
    )
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTGOING,
        sender_kind=Message.Sender.AGENT,
        sender=agent,
        is_private=True,
        body="Check with the courier first.",
    )
    client.force_login(owner)

    page = client.get(_url(brand, conversation.pk))

    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("Where is my parcel?") < body.index("Your parcel ships tomorrow.")
    assert 'class="msg incoming"' in body and 'class="msg outgoing"' in body
    assert 'class="msg note"' in body and "Internal note" in body
    assert '<span class="badge">Bot</span>' in body and "Agata Verdi" in body
    assert "Luca Rossi" in body and "luca@example.test" in body
    assert "Support e-mail" in body and "Milano Centro" in body
    assert 'id="reply"' in body and "no inbox to reply through" in body


def test_detail_query_count_does_not_grow_with_messages(
    client, brand, owner, store, email, django_assert_max_num_queries
):
    conversation = ConversationFactory(
        brand=brand, location=store, channel=email, contact=ContactFactory(brand=brand)
    )
    for _ in range(20):
        MessageFactory(
            conversation=conversation, direction="out", sender_kind="agent", sender=UserFactory()
        )
    client.force_login(owner)

    # 9 for the thread, + 8 for the agent tools (canned replies, labels, teams, and the
    # customer panel: responses, orders x2, cases, other conversations); none per message.
    with django_assert_max_num_queries(17):
        assert client.get(_url(brand, conversation.pk)).status_code == 200


def test_detail_of_a_sibling_store_is_404_for_a_location_manager(
    client, brand, store, sibling_store, make_actor, email
):
    mine = ConversationFactory(brand=brand, location=store, channel=email)
    theirs = ConversationFactory(brand=brand, location=sibling_store, channel=email)
    client.force_login(make_actor(Role.LOCATION_MANAGER, store).user)

    assert client.get(_url(brand, mine.pk)).status_code == 200
    assert client.get(_url(brand, theirs.pk)).status_code == 404


def test_other_brand_is_404(client, brand, owner, stranger, store, email):
    foreign = ConversationFactory(brand=BrandFactory())
    ours = ConversationFactory(brand=brand, location=store, channel=email)
    client.force_login(owner)
    assert client.get(_url(brand, foreign.pk)).status_code == 404

    client.force_login(stranger)
    assert client.get(_url(brand)).status_code == 404
    assert client.get(_url(brand, ours.pk)).status_code == 404


def test_a_conversation_without_inbox_takes_notes_only(client, brand, owner, store, email):
    conversation = ConversationFactory(brand=brand, location=store, channel=email)
    client.force_login(owner)
    url = _url(brand, conversation.pk)

    refused = client.post(url, {"action": "reply", "body": "hi"})
    assert refused.status_code == 409 and "no channel to reply" in refused.content.decode()
    noted = client.post(url, {"action": "reply", "body": "call them", "private": "on"})
    assert noted.status_code == 302
    assert conversation.messages.get().is_private
    assert client.put(url).status_code == 405
    assert client.post(url, {"action": "delete"}).status_code == 400


# --- Working a conversation from its page ----------------------------------------------------


@pytest.fixture
def live(brand, store, owner):
    """A conversation that came in through an API inbox, so replies have a channel."""
    from opencx.inbox import services
    from opencx.platform.actor import Actor

    actor = Actor(user=owner, brand=brand, membership=owner.memberships.get())
    inbox = services.inbox_create_api(actor=actor, name="Shop", location=store).inbox
    received = services.message_receive(
        inbox=inbox, provider_message_id="m-1", body="Hello?", email="c@example.test"
    )
    return received.message.conversation


def test_an_agent_replies_notes_moves_assigns_and_prioritises(
    client, brand, store, live, make_actor
):
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    url = _url(brand, live.pk)
    page = client.get(url)
    assert page.status_code == 200
    assert [to for to, _ in page.context["moves"]] == ["pending", "snoozed", "resolved"]
    assert agent.user in page.context["assignees"]

    assert client.post(url, {"action": "reply", "body": "On its way"}).status_code == 302
    assert client.post(url, {"action": "reply", "body": "vip", "private": "on"}).status_code == 302
    reply, note = live.messages.filter(direction="out").order_by("pk")
    assert (reply.is_private, reply.delivery_status, note.is_private) == (False, "pending", True)
    live.refresh_from_db()
    assert live.first_reply_at is not None and live.waiting_since is None

    assert client.post(url, {"action": "assign", "assignee": agent.user.pk}).status_code == 302
    assert client.post(url, {"action": "priority", "priority": "high"}).status_code == 302
    snooze = {"action": "transition", "to": "snoozed", "snooze_until": "2999-01-01T09:30"}
    assert client.post(url, snooze).status_code == 302
    live.refresh_from_db()
    assert (live.assignee, live.priority, live.status) == (agent.user, "high", "snoozed")
    assert live.snoozed_until.year == 2999
    assert "Snoozed until" in client.get(url).content.decode()
    assert client.post(url, {"action": "transition", "to": "resolved"}).status_code == 302
    live.refresh_from_db()
    assert live.status == "resolved"


def test_mistakes_come_back_on_the_page(client, brand, store, live, owner, sibling_store):
    client.force_login(owner)
    url = _url(brand, live.pk)
    empty = client.post(url, {"action": "reply", "body": "  "})
    assert empty.status_code == 400 and "This cannot be empty." in empty.content.decode()
    no_time = client.post(url, {"action": "transition", "to": "snoozed"})
    assert no_time.status_code == 400 and "in the future" in no_time.content.decode()
    stranger = UserFactory()
    assert client.post(url, {"action": "assign", "assignee": stranger.pk}).status_code == 400
    wrong_move = client.post(url, {"action": "transition", "to": "open"})
    assert wrong_move.status_code == 409


def test_viewers_cannot_work_conversations(client, brand, live, make_actor):
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    page = client.get(_url(brand, live.pk))
    assert page.status_code == 200 and 'id="reply"' not in page.content.decode()
    answer = client.post(_url(brand, live.pk), {"action": "reply", "body": "hi"})
    assert answer.status_code == 403
    assert not live.messages.filter(direction="out").exists()


def test_rows_link_to_their_conversation_and_show_a_late_service_level(
    client, brand, owner, owner_actor, store, email_inbox
):
    policy = sla.sla_policy_set(
        actor=owner_actor, inbox=email_inbox, priority="normal", first_response_minutes=60,
        business_hours=False,
    )  # fmt: skip
    late = ConversationFactory(
        brand=brand,
        location=store,
        inbox=email_inbox,
        channel=email_inbox.channel,
        sla_policy=policy,
        first_response_due_at=timezone.now() - timedelta(minutes=5),
    )
    client.force_login(owner)

    html = client.get(reverse("inbox:list", args=[brand.slug])).content.decode()

    assert f'href="{reverse("inbox:detail", args=[brand.slug, late.pk])}"' in html
    assert "First response overdue</span>" in html
