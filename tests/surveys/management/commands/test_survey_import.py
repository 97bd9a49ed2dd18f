"""`opencx survey_import`: create or update a survey from a YAML or JSON file."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from opencx.surveys.definitions import library, spec_of
from opencx.surveys.models import Survey
from opencx.surveys.services import response_record

pytestmark = pytest.mark.django_db


def document(slug="visit"):
    spec = library()["in-store-visit"]
    return spec.model_dump(exclude_none=True) | {"slug": slug}


def run(*args):
    out = StringIO()
    call_command("survey_import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_creates_then_updates_acting_as_the_owner(brand, owner, tmp_path):
    path = tmp_path / "visit.yaml"
    path.write_text(yaml.safe_dump(document(), allow_unicode=True), encoding="utf-8")

    assert run("--brand", brand.slug, str(path)).startswith("Created survey visit")

    survey = Survey.objects.get(brand=brand, slug="visit")
    assert survey.questions.count() == 4
    assert AuditEvent.objects.get(action="survey.create").actor == owner

    changed = document() | {"name": "Shop visit"}
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert run("--brand", brand.slug, str(path)).startswith("Updated survey visit")
    survey.refresh_from_db()
    assert survey.name == "Shop visit"


def test_acts_as_the_member_named(brand, make_actor, tmp_path):
    manager = make_actor(Role.CX_MANAGER)
    path = tmp_path / "visit.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    run("--brand", brand.slug, "--as", manager.user.email.upper(), str(path))
    assert AuditEvent.objects.get(action="survey.create").actor == manager.user


def test_a_member_who_may_not_build_surveys_is_refused(brand, make_actor, tmp_path):
    viewer = make_actor(Role.VIEWER)
    path = tmp_path / "visit.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    with pytest.raises(CommandError, match="may not do this"):
        run("--brand", brand.slug, "--as", viewer.user.email, str(path))
    assert not Survey.objects.exists()


def test_errors_name_the_file_the_line_and_the_field(brand, owner, tmp_path):
    text = yaml.safe_dump(document(), allow_unicode=True, sort_keys=False)
    text = text.replace("kind: single", "kind: choice")
    line = text.splitlines().index("  kind: choice") + 1
    path = tmp_path / "visit.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        run("--brand", brand.slug, str(path))

    assert str(caught.value).startswith(f"visit.yaml, line {line}: questions.1.kind:")
    assert not Survey.objects.exists()


def test_a_conflict_names_the_file(brand, owner_actor, store, tmp_path):
    path = tmp_path / "visit.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    run("--brand", brand.slug, str(path))
    survey = Survey.objects.get(slug="visit")
    staff = survey.questions.get(key="staff")
    nps = survey.questions.get(key="nps")
    response_record(
        survey=survey, location=store, answers={nps.pk: 8, staff.pk: "friendly"}, language="en"
    )
    changed = spec_of(survey)
    changed["questions"][1]["kind"] = "multiple"
    path.write_text(yaml.safe_dump(changed), encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        run("--brand", brand.slug, str(path))

    assert str(caught.value) == (
        "visit.yaml: Question 'staff' has answers, so its kind cannot change. "
        "(questions.staff.kind)"
    )


def test_a_brand_without_an_owner_needs_as(brand, tmp_path):
    path = tmp_path / "visit.yaml"
    path.write_text(yaml.safe_dump(document()), encoding="utf-8")
    with pytest.raises(CommandError, match="--as EMAIL"):
        run("--brand", brand.slug, str(path))


def test_a_missing_file_is_an_error(brand, owner, tmp_path):
    with pytest.raises(CommandError, match="cannot read it"):
        run("--brand", brand.slug, str(tmp_path / "nope.yaml"))
