"""`opencx text retrain --brand SLUG`: adapts the brand's sentiment and says what it did."""

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from opencx.insights.models import LabelCorrection, TextSettings
from tests.factories import FeedbackItemFactory

pytestmark = pytest.mark.django_db

TEXTS = [f"The {thing} arrived florped." for thing in ("lamp", "desk", "chair", "kettle", "sofa")]
TEXTS += [f"My {thing} came florped again." for thing in ("phone", "mixer", "bike")]
TEXTS += ["Lovely staff, thank you.", "The shop opens at nine.", "Great value, will buy again."]
LABELS = ["negative"] * 8 + ["positive", "neutral", "positive"]


def _verdicts(brand, store):
    for text, label in zip(TEXTS, LABELS, strict=True):
        item = FeedbackItemFactory(
            brand=brand, location=store, title="", text=text, sentiment="neutral", language="en",
            analysed_at=timezone.now(), analysis_version=1,
        )  # fmt: skip
        LabelCorrection.objects.create(
            brand=brand, item=item, field="sentiment", predicted="neutral", corrected=label,
            language="en",
        )  # fmt: skip


def test_retrain_prints_what_it_did(brand, store):
    TextSettings.objects.create(brand=brand, mode="fast")
    _verdicts(brand, store)
    out = io.StringIO()
    call_command("text_retrain", "--brand", brand.slug, stdout=out)
    text = out.getvalue()
    assert f"{brand.slug}: adapted on 11 verdicts (negative 8, positive 2, neutral 1)." in text
    assert "shipped model agreed with" in text and "95% interval" in text
    assert "adapted model agrees with" in text
    assert "held out" not in text  # fewer than 20 verdicts
    assert "stored as version 2" in text
    settings = TextSettings.objects.get(brand=brand)
    assert settings.adapter_examples == 11 and settings.adapter["examples"] == 11


def test_retrain_refuses_clearly(brand):
    with pytest.raises(CommandError, match="No brand with slug nope"):
        call_command("text_retrain", "--brand", "nope")
    with pytest.raises(CommandError, match="at least 10 sentiment verdicts; this brand has 0"):
        call_command("text_retrain", "--brand", brand.slug)


def test_opencx_text_retrain_reaches_the_django_command():
    found = subprocess.run(
        [sys.executable, "-m", "opencx.cli", "text", "retrain", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    assert "--brand" in found.stdout and "corrected" in found.stdout
