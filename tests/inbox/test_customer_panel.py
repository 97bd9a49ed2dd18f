"""The customer panel's reads (inbox.customer_panel): scoped parts, and the customer's NPS."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.inbox.customer_panel import _nps, customer_panel, merge_candidates, nps_band
from opencx.platform.roles import Role
from tests.factories import (
    CaseFactory,
    ContactFactory,
    ConversationFactory,
    IdentityFactory,
    ResponseFactory,
)


@given(st.integers(min_value=0, max_value=10))
def test_every_nps_answer_has_one_band(score):
    expected = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    assert nps_band(score) == expected


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=40))
def test_a_customers_nps_is_promoter_minus_detractor_share(scores):
    nps_survey = SimpleNamespace(kind="nps")
    responses = [SimpleNamespace(survey=nps_survey, score=s, created_at=i) for i, s in
                 enumerate(scores)]  # fmt: skip
    result = _nps(responses)
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    assert result.n == len(scores) and result.latest_score == scores[0]
    assert result.score == round(100 * (promoters - detractors) / len(scores))
    assert -100 <= result.score <= 100


def test_other_kinds_and_missing_scores_do_not_count():
    csat = SimpleNamespace(kind="csat")
    nps = SimpleNamespace(kind="nps")
    responses = [
        SimpleNamespace(survey=csat, score=5, created_at=3),
        SimpleNamespace(survey=nps, score=None, created_at=2),
        SimpleNamespace(survey=nps, score=6, created_at=1),
    ]
    result = _nps(responses)
    assert (result.n, result.latest_score, result.latest_band, result.score) == (
        1, 6, "detractor", -100,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_panel_is_scoped_to_the_actor(make_actor, brand, store, sibling_store, make_survey):
    contact = ContactFactory(brand=brand)
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    survey, _, _ = make_survey("nps")
    ResponseFactory(survey=survey, location=sibling_store, contact=contact, score=2)
    mine = ResponseFactory(survey=survey, location=store, contact=contact, score=10)
    CaseFactory(brand=brand, location=sibling_store, contact=contact)
    ConversationFactory(brand=brand, location=sibling_store, contact=contact)
    panel = customer_panel(make_actor(Role.AGENT, store), conversation=conversation)
    assert panel.responses == [mine] and panel.nps.n == 1 and panel.nps.score == 100
    assert panel.open_cases == [] and panel.other_conversations == []
    everything = customer_panel(make_actor(Role.OWNER), conversation=conversation)
    assert everything.nps.n == 2 and len(everything.open_cases) == 1
    assert len(everything.other_conversations) == 1


@pytest.mark.django_db
def test_merge_candidates_exclude_the_customer_and_need_two_characters(owner_actor, brand, store):
    contact = ContactFactory(brand=brand, name="Marta Bianchi")
    twin = ContactFactory(brand=brand, name="Marta B.")
    IdentityFactory(contact=twin, value="marta.b@example.test")
    conversation = ConversationFactory(brand=brand, location=store, contact=contact)
    assert list(merge_candidates(owner_actor, conversation=conversation, q="marta")) == [twin]
    assert list(merge_candidates(owner_actor, conversation=conversation, q="m")) == []
    assert list(merge_candidates(owner_actor, conversation=conversation, q="b@example")) == [twin]
