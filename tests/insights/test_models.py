from datetime import date

import pytest
from django.db import IntegrityError, transaction

from opencx.insights.models import ResponseRollup

pytestmark = pytest.mark.django_db


def _row(question, location, **extra):
    return ResponseRollup(
        brand=location.brand,
        survey=question.survey,
        question=question,
        location=location,
        day=date(2026, 3, 1),
        **extra,
    )


def test_the_key_is_unique_when_touchpoint_and_channel_are_none(store, make_survey):
    """0 stands for "none" so the unique key holds on SQLite and PostgreSQL (NULLs would not)."""
    _, nps, _ = make_survey("nps")
    _row(nps, store, n=1).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(nps, store, n=1).save()


def test_rows_differing_in_one_key_part_may_coexist(store, sibling_store, make_survey):
    _, nps, _ = make_survey("nps")
    _row(nps, store).save()
    _row(nps, store, touchpoint_key=7).save()
    _row(nps, store, channel_key=7).save()
    _row(nps, sibling_store).save()
    assert ResponseRollup.objects.count() == 4


def test_none_keys_read_back_as_none(store, make_survey):
    _, nps, _ = make_survey("nps")
    row = _row(nps, store, channel_key=5)
    assert (row.touchpoint_id, row.channel_id) == (None, 5)
