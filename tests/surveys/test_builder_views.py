"""The survey builder pages: every change goes through survey_import and shows its errors."""

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from opencx.surveys.definitions import parse_definition, spec_of
from opencx.surveys.models import Survey
from opencx.surveys.services import response_record, survey_create_from_template
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(owner_actor):
    """The NPS template in English and Italian only."""
    survey = survey_create_from_template(actor=owner_actor, template="nps", name="Store visit")
    Survey.objects.filter(pk=survey.pk).update(languages=["en", "it"])
    for question in survey.questions.all():
        question.text = {code: question.text[code] for code in ("en", "it")}
        question.scale_labels = {}
        question.save()
    survey.refresh_from_db()
    return survey


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def viewer_client(client, make_actor):
    client.force_login(make_actor(Role.VIEWER).user)
    return client


def url(name, brand, *args):
    return reverse(f"surveys:{name}", args=[brand.slug, *args])


def keys(survey):
    return list(survey.questions.order_by("position").values_list("key", flat=True))


def answer(survey, store, **scores):
    questions = {q.key: q.pk for q in survey.questions.all()}
    response_record(
        survey=survey,
        location=store,
        answers={questions[key]: value for key, value in scores.items()},
        language="en",
    )


def settings_data(survey, **changes):
    """The settings form as the edit page fills it in, with `changes`."""
    data = {
        "name": survey.name,
        "kind": survey.kind,
        "touchpoint": "",
        "default_language": survey.default_language,
        "languages": survey.all_languages,
        "review_invite_min": survey.review_invite_min or "",
        "reminder_days": survey.reminder_days or "",
        "quota": survey.quota or "",
        "is_active": "on" if survey.is_active else "",
    }
    for code in survey.all_languages:
        data[f"intro_{code}"] = survey.intro.get(code, "")
        data[f"thank_you_{code}"] = survey.thank_you.get(code, "")
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def question_data(survey, **fields):
    data = {"kind": "text", "key": "", "show_if_question": ""}
    for code in survey.all_languages:
        data[f"text_{code}"] = f"Text in {code}"
    data.update(fields)
    return data


# --- links from the existing pages ------------------------------------------------------------


def test_the_survey_list_offers_new_and_import_to_those_who_may_build(
    client, brand, owner, survey, make_actor
):
    client.force_login(owner)
    page = client.get(url("list", brand)).content.decode()
    assert url("new", brand) in page and url("import", brand) in page
    detail = client.get(url("detail", brand, survey.pk)).content.decode()
    assert url("edit", brand, survey.pk) in detail

    client.force_login(make_actor(Role.VIEWER).user)
    page = client.get(url("list", brand)).content.decode()
    assert url("new", brand) not in page
    assert (
        url("edit", brand, survey.pk)
        in client.get(url("detail", brand, survey.pk)).content.decode()
    )


# --- new survey from a template -----------------------------------------------------------------


def test_a_new_survey_from_a_template(owner_client, brand):
    page = owner_client.get(url("new", brand))
    assert page.status_code == 200
    for name in ("Net Promoter Score", "CSAT after support", "CES after returns"):
        assert name in page.content.decode()

    response = owner_client.post(url("new", brand), {"template": "csat-support", "name": "Help"})

    survey = Survey.objects.get(brand=brand)
    assert response.status_code == 302
    assert response["Location"] == url("edit", brand, survey.pk)
    assert (survey.name, survey.slug, survey.template, survey.kind) == (
        "Help",
        "help",
        "csat-support",
        "csat",
    )
    assert owner_client.get(response["Location"]).status_code == 200


def test_an_unknown_template_is_a_form_error(owner_client, brand):
    page = owner_client.post(url("new", brand), {"template": "nope"})
    assert page.status_code == 200
    assert "template" in page.context["form"].errors
    assert not Survey.objects.exists()


def test_members_who_may_not_build_cannot_make_a_survey(viewer_client, brand):
    assert viewer_client.get(url("new", brand)).status_code == 403
    assert viewer_client.post(url("new", brand), {"template": "nps"}).status_code == 403
    assert viewer_client.get(url("import", brand)).status_code == 403
    assert not Survey.objects.exists()


# --- settings -----------------------------------------------------------------------------------


def test_settings_are_saved_through_the_import_path(owner_client, brand, survey):
    data = settings_data(
        survey, name="Shop visit", reminder_days="5", quota="200", intro_it="Ciao!", is_active=""
    )
    response = owner_client.post(url("edit", brand, survey.pk), data)

    assert response.status_code == 302, response.context["form"].errors
    survey.refresh_from_db()
    assert (survey.name, survey.reminder_days, survey.quota, survey.is_active) == (
        "Shop visit",
        5,
        200,
        False,
    )
    assert survey.intro == {"it": "Ciao!"}
    assert AuditEvent.objects.filter(action="survey.update", object_id=str(survey.pk)).exists()


def test_a_new_language_asks_for_every_question_text_in_it(owner_client, brand, survey):
    data = settings_data(survey, languages=["en", "it", "cy"])
    page = owner_client.post(url("edit", brand, survey.pk), data)

    form = page.context["form"]
    assert page.status_code == 200
    assert set(form.errors) == {f"qtext_{key}__cy" for key in keys(survey)}
    assert "cy" not in Survey.objects.get(pk=survey.pk).languages

    data.update({f"qtext_{key}__cy": f"{key} yn Gymraeg" for key in keys(survey)})
    response = owner_client.post(url("edit", brand, survey.pk), data)

    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.all_languages == ["en", "it", "cy"]
    assert survey.questions.get(key="nps").text["cy"] == "nps yn Gymraeg"


def test_a_rule_of_the_definition_is_shown_next_to_its_field(owner_client, brand, survey):
    page = owner_client.post(url("edit", brand, survey.pk), settings_data(survey, kind="csat"))

    assert page.status_code == 200
    assert page.context["form"].errors["kind"] == ["A csat survey needs a csat question."]
    assert Survey.objects.get(pk=survey.pk).kind == "nps"


def test_the_touchpoint_is_chosen_among_the_brand_s(owner_client, brand, survey):
    TouchpointFactory(brand=brand, key="store", name="In store")
    response = owner_client.post(
        url("edit", brand, survey.pk), settings_data(survey, touchpoint="store")
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.touchpoint.key == "store"


def test_members_who_may_not_build_see_the_definition_read_only(viewer_client, brand, survey):
    page = viewer_client.get(url("edit", brand, survey.pk))

    assert page.status_code == 200
    assert all(field.disabled for field in page.context["form"].fields.values())
    body = page.content.decode()
    assert "Save settings" not in body and "may not change it" in body
    assert viewer_client.get(url("question", brand, survey.pk) + "?key=nps").status_code == 200
    assert viewer_client.get(url("question", brand, survey.pk)).status_code == 403
    assert (
        viewer_client.post(url("edit", brand, survey.pk), settings_data(survey)).status_code == 403
    )
    action = {"key": "loved", "action": "delete"}
    assert viewer_client.post(url("question-action", brand, survey.pk), action).status_code == 403
    assert "loved" in keys(survey)


def test_another_brand_s_survey_is_not_found(client, brand, stranger, survey):
    client.force_login(stranger)
    assert client.get(url("edit", brand, survey.pk)).status_code == 404


# --- questions ----------------------------------------------------------------------------------


def test_add_a_csat_question_with_labels_and_the_standard_satisfied_set(
    owner_client, brand, survey
):
    data = question_data(
        survey,
        kind="csat",
        key="waiting",
        required="on",
        scale_min="1",
        scale_max="5",
        labels_en="1 = Far too long\n5 = No wait at all",
        labels_it="1 = Troppo lunga",
    )
    response = owner_client.post(url("question", brand, survey.pk), data)

    assert response.status_code == 302, response.context["form"].errors
    assert keys(survey)[-1] == "waiting"
    waiting = survey.questions.get(key="waiting")
    assert (waiting.kind, waiting.scale_min, waiting.scale_max) == ("csat", 1, 5)
    assert waiting.satisfied_values == [4, 5]
    assert waiting.required
    assert waiting.scale_labels == {
        "1": {"en": "Far too long", "it": "Troppo lunga"},
        "5": {"en": "No wait at all"},
    }


def test_add_a_choice_question_with_labels_in_each_language(owner_client, brand, survey):
    data = question_data(
        survey,
        kind="single",
        key="visit_reason",
        options_en="buy = To buy something\nreturn = To return something",
        options_it="Per comprare\nPer restituire",
    )
    response = owner_client.post(url("question", brand, survey.pk), data)

    assert response.status_code == 302, response.context["form"].errors
    assert survey.questions.get(key="visit_reason").options == [
        {"value": "buy", "label": {"en": "To buy something", "it": "Per comprare"}},
        {"value": "return", "label": {"en": "To return something", "it": "Per restituire"}},
    ]


def test_a_choice_question_needs_two_options(owner_client, brand, survey):
    data = question_data(survey, kind="multiple", key="why", options_en="price = Price")
    page = owner_client.post(url("question", brand, survey.pk), data)

    assert page.status_code == 200
    assert "at least two options" in page.context["form"].errors["options_en"][0]
    assert "why" not in keys(survey)


def test_a_ces_question_needs_its_direction(owner_client, brand, survey):
    data = question_data(survey, kind="ces", key="effort", scale_min="1", scale_max="7")
    page = owner_client.post(url("question", brand, survey.pk), data)
    assert "polarity" in page.context["form"].errors["polarity"][0]

    data["polarity"] = "lower_better"
    assert owner_client.post(url("question", brand, survey.pk), data).status_code == 302
    assert survey.questions.get(key="effort").satisfied_values == [1, 2, 3]


def test_a_rating_needs_its_satisfied_points(owner_client, brand, survey):
    page_url = url("question", brand, survey.pk)
    data = question_data(survey, kind="rating", key="speed", scale_min="1", scale_max="4")
    page = owner_client.post(page_url, data)
    assert "needs its satisfied points" in page.context["form"].errors["satisfied"][0]

    data["satisfied"] = "three"
    page = owner_client.post(page_url, data)
    assert "whole numbers" in page.context["form"].errors["satisfied"][0]

    data["satisfied"] = "3, 4"
    assert owner_client.post(page_url, data).status_code == 302
    assert survey.questions.get(key="speed").satisfied_values == [3, 4]


def test_parts_a_kind_does_not_have_are_ignored(owner_client, brand, survey):
    data = question_data(survey, key="note", satisfied="junk", labels_en="junk", scale_min="1")
    assert owner_client.post(url("question", brand, survey.pk), data).status_code == 302
    note = survey.questions.get(key="note")
    assert (note.kind, note.scale_min, note.satisfied_values, note.scale_labels) == (
        "text",
        None,
        [],
        {},
    )


def test_a_key_used_twice_is_an_error_on_the_key(owner_client, brand, survey):
    page = owner_client.post(url("question", brand, survey.pk), question_data(survey, key="loved"))
    assert "used twice" in page.context["form"].errors["key"][0]


def test_branching_offers_only_earlier_scored_questions(owner_client, brand, survey):
    page = owner_client.get(url("question", brand, survey.pk) + "?key=loved")
    choices = [value for value, _ in page.context["form"].fields["show_if_question"].choices]
    assert choices == ["", "nps"]

    data = question_data(survey, key="later", show_if_question="contact_ok")
    page = owner_client.post(url("question", brand, survey.pk), data)
    assert "show_if_question" in page.context["form"].errors

    data = question_data(survey, key="later", show_if_question="nps", show_if_min="0")
    page = owner_client.post(url("question", brand, survey.pk), data)
    assert set(page.context["form"].errors) == {"show_if_max"}
    assert "later" not in keys(survey)


def test_edit_a_question_keeps_its_place_and_branching(owner_client, brand, survey):
    edit = url("question", brand, survey.pk) + "?key=went_wrong"
    initial = owner_client.get(edit).context["form"].initial
    data = {k: v for k, v in initial.items() if v is not None}
    data.update(text_en="So sorry. What went wrong?", show_if_min="0", show_if_max="5")
    data["required"] = ""

    response = owner_client.post(edit, data)

    assert response.status_code == 302, response.context["form"].errors
    assert keys(survey)[1] == "went_wrong"
    went_wrong = survey.questions.get(key="went_wrong")
    assert went_wrong.text["en"] == "So sorry. What went wrong?"
    assert went_wrong.text["it"] == "Ci dispiace. Che cosa è andato storto?"
    assert went_wrong.show_if == {"question": "nps", "min": 0, "max": 5}


def test_an_answered_question_refuses_a_new_kind_next_to_the_field(
    owner_client, brand, survey, store
):
    answer(survey, store, nps=2, went_wrong="Slow")
    edit = url("question", brand, survey.pk) + "?key=went_wrong"
    page = owner_client.get(edit)
    assert "has answers" in page.content.decode()
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(kind="consent")

    page = owner_client.post(edit, data)

    assert page.status_code == 200
    assert page.context["form"].errors["kind"] == [
        "Question 'went_wrong' has answers, so its kind cannot change."
    ]
    assert survey.questions.get(key="went_wrong").kind == "text"


def test_an_unknown_question_is_not_found(owner_client, brand, survey):
    assert owner_client.get(url("question", brand, survey.pk) + "?key=nope").status_code == 404


def test_move_and_delete_questions(owner_client, brand, survey):
    actions = url("question-action", brand, survey.pk)
    assert owner_client.post(actions, {"key": "contact_ok", "action": "up"}).status_code == 302
    assert keys(survey) == ["nps", "went_wrong", "improve", "contact_ok", "loved"]

    response = owner_client.post(actions, {"key": "loved", "action": "delete"}, follow=True)
    assert keys(survey) == ["nps", "went_wrong", "improve", "contact_ok"]
    assert "Question “loved” deleted." in response.content.decode()

    # The follow-ups branch on nps: it cannot move below them.
    response = owner_client.post(actions, {"key": "nps", "action": "down"}, follow=True)
    assert "earlier scored question" in response.content.decode()
    assert keys(survey)[0] == "nps"


def test_an_answered_question_cannot_be_deleted(owner_client, brand, survey, store):
    answer(survey, store, nps=2, went_wrong="Slow")
    actions = url("question-action", brand, survey.pk)
    response = owner_client.post(actions, {"key": "went_wrong", "action": "delete"}, follow=True)
    assert "has answers and cannot be removed" in response.content.decode()
    assert "went_wrong" in keys(survey)


# --- export and import ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_downloads_the_definition(viewer_client, brand, survey, fmt):
    response = viewer_client.get(url("export", brand, survey.pk), {"format": fmt})

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{survey.slug}.{fmt}"'
    text = response.content.decode()
    document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    assert document == spec_of(survey)
    assert parse_definition(text, fmt=fmt).slug == survey.slug


def test_export_in_an_unknown_format_is_refused(owner_client, brand, survey):
    assert owner_client.get(url("export", brand, survey.pk), {"format": "xml"}).status_code == 400


def _upload(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def test_import_a_file_creates_then_updates_the_survey(owner_client, brand, survey):
    document = spec_of(survey) | {"slug": "copy", "name": "Copy"}
    text = yaml.safe_dump(document, allow_unicode=True)
    response = owner_client.post(url("import", brand), {"file": _upload("copy.yaml", text)})

    copy = Survey.objects.get(brand=brand, slug="copy")
    assert response.status_code == 302
    assert response["Location"] == url("edit", brand, copy.pk)
    assert keys(copy) == keys(survey)

    document["name"] = "Copy, renamed"
    text = json.dumps(document)
    response = owner_client.post(url("import", brand), {"file": _upload("copy.json", text)})
    copy.refresh_from_db()
    assert copy.name == "Copy, renamed"
    assert Survey.objects.filter(brand=brand).count() == 2


def test_an_import_error_names_the_file_the_line_and_the_field(owner_client, brand, survey):
    text = yaml.safe_dump(spec_of(survey), allow_unicode=True, sort_keys=False)
    text = text.replace("kind: consent", "kind: agree")
    line = text.splitlines().index("  kind: agree") + 1

    page = owner_client.post(url("import", brand), {"file": _upload("visit.yaml", text)})

    assert page.status_code == 200
    [message] = page.context["form"].errors["file"]
    assert message.startswith(f"visit.yaml, line {line}: questions.4.kind:")
    assert message in page.content.decode().replace("&#x27;", "'")


def test_an_import_that_would_remove_an_answered_question_is_refused(
    owner_client, brand, survey, store
):
    answer(survey, store, nps=9, loved="All")
    document = spec_of(survey)
    document["questions"] = [q for q in document["questions"] if q["key"] != "loved"]
    upload = _upload("visit.json", json.dumps(document))

    page = owner_client.post(url("import", brand), {"file": upload})

    assert "'loved' has answers" in page.context["form"].errors["file"][0]
    assert "loved" in keys(survey)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("visit.txt", b"slug: x", "upload a .yaml, .yml or .json file"),
        ("visit.yaml", b"\xff\xfe\x00", "not UTF-8"),
        ("visit.yaml", b"- a list", "a mapping of fields"),
    ],
)
def test_files_that_are_not_definitions_are_refused(owner_client, brand, name, content, message):
    upload = SimpleUploadedFile(name, content)
    page = owner_client.post(url("import", brand), {"file": upload})
    assert message in page.context["form"].errors["file"][0]
    assert not Survey.objects.filter(brand=brand).exists()
