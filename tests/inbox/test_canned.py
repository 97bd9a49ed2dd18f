"""Canned replies: placeholders checked on save by name, filled in by plain substitution."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.inbox import canned
from opencx.inbox.models import CannedReply
from opencx.platform.errors import AppError, Conflict, Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def _create(actor, shortcut="thanks", body="Thank you, {{ contact.first_name }}!", title="Thanks"):
    return canned.canned_reply_create(actor=actor, shortcut=shortcut, title=title, body=body)


def test_a_manager_adds_a_reply_and_it_is_audited(owner_actor):
    reply = _create(owner_actor, shortcut="/Thanks")
    assert (reply.shortcut, reply.title, reply.created_by) == ("thanks", "Thanks", owner_actor.user)
    assert AuditEvent.objects.filter(action="canned_reply.create", object_id=str(reply.pk)).exists()


def test_an_unknown_placeholder_is_refused_by_name(owner_actor):
    with pytest.raises(AppError) as raised:
        _create(owner_actor, body="Hi {{ contact.surname }}, {{ agent.name }} here")
    assert raised.value.field == "body"
    assert "{{ contact.surname }}" in raised.value.message
    assert "{{ contact.first_name }}" in raised.value.message  # the known ones are listed
    assert not CannedReply.objects.exists()


def test_template_syntax_in_a_reply_is_text_not_code(owner_actor, brand, store):
    reply = _create(owner_actor, body="{% now 'Y' %} {{ agent.name }} {# x #}")
    conversation = ConversationFactory(brand=brand, location=store)
    text = canned.canned_reply_render(actor=owner_actor, reply=reply, conversation=conversation)
    assert text.startswith("{% now 'Y' %} ") and text.endswith(" {# x #}")


def test_rendering_fills_every_placeholder_for_the_conversation(owner_actor, brand, store):
    owner_actor.user.first_name, owner_actor.user.last_name = "Giulia", "Verdi"
    owner_actor.user.save()
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    body = (
        "{{ contact.name }}|{{contact.first_name}}|{{ agent.name }}|{{ brand.name }}|"
        "{{ location.name }}|{{ conversation.id }}"
    )
    reply = _create(owner_actor, body=body)
    text = canned.canned_reply_render(actor=owner_actor, reply=reply, conversation=conversation)
    assert text == f"Marta Bianchi|Marta|Giulia Verdi|Bottega|Milano Centro|{conversation.pk}"


def test_an_unknown_customer_leaves_their_placeholders_empty(owner_actor, brand, store):
    reply = _create(owner_actor, body="Hi {{ contact.first_name }}.\n{{ contact.name }}")
    conversation = ConversationFactory(brand=brand, location=store, contact=None)
    assert canned.canned_reply_render(
        actor=owner_actor, reply=reply, conversation=conversation
    ) == ("Hi.\n")


@given(st.text(max_size=60))
def test_text_without_placeholders_renders_unchanged(text):
    if "{{" in text:
        return
    assert canned.render_text(text, {"contact.name": "X"}) == text


@given(st.sampled_from(sorted(canned.PLACEHOLDERS)), st.text(max_size=30))
def test_each_known_placeholder_is_replaced_by_its_value_verbatim(name, value):
    # The value is inserted as is: a value that looks like a placeholder is not expanded again.
    assert canned.render_text("<{{ %s }}>" % name, {name: value}) == f"<{value}>"  # noqa: UP031
    assert canned.render_text("a {{ %s }}" % name, {name: value}) == (  # noqa: UP031
        f"a {value}" if value else "a"
    )


def test_shortcuts_are_unique_per_brand_and_checked(owner_actor):
    _create(owner_actor)
    with pytest.raises(Conflict):
        _create(owner_actor, shortcut="THANKS")
    with pytest.raises(AppError) as raised:
        _create(owner_actor, shortcut="thank you")
    assert raised.value.field == "shortcut" and "thank-you" in raised.value.message


def test_only_managers_change_replies_and_agents_use_them(owner_actor, make_actor, brand, store):
    reply = _create(owner_actor)
    agent = make_actor(Role.AGENT)
    with pytest.raises(Forbidden):
        _create(agent, shortcut="other")
    with pytest.raises(Forbidden):
        canned.canned_reply_delete(actor=agent, reply=reply)
    conversation = ConversationFactory(brand=brand, location=store)
    assert canned.canned_reply_render(actor=agent, reply=reply, conversation=conversation)
    viewer = make_actor(Role.VIEWER)
    with pytest.raises(Forbidden):
        canned.canned_reply_render(actor=viewer, reply=reply, conversation=conversation)


def test_update_and_delete(owner_actor):
    reply = _create(owner_actor)
    canned.canned_reply_update(
        actor=owner_actor,
        reply=reply,
        shortcut="thx",
        title="Thanks!",
        body="Ciao {{ agent.name }}",
    )
    reply.refresh_from_db()
    assert (reply.shortcut, reply.body) == ("thx", "Ciao {{ agent.name }}")
    with pytest.raises(AppError):
        canned.canned_reply_update(
            actor=owner_actor, reply=reply, shortcut="thx", title="T", body="{{ nope }}"
        )
    canned.canned_reply_delete(actor=owner_actor, reply=reply)
    assert not CannedReply.objects.exists()


def test_another_brands_reply_is_not_found(owner_actor, stranger, other_brand, brand, store):
    from opencx.platform.actor import Actor

    theirs = _create(Actor(user=stranger, brand=other_brand, membership=stranger.memberships.get()))
    with pytest.raises(NotFound):
        canned.canned_reply_get(owner_actor, pk=theirs.pk)
    with pytest.raises(NotFound):
        canned.canned_reply_find(owner_actor, shortcut="/thanks")
    conversation = ConversationFactory(brand=brand, location=store)
    with pytest.raises(NotFound):
        canned.canned_reply_render(actor=owner_actor, reply=theirs, conversation=conversation)
