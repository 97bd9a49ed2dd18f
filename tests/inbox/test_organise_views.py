"""Pages of the agent's tools: canned replies, labels, teams, saved views, bulk actions and the
customer panel with "same customer as…" (organise_views.py)."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opencx.contacts.models import Contact
from opencx.inbox import canned, organise
from opencx.inbox.models import CannedReply, Conversation, Label, SavedView, Team
from opencx.platform.roles import Role
from tests.factories import (
    CaseFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
    OrderFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db


def _url(brand, name, *args):
    return reverse(f"inbox:{name}", args=[brand.slug, *args])


def _said(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def reply(owner_actor):
    return canned.canned_reply_create(
        actor=owner_actor,
        shortcut="thanks",
        title="Thanks",
        body="Grazie {{ contact.first_name }}!",
    )


# --- canned replies ---


def test_managers_add_canned_replies_and_see_a_named_placeholder_error(client, brand, owner):
    client.force_login(owner)
    page = client.get(_url(brand, "canned"))
    assert page.status_code == 200 and b'id="canned-form"' in page.content
    refused = client.post(
        _url(brand, "canned"), {"shortcut": "hi", "title": "Hi", "body": "Hi {{ customer }}"}
    )
    assert refused.status_code == 400
    assert "Unknown placeholder {{ customer }}" in refused.content.decode()
    added = client.post(
        _url(brand, "canned"), {"shortcut": "hi", "title": "Hi", "body": "Hi {{ contact.name }}"}
    )
    assert added.status_code == 302 and CannedReply.objects.get().shortcut == "hi"


def test_agents_see_canned_replies_read_only(client, brand, make_actor, reply):
    agent = make_actor(Role.AGENT)
    client.force_login(agent.user)
    page = client.get(_url(brand, "canned"))
    assert b"/thanks" in page.content and b'id="canned-form"' not in page.content
    assert client.post(_url(brand, "canned-delete", reply.pk)).status_code == 403


def test_the_reply_box_gets_the_filled_in_text(client, brand, store, make_actor, reply):
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    by_id = client.get(_url(brand, "canned-render", conversation.pk), {"reply": reply.pk})
    assert by_id.status_code == 200 and by_id["Content-Type"].startswith("text/plain")
    assert by_id.content.decode() == "Grazie Marta!"
    by_shortcut = client.get(_url(brand, "canned-render", conversation.pk), {"shortcut": "thanks"})
    assert by_shortcut.content.decode() == "Grazie Marta!"
    missing = client.get(_url(brand, "canned-render", conversation.pk), {"shortcut": "nope"})
    assert missing.status_code == 404
    page = client.get(_url(brand, "detail", conversation.pk))
    assert b'class="canned-picker"' in page.content and b"/thanks" in page.content


# --- labels and teams ---


def test_labels_and_teams_pages_add_edit_and_delete(client, brand, owner, make_actor):
    agent = make_actor(Role.AGENT)
    client.force_login(owner)
    assert (
        client.post(_url(brand, "labels"), {"name": "VIP", "colour": "#112233"}).status_code == 302
    )
    label = Label.objects.get()
    assert client.post(_url(brand, "labels"), {"name": "VIP"}).status_code == 409
    client.post(_url(brand, "label-edit", label.pk), {"name": "V.I.P.", "colour": "#112233"})
    label.refresh_from_db()
    assert label.name == "V.I.P."
    response = client.post(_url(brand, "teams"), {"name": "Desk", "members": [agent.user.pk]})
    assert response.status_code == 302
    team = Team.objects.get()
    assert list(team.members.all()) == [agent.user]
    edit = client.get(_url(brand, "team-edit", team.pk))
    assert f'value="{agent.user.pk}" checked'.encode() in edit.content
    client.post(_url(brand, "team-delete", team.pk))
    client.post(_url(brand, "label-delete", label.pk))
    assert not Team.objects.exists() and not Label.objects.exists()


def test_the_conversation_page_labels_and_gives_to_a_team(client, brand, store, owner_actor):
    label = organise.label_create(actor=owner_actor, name="Refund")
    team = organise.team_create(actor=owner_actor, name="Returns")
    conversation = ConversationFactory(brand=brand, location=store)
    client.force_login(owner_actor.user)
    client.post(_url(brand, "conversation-labels", conversation.pk), {"add": label.pk})
    client.post(_url(brand, "conversation-team", conversation.pk), {"team": team.pk})
    conversation.refresh_from_db()
    assert list(conversation.labels.all()) == [label] and conversation.team == team
    page = client.get(_url(brand, "detail", conversation.pk)).content.decode()
    assert "Remove label Refund" in page and f'value="{team.pk}" selected' in page
    client.post(_url(brand, "conversation-labels", conversation.pk), {"remove": label.pk})
    assert not conversation.labels.exists()


# --- the queue: filters, saved views, bulk ---


def test_the_queue_filters_by_label_and_search(client, brand, store, owner_actor):
    label = organise.label_create(actor=owner_actor, name="Refund")
    labelled = ConversationFactory(brand=brand, location=store, subject="Money back")
    labelled.labels.add(label)
    other = ConversationFactory(brand=brand, location=store, subject="Hello")
    MessageFactory(conversation=other, body="Where is my parcel?")
    client.force_login(owner_actor.user)
    page = client.get(_url(brand, "list"), {"label": label.pk})
    assert list(page.context["page"].object_list) == [labelled]
    assert page.context["tabs"][0] == ("open", "Open", 1)
    found = client.get(_url(brand, "list"), {"q": "parcel"})
    assert list(found.context["page"].object_list) == [other]
    assert b'name="q" value="parcel"' in found.content


def test_a_saved_view_opens_the_queue_with_its_filters(client, brand, store, make_actor):
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    saved = client.post(
        _url(brand, "view-create"), {"name": "Urgent", "priority": "urgent", "status": "all"}
    )
    view = SavedView.objects.get()
    assert view.owner == agent.user and view.filters == {"status": "all", "priority": "urgent"}
    assert saved["Location"].endswith(f"?view={view.pk}")
    opened = client.get(saved["Location"])
    assert opened.status_code == 302 and "priority=urgent" in opened["Location"]
    urgent = ConversationFactory(brand=brand, location=store, priority="urgent")
    ConversationFactory(brand=brand, location=store)
    page = client.get(opened["Location"])
    assert list(page.context["page"].object_list) == [urgent]
    assert page.context["current_view"] == view
    client.post(_url(brand, "view-delete", view.pk))
    assert not SavedView.objects.exists()


def test_bulk_actions_say_what_was_done_and_what_was_refused(client, brand, store, make_actor):
    agent = make_actor(Role.AGENT, store)
    ok = ConversationFactory(brand=brand, location=store)
    resolved = ConversationFactory(brand=brand, location=store, status="resolved")
    client.force_login(agent.user)
    response = client.post(
        _url(brand, "bulk"),
        {
            "ids": [ok.pk, resolved.pk],
            "bulk_action": "status",
            "status": "pending",
            "priority": "urgent",  # another action's choice: ignored
            "next": _url(brand, "list") + "?status=all",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("?status=all")
    said = _said(response)
    assert said[0] == "Set status: 1 of 2 done."
    assert said[1].startswith(f"Conversation #{resolved.pk}: A resolved conversation cannot")
    ok.refresh_from_db()
    assert (ok.status, ok.priority) == (Conversation.Status.PENDING, "normal")
    page = client.get(_url(brand, "list"), {"status": "all"})
    assert f'name="ids" value="{ok.pk}" form="bulk"'.encode() in page.content


def test_bulk_next_cannot_leave_the_queue(client, brand, store, owner):
    conversation = ConversationFactory(brand=brand, location=store)
    client.force_login(owner)
    response = client.post(
        _url(brand, "bulk"),
        {"ids": [conversation.pk], "bulk_action": "priority", "priority": "high",
         "next": "https://evil.test/"},
    )  # fmt: skip
    assert response["Location"] == _url(brand, "list")


# --- the customer panel and merging ---


def test_the_panel_shows_the_customer_across_channels(client, brand, store, owner, make_survey):
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    IdentityFactory(contact=contact, kind="email", value="marta@example.test")
    IdentityFactory(contact=contact, kind="phone", value="+393471234567")
    survey, _headline, _ = make_survey("nps")
    ResponseFactory(survey=survey, location=store, contact=contact, score=3)
    ResponseFactory(survey=survey, location=store, contact=contact, score=10)
    OrderFactory(brand=brand, location=store, contact=contact, total=Decimal("40.00"))
    OrderFactory(brand=brand, location=store, contact=contact, total=Decimal("2.50"))
    case = CaseFactory(brand=brand, location=store, contact=contact, title="Late parcel")
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    earlier = ConversationFactory(brand=brand, location=store, contact=contact, subject="Earlier")
    client.force_login(owner)
    page = client.get(_url(brand, "detail", conversation.pk))
    panel = page.content.decode()
    assert "Customer history" in panel and "+393471234567" in panel
    print(panel[panel.index("Customer history") :])
    assert "2 orders" in panel and "42.50 EUR" in panel
    assert reverse("cases:detail", args=[brand.slug, case.pk]) in panel
    assert _url(brand, "detail", earlier.pk) in panel
    assert "over 2 answers their NPS is 0" in panel  # one promoter, one detractor
    assert "This is the same customer as" in panel


def test_the_panel_shows_only_what_the_agent_may_see(
    client, brand, store, sibling_store, make_actor
):
    contact = ContactFactory(brand=brand, home_location=store)
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    CaseFactory(brand=brand, location=sibling_store, contact=contact, title="Elsewhere case")
    OrderFactory(brand=brand, location=sibling_store, contact=contact)
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    panel = client.get(_url(brand, "detail", conversation.pk)).content.decode()
    assert "Elsewhere case" not in panel and "No orders." in panel


def test_an_agent_finds_and_merges_the_same_customer(client, brand, store, make_actor):
    contact = ContactFactory(brand=brand, home_location=store, name="Marta Bianchi")
    twin = ContactFactory(brand=brand, home_location=store, name="Marta B.")
    IdentityFactory(contact=twin, kind="phone", value="+393471234567")
    their_chat = ConversationFactory(brand=brand, location=store, contact=twin)
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    agent = make_actor(Role.AGENT, store)
    client.force_login(agent.user)
    found = client.get(
        _url(brand, "merge-candidates", conversation.pk), {"q": "3471234"}, HTTP_HX_REQUEST="true"
    )
    assert found.status_code == 200 and b"Marta B." in found.content
    assert b"<html" not in found.content  # only the list, for the panel
    assert b"Marta Bianchi</strong>" not in found.content  # not the customer themselves
    merged = client.post(_url(brand, "merge", conversation.pk), {"other": twin.pk})
    assert merged.status_code == 302
    assert not Contact.objects.filter(pk=twin.pk).exists()
    their_chat.refresh_from_db()
    assert their_chat.contact == contact
    assert contact.identities.filter(value="+393471234567").exists()


def test_merging_a_customer_out_of_reach_is_404(client, brand, store, sibling_store, make_actor):
    contact = ContactFactory(brand=brand, home_location=store)
    far = ContactFactory(brand=brand, home_location=sibling_store)
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    client.force_login(make_actor(Role.AGENT, store).user)
    assert client.post(_url(brand, "merge", conversation.pk), {"other": far.pk}).status_code == 404
    assert Contact.objects.filter(pk=far.pk).exists()


def test_viewers_read_the_tools_but_get_no_forms(client, brand, store, make_actor, reply):
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    client.force_login(make_actor(Role.VIEWER).user)
    detail = client.get(_url(brand, "detail", conversation.pk)).content.decode()
    assert "Customer history" in detail and "Labels and team" in detail
    assert "This is the same customer as" not in detail and "canned-picker" not in detail
    queue = client.get(_url(brand, "list")).content.decode()
    assert 'id="bulk"' not in queue and "Save these filters" not in queue
    assert 'name="label"' in queue  # filtering is reading
    assert client.get(_url(brand, "canned-render", conversation.pk)).status_code == 403


def test_merge_search_without_htmx_is_a_page(client, brand, store, owner):
    conversation = ConversationFactory(brand=brand, location=store, contact=None)
    client.force_login(owner)
    page = client.get(_url(brand, "merge-candidates", conversation.pk), {"q": "x"})
    assert page.status_code == 200 and b"<html" in page.content
    detail = client.get(_url(brand, "detail", conversation.pk)).content.decode()
    assert "Not linked to a customer." in detail
