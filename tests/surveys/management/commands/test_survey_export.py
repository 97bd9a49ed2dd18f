"""`opencx survey_export`: a survey's definition to stdout or a file."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from opencx.surveys.definitions import spec_of
from opencx.surveys.services import survey_create_from_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(owner_actor):
    return survey_create_from_template(actor=owner_actor, template="ces-returns", name="Returns")


def run(*args):
    out = StringIO()
    call_command("survey_export", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_yaml_to_stdout_by_default(brand, survey):
    text = run("--brand", brand.slug, "--survey", survey.slug)
    assert yaml.safe_load(text) == spec_of(survey)
    assert "Gwnaeth y cwmni" in text  # Welsh stays readable, not escaped


def test_json_to_a_file(brand, survey, tmp_path):
    target = tmp_path / "returns.json"
    assert (
        run(
            "--brand",
            brand.slug,
            "--survey",
            survey.slug,
            "--format",
            "json",
            "--output",
            str(target),
        )
        == ""
    )
    assert json.loads(target.read_text(encoding="utf-8")) == spec_of(survey)


def test_a_survey_of_another_brand_is_not_found(brand, other_brand, stranger, survey):
    with pytest.raises(CommandError, match="No survey with slug"):
        run("--brand", other_brand.slug, "--survey", survey.slug)


def test_an_unknown_brand_or_member_is_an_error(brand, survey, stranger):
    with pytest.raises(CommandError, match="No brand"):
        run("--brand", "nowhere", "--survey", survey.slug)
    with pytest.raises(CommandError, match="is not a member"):
        run("--brand", brand.slug, "--survey", survey.slug, "--as", stranger.email)
