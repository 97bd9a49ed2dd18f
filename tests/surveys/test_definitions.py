"""Definitions as documents: the shipped templates, the round trip and hostile documents."""

import json
import re
from itertools import count

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencx.platform.errors import AppError
from opencx.surveys.definitions import (
    KIND_SCALES,
    SurveySpec,
    dump_definition,
    library,
    parse_definition,
    spec_of,
)
from opencx.surveys.services import survey_import

SEVEN = {"en", "it", "cy", "ru", "es", "fr", "de"}
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# --- the shipped templates --------------------------------------------------------------------


def test_the_library_has_the_five_templates_of_the_issue():
    assert set(library()) == {
        "nps",
        "csat-support",
        "ces-returns",
        "post-purchase",
        "in-store-visit",
    }


@pytest.mark.parametrize("slug", sorted(library()))
def test_every_template_text_is_in_all_seven_languages(slug):
    spec = library()[slug]
    assert spec.name
    assert set(spec.languages) == SEVEN
    for name in ("intro", "thank_you"):
        assert getattr(spec, name) == {} or set(getattr(spec, name)) == SEVEN
    for question in spec.questions:
        assert SNAKE.match(question.key), question.key
        assert set(question.text) == SEVEN, question.key
        assert all(text.strip() for text in question.text.values())
        for point, labels in question.scale_labels.items():
            assert set(labels) == SEVEN, (question.key, point)
        for option in question.options:
            assert SNAKE.match(option.value), option.value
            assert set(option.label) == SEVEN, (question.key, option.value)
    # Translations, not copies: the Welsh and German texts differ from the English ones.
    for question in spec.questions:
        assert question.text["cy"] != question.text["en"]
        assert question.text["de"] != question.text["en"]


@pytest.mark.parametrize("slug", sorted(library()))
def test_templates_ask_few_questions_and_one_is_required(slug):
    spec = library()[slug]
    assert len(spec.questions) <= 5
    assert [q.required for q in spec.questions].count(True) == 1
    assert spec.questions[0].kind == spec.kind and spec.questions[0].required


def test_csat_after_support_labels_every_point_and_asks_the_unsatisfied_how_to_improve():
    spec = library()["csat-support"]
    csat, follow_up = spec.questions
    assert (csat.kind, csat.scale, csat.satisfied) == ("csat", (1, 5), [4, 5])
    assert sorted(csat.scale_labels, key=int) == ["1", "2", "3", "4", "5"]
    assert follow_up.kind == "text"
    assert follow_up.text["en"] == "How can we improve?"
    assert (follow_up.show_if.question, follow_up.show_if.min, follow_up.show_if.max) == (
        "csat",
        1,
        3,
    )


def test_ces_after_returns_states_its_direction_and_follows_up_on_the_bad_side():
    spec = library()["ces-returns"]
    ces, follow_up = spec.questions
    assert (ces.kind, ces.scale, ces.polarity) == ("ces", (1, 7), "higher_better")
    assert ces.text["en"] == "The company made it easy to handle my return."
    assert ces.satisfied == [5, 6, 7]
    bad = set(range(follow_up.show_if.min, follow_up.show_if.max + 1))
    assert bad and not bad & set(ces.satisfied)
    assert follow_up.show_if.min == 1


def test_post_purchase_asks_what_mattered_most():
    spec = library()["post-purchase"]
    kinds = [q.kind for q in spec.questions]
    assert kinds == ["nps", "multiple", "text"]
    [choice] = [q for q in spec.questions if q.kind == "multiple"]
    assert [o.value for o in choice.options] == [
        "price",
        "product_quality",
        "delivery",
        "website",
        "staff",
    ]


def test_in_store_visit_asks_about_staff_and_for_permission_to_contact():
    kinds = [q.kind for q in library()["in-store-visit"].questions]
    assert kinds == ["nps", "single", "text", "consent"]


# --- documents: strategies ----------------------------------------------------------------------

keys = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip() == text and text)
languages = st.lists(st.sampled_from(sorted(SEVEN)), min_size=1, max_size=3, unique=True)


def _texts(codes):
    return st.fixed_dictionaries(dict.fromkeys(codes, words))


@st.composite
def questions(draw, codes, earlier):
    """One valid question item; its branching (if any) points at an earlier scored question."""
    kind = draw(st.sampled_from(["nps", "csat", "ces", "rating", "single", "multiple", "text"]))
    item = {"key": draw(keys), "kind": kind, "text": draw(_texts(codes))}
    if draw(st.booleans()):
        item["required"] = True
    if kind in KIND_SCALES or kind == "rating":
        low, high = (
            draw(st.sampled_from(KIND_SCALES[kind]))
            if kind in KIND_SCALES
            else (0, draw(st.integers(1, 10)))
        )
        if kind != "nps":
            item["scale"] = [low, high]
        if kind in ("ces", "rating") or draw(st.booleans()):
            item["polarity"] = draw(st.sampled_from(["higher_better", "lower_better"]))
        if kind == "rating" or draw(st.booleans()):
            points = list(range(low, high + 1))
            chosen = draw(st.lists(st.sampled_from(points), min_size=1, max_size=len(points) - 1))
            if len(set(chosen)) < len(points):
                item["satisfied"] = chosen
        if draw(st.booleans()):
            item["scale_labels"] = {str(low): draw(_texts(codes))}
    if kind in ("single", "multiple"):
        values = draw(st.lists(keys, min_size=2, max_size=4, unique=True))
        item["options"] = [{"value": v, "label": draw(_texts(codes[:1]))} for v in values]
    scored = [q for q in earlier if "scale" in q or q["kind"] == "nps"]
    if scored and draw(st.booleans()):
        target = draw(st.sampled_from(scored))
        low = target.get("scale", [0, 10])[0]
        item["show_if"] = {"question": target["key"], "min": low, "max": low + 1}
    return item


@st.composite
def documents(draw):
    codes = draw(languages)
    items: list[dict] = []
    taken: set[str] = set()
    for _ in range(draw(st.integers(1, 5))):
        item = draw(questions(codes, items))
        if item["key"] not in taken:
            taken.add(item["key"])
            items.append(item)
    headline = sorted({q["kind"] for q in items} & {"nps", "csat", "ces"})
    kind = draw(st.sampled_from(["custom", *headline]))
    document = {
        "slug": "round-trip",
        "name": draw(words),
        "kind": kind,
        "default_language": codes[0],
        "languages": codes,
        "questions": items,
    }
    for name in ("intro", "thank_you"):
        if draw(st.booleans()):
            document[name] = draw(_texts(codes))
    for name, values in (("reminder_days", st.integers(1, 60)), ("quota", st.integers(1, 10**6))):
        if draw(st.booleans()):
            document[name] = draw(values)
    if draw(st.booleans()):
        document["review_invite_min"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        document["is_active"] = False
    return document


def _normal(spec: SurveySpec) -> dict:
    """The spec as data, with the defaults storage fills in made explicit."""
    data = spec.model_dump()
    for question in data["questions"]:
        if question["scale"] is not None and question["polarity"] is None:
            question["polarity"] = "higher_better"
    return data


# --- round trip -------------------------------------------------------------------------------


_round = count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents(), fmt=st.sampled_from(["yaml", "json"]))
def test_import_then_export_gives_the_same_definition(owner_actor, document, fmt):
    document = {**document, "slug": f"round-trip-{next(_round)}"}
    text = dump_definition(document, fmt)
    spec = parse_definition(text, source=f"x.{fmt}", fmt=fmt)

    survey = survey_import(actor=owner_actor, spec=spec)
    exported = spec_of(survey)
    again = parse_definition(dump_definition(exported, fmt), fmt=fmt)

    assert _normal(again) == _normal(spec)
    # and importing the export changes nothing
    survey = survey_import(actor=owner_actor, spec=again)
    assert spec_of(survey) == exported


def test_an_update_through_the_same_slug_round_trips_too(owner_actor):
    spec = library()["nps"]
    survey = survey_import(actor=owner_actor, spec=spec)
    changed = spec_of(survey)
    first, *follow_ups = changed["questions"]
    changed["questions"] = [first, *reversed(follow_ups)]
    changed["name"] = "Renamed"
    survey = survey_import(actor=owner_actor, spec=SurveySpec.model_validate(changed))
    assert spec_of(survey) == changed


# --- hostile documents --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _parse_or_app_error(text: str, fmt: str = "") -> None:
    try:
        spec = parse_definition(text, source="fuzz", fmt=fmt)
    except AppError as error:
        assert error.message.startswith("fuzz")
    else:
        assert isinstance(spec, SurveySpec)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), fmt=st.sampled_from(["", "yaml", "json"]))
def test_any_text_is_a_spec_or_an_app_error(text, fmt):
    _parse_or_app_error(text, fmt)


@settings(max_examples=150, deadline=None)
@given(document=documents(), path=st.lists(st.text(max_size=12), max_size=3), junk=json_values)
def test_a_valid_document_with_junk_put_anywhere_is_a_spec_or_an_app_error(document, path, junk):
    node = document
    for part in path[:-1]:
        child = node.get(part) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        node = child
    if isinstance(node, dict):
        node[path[-1] if path else "slug"] = junk
    _parse_or_app_error(json.dumps(document, ensure_ascii=False), "json")
    _parse_or_app_error(yaml.safe_dump(document, allow_unicode=True), "yaml")


@settings(max_examples=100, deadline=None)
@given(document=documents(), data=st.data())
def test_a_document_with_one_field_replaced_is_a_spec_or_an_app_error(document, data):
    question = data.draw(st.sampled_from(document["questions"]))
    field = data.draw(
        st.sampled_from(["key", "kind", "text", "scale", "satisfied", "options", "show_if"])
    )
    question[field] = data.draw(json_values)
    _parse_or_app_error(yaml.safe_dump(document, allow_unicode=True), "yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: 2001-13-01",  # a date YAML cannot build
        "[" * 5000,  # nesting too deep
        '{"a":' * 5000,
        "!!python/object:os.system x",
        "? [a, b]\n: c",
        "- just\n- a list",
        "",
    ],
)
def test_hostile_documents_are_app_errors(text):
    with pytest.raises(AppError):
        parse_definition(text, source="fuzz")


BROKEN = """\
slug: visit
name: Visit
kind: nps
default_language: en
questions:
  - key: nps
    kind: nps
    text: {en: "Would you recommend us?"}
  - key: why
    kind: txt
    text: {en: "Why?"}
"""


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_errors_name_the_file_the_line_and_the_field(fmt):
    text = BROKEN if fmt == "yaml" else json.dumps(yaml.safe_load(BROKEN), indent=2)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "txt" in row)
    with pytest.raises(AppError) as caught:
        parse_definition(text, source=f"visit.{fmt}", fmt=fmt)
    assert caught.value.message.startswith(f"visit.{fmt}, line {line}: questions.1.kind:")
    assert caught.value.field == "questions.1.kind"


def test_unquoted_numeric_scale_label_keys_are_points():
    spec = parse_definition(
        "slug: s\nname: S\nkind: csat\ndefault_language: en\nquestions:\n"
        "  - key: csat\n    kind: csat\n    scale: [1, 5]\n    text: {en: How was it}\n"
        "    scale_labels:\n      1: {en: Awful}\n      5: {en: Great}\n",
        source="s.yaml",
    )
    assert spec.questions[0].scale_labels == {"1": {"en": "Awful"}, "5": {"en": "Great"}}
