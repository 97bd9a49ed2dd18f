"""The JSON-lines reader: good lines become records; bad ones name their line and field."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.text.jsonl import LineError, Record, parse_line, parse_lines

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def test_examples():
    assert parse_line(1, "   ") is None
    good = parse_line(3, '{"id": 7, "text": "hello", "channel": "email"}')
    assert isinstance(good, Record)
    assert (good.line, good.id, good.text, good.row["channel"]) == (3, 7, "hello", "email")
    assert str(parse_line(4, "{nope")).startswith("line 4: (line): not valid JSON")
    assert parse_line(5, "[1, 2]") == LineError(
        5, "(line)", "expected a JSON object with id and text"
    )
    assert parse_line(6, '{"text": "x"}') == LineError(6, "id", "missing")
    assert parse_line(7, '{"id": true, "text": "x"}') == LineError(
        7, "id", "must be a string or an integer"
    )
    assert parse_line(8, '{"id": " ", "text": "x"}') == LineError(8, "id", "must not be empty")
    assert parse_line(9, '{"id": "a"}') == LineError(9, "text", "missing")
    assert parse_line(10, '{"id": "a", "text": 3}') == LineError(10, "text", "must be a string")


@settings(max_examples=200)
@given(st.lists(st.one_of(st.text(max_size=30), json_values.map(json.dumps)), max_size=20))
def test_every_line_is_a_record_an_error_or_blank(lines):
    items = list(parse_lines(line.replace("\n", " ") for line in lines))
    numbers = [item.line for item in items]
    assert numbers == sorted(set(numbers))
    for item in items:
        source = lines[item.line - 1].replace("\n", " ")
        assert source.strip()
        if isinstance(item, Record):
            row = json.loads(source)
            assert row["text"] == item.text and row["id"] == item.id
        else:
            assert item.field in {"(line)", "id", "text"} and item.reason


@settings(max_examples=100)
@given(
    ident=st.one_of(st.integers(), st.text(min_size=1, max_size=10).filter(str.strip)),
    text=st.text(max_size=50),
    extra=st.dictionaries(st.sampled_from(["source", "rating", "at"]), json_values, max_size=2),
)
def test_good_objects_round_trip(ident, text, extra):
    row = {**extra, "id": ident, "text": text}
    item = parse_line(1, json.dumps(row))
    assert isinstance(item, Record)
    assert item.row == row
