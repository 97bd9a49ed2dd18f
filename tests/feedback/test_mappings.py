from datetime import UTC, datetime
from decimal import Decimal

import pytest

from opencx.feedback.mappings import (
    derived_external_id,
    fingerprint,
    map_record,
    mapping_from_dict,
    ready_mapping,
)
from opencx.feedback.ready_mappings import READY_MAPPINGS
from opencx.platform.errors import AppError


def custom(**fields):
    return mapping_from_dict({"fields": {"occurred_at": "date", "text": "text", **fields}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4", (Decimal("4.00"), 5)),
        ("4,5", (Decimal("4.50"), 5)),
        ("8/10", (Decimal("8.00"), 10)),
        ("4 out of 5", (Decimal("4.00"), 5)),
        ("★★★☆☆", (Decimal("3.00"), 5)),
        ("FOUR", (Decimal("4.00"), 5)),
    ],
)
def test_ratings_with_their_scale(raw, expected):
    mapped = map_record(custom(rating="stars"), {"date": "2025-01-01", "stars": raw})
    assert mapped.ok, mapped.errors
    assert (mapped.values["rating"], mapped.values["rating_scale"]) == expected


@pytest.mark.parametrize("raw", ["0", "6", "11/10", "great", "nan"])
def test_ratings_outside_the_scale_name_the_field(raw):
    mapped = map_record(custom(rating="stars"), {"date": "2025-01-01", "stars": raw, "text": "x"})
    assert [e["field"] for e in mapped.errors] == ["rating"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01T10:15:00Z", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
        ("2025-03-01 11:15", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),  # Rome, winter
        ("01/03/2025 11:15", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),  # day first
        ("Sat, 01 Mar 2025 10:15:00 +0000", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
        ("Sat Mar 01 10:15:00 +0000 2025", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
        (1740824100, datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
        ("1740824100000", datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
        ({"timestamp": 1740824100}, datetime(2025, 3, 1, 10, 15, tzinfo=UTC)),
    ],
)
def test_dates_in_many_forms_with_a_default_zone(raw, expected):
    mapped = map_record(custom(), {"date": raw, "text": "x"}, default_timezone="Europe/Rome")
    assert mapped.ok, mapped.errors
    assert mapped.values["occurred_at"] == expected


def test_explicit_date_format_and_bad_dates():
    mapping = custom(occurred_at={"column": "date", "format": "%m-%d-%Y", "timezone": "UTC"})
    assert map_record(mapping, {"date": "03-01-2025", "text": "x"}).values["occurred_at"] == (
        datetime(2025, 3, 1, tzinfo=UTC)
    )
    for raw in ("soon", "2999-01-01", "1970-01-01"):
        errors = map_record(custom(), {"date": raw, "text": "x"}).errors
        assert [e["field"] for e in errors] == ["occurred_at"], raw


def test_missing_required_and_empty_rows():
    assert map_record(custom(), {"text": "x"}).errors == [
        {"field": "occurred_at", "reason": "missing (no value in 'date')"}
    ]
    assert map_record(custom(), {"date": "2025-01-01", "text": " "}).errors[0]["field"] == "text"


def test_contact_fields_are_normalised_or_reported():
    mapping = custom(email="mail", phone="tel", handle="who")
    mapped = map_record(
        mapping,
        {"date": "2025-01-01", "text": "x", "mail": " A@B.Test ", "tel": "0039 02 1234 5678"},
    )
    assert (mapped.values["email"], mapped.values["phone"]) == ("a@b.test", "+390212345678")
    bad = map_record(mapping, {"date": "2025-01-01", "text": "x", "mail": "nope", "who": "@Ann"})
    assert bad.errors == [{"field": "email", "reason": "'nope' is not an e-mail address"}]
    assert bad.values["handle"] == "ann"


def test_alternatives_join_constants_and_paths():
    mapping = mapping_from_dict(
        {
            "fields": {
                "occurred_at": ["created", "date"],
                "text": {"columns": ["a", "b"], "join": " | "},
                "author": "user.names.0",
                "kind": {"value": "ticket"},
            }
        }
    )
    mapped = map_record(
        mapping, {"date": "2025-01-01", "a": "one", "b": "two", "user": {"names": ["Ann"]}}
    )
    assert mapped.values["text"] == "one | two"
    assert mapped.values["author"] == "Ann"
    assert mapped.values["kind"] == "ticket"


def test_overrides_and_based_on():
    mapping = mapping_from_dict(
        {"based_on": "trustpilot", "source": "tp-uk"}, overrides=["Kommentar=text"]
    )
    assert mapping.source == "tp-uk" and mapping.fields["text"] == "Kommentar"
    assert mapping.fields["rating"] == READY_MAPPINGS["trustpilot"]["fields"]["rating"]


@pytest.mark.parametrize(
    ("data", "overrides", "field"),
    [
        ({"fields": {"occurred_at": "d", "feelings": "x", "text": "t"}}, [], "fields.feelings"),
        ({"fields": {"text": "t"}}, [], "occurred_at"),
        ({"fields": {"occurred_at": "d"}}, [], "text"),
        ({"based_on": "myspace"}, [], "based_on"),
        ({"fields": {"occurred_at": "d", "text": "t"}, "kind": "rumour"}, [], "kind"),
        ({"fields": {"occurred_at": "d", "text": "t"}, "timezone": "Mars/Base"}, [], "timezone"),
        ({"fields": {"occurred_at": "d", "text": "t"}}, ["no-equals"], "map"),
    ],
)
def test_bad_mappings_name_the_field(data, overrides, field):
    with pytest.raises(AppError) as error:
        mapping_from_dict(data, overrides=overrides)
    assert error.value.field == field


@pytest.mark.parametrize("name", sorted(READY_MAPPINGS))
def test_every_ready_mapping_is_valid(name):
    assert ready_mapping(name).source


def test_google_keeps_the_original_of_a_translated_comment():
    record = {
        "reviewId": "x",
        "createTime": "2025-02-12T16:40:00Z",
        "starRating": "TWO",
        "comment": "(Translated by Google) Long wait.\n\n(Original)\nLange Wartezeit.",
    }
    assert map_record(ready_mapping("google"), record).values["text"] == "Lange Wartezeit."


def test_zendesk_satisfaction_is_a_two_point_scale():
    mapping = ready_mapping("zendesk")
    base = {"Id": "1", "Created at": "2025-02-03 09:14:00 +0100", "Subject": "Hi"}
    good = map_record(mapping, {**base, "Satisfaction Score": "Good"}).values
    assert (good["rating"], good["rating_scale"]) == (Decimal("1.00"), 1)
    assert (
        map_record(mapping, {**base, "Satisfaction Score": "Unoffered"}).values.get("rating")
        is None
    )


def test_derived_ids_and_fingerprints_ignore_case_and_punctuation():
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    one = {"author": "Ann Lee", "text": "Great coffee!", "occurred_at": moment}
    two = {"author": "ann  lee", "text": "great coffee", "occurred_at": moment}
    assert derived_external_id("s", one) == derived_external_id("s", two)
    assert derived_external_id("s", one) != derived_external_id("t", one)
    assert fingerprint(one) == fingerprint(two) != ""
    assert fingerprint({"text": "anonymous"}) == ""
