"""Reads of the closed loop: every one scoped to the actor's brand and reach."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opencx.cases import selectors
from opencx.cases.models import Case
from opencx.platform.errors import NotFound
from opencx.platform.roles import Role
from tests.factories import CaseFactory, CaseRuleFactory

pytestmark = pytest.mark.django_db


def test_case_list_filters(owner_actor, brand, other_brand, store, sibling_store, manager):
    now = timezone.now()
    mine = CaseFactory(brand=brand, location=store, owner=manager, root_cause="staff")
    late = CaseFactory(brand=brand, location=sibling_store, due_at=now - timedelta(minutes=1))
    done = CaseFactory(brand=brand, location=store, status=Case.Status.RESOLVED)
    CaseFactory(brand=other_brand)

    def listed(**filters):
        return list(selectors.case_list(owner_actor, filters=selectors.CaseFilters(**filters)))

    assert set(listed()) == {mine, late, done}
    assert set(listed(status="open")) == {mine, late}
    assert listed(status="resolved") == [done]
    assert listed(owner=manager.pk) == [mine]
    assert set(listed(owner=0)) == {late, done}
    assert listed(location=sibling_store) == [late]
    assert listed(overdue=True) == [late]
    assert listed(root_cause="staff") == [mine]


def test_a_location_manager_reaches_only_their_store(brand, store, sibling_store, make_actor):
    here = CaseFactory(brand=brand, location=store)
    there = CaseFactory(brand=brand, location=sibling_store)
    actor = make_actor(Role.LOCATION_MANAGER, store)
    assert list(selectors.cases_visible_to(actor)) == [here]
    assert selectors.case_get(actor, pk=here.pk) == here
    with pytest.raises(NotFound):
        selectors.case_get(actor, pk=there.pk)
    assert selectors.case_status_counts(actor) == {"new": 1}


def test_assignees_are_the_members_who_may_work_the_location(
    owner_actor, brand, store, sibling_store, manager, cx_manager, make_actor
):
    elsewhere = make_actor(Role.LOCATION_MANAGER, sibling_store).user
    viewer = make_actor(Role.VIEWER).user
    people = set(selectors.case_assignees(owner_actor, location=store))
    assert {manager, cx_manager, owner_actor.user} <= people
    assert elsewhere not in people and viewer not in people


def test_rules_of_another_brand_are_404(owner_actor, brand, other_brand):
    ours, theirs = CaseRuleFactory(brand=brand), CaseRuleFactory(brand=other_brand)
    assert list(selectors.case_rules_of(owner_actor)) == [ours]
    with pytest.raises(NotFound):
        selectors.case_rule_get(owner_actor, pk=theirs.pk)
