"""`analyze`: one call gives language, sentiment, topics and keyphrases."""

import dataclasses

import pytest

from opencx.analytics.text import analyze
from opencx.analytics.text.topics import Taxonomy, Topic


def test_analyze_in_both_modes():
    texts = [
        "The staff were rude and I waited forty minutes in the queue.",
        "Le colis est arrivé en retard et le service client ne répond pas.",
        "Roedd y staff yn hyfryd iawn, diolch!",
    ]
    for mode in ("fast", "default"):
        results = analyze(texts, languages=["en", "fr", "cy"], mode=mode)
        assert [r.language for r in results] == ["en", "fr", "cy"]
        assert results[0].sentiment == "negative"
        assert {"staff_friendliness", "waiting_time"} <= set(results[0].topics)
        assert "delivery" in results[1].topics
        assert results[0].keyphrases
        with pytest.raises(dataclasses.FrozenInstanceError):
            results[0].sentiment = "positive"  # type: ignore[misc]


def test_redaction_and_a_custom_taxonomy():
    parking = Topic("parking", "Parking", {"en": ("parking", "car park")}, ("Nowhere to park.",))
    [result] = analyze(
        ["No parking again, mail me at ana@example.com"],
        languages=["en"],
        mode="fast",
        taxonomy=Taxonomy((parking,)),
        redact=True,
    )
    assert result.text == "No parking again, mail me at [email]"
    assert result.topics == ("parking",)
    assert "email" not in " ".join(result.keyphrases)


def test_empty_and_bad_mode():
    assert analyze([]) == []
    with pytest.raises(ValueError, match="mode"):
        analyze(["x"], mode="slow")  # type: ignore[arg-type]
