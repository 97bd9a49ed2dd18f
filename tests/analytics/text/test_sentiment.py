"""The shipped sentiment model: safe loading, integrity check, sensible answers."""

import json
import shutil

import numpy as np
import pytest

from opencx.analytics.text.sentiment import (
    MODEL_DIR,
    ModelError,
    SentimentModel,
    macro_f1,
    shipped_model,
)


def test_manifest_records_provenance_and_settings():
    manifest = json.loads((MODEL_DIR / "sentiment.json").read_text())
    assert set(manifest["data"]["sha256"]) == {
        "xlmt_en",
        "xlmt_it",
        "xlmt_es",
        "xlmt_fr",
        "xlmt_de",
        "xlmt_pt",
        "rusentitweet_ru",
        "germeval2017_de",
    }
    assert "cardiffnlp/xlm-t" in manifest["data"]["provenance"]["xlmt_en"]
    assert manifest["e5"]["layers"] >= 1 and manifest["e5"]["max_words"] >= 8
    assert set(manifest["modes"]) == {"default", "fast"}
    # only arrays: numpy refuses pickled objects here
    with np.load(MODEL_DIR / manifest["weights_file"], allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)


def test_a_tampered_model_is_refused(tmp_path):
    for name in ("sentiment.json", "sentiment.npz"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    with (tmp_path / "sentiment.npz").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="hash"):
        SentimentModel.load(tmp_path)
    with pytest.raises(ModelError, match="train-text"):
        SentimentModel.load(tmp_path / "nowhere")


@pytest.mark.parametrize("mode", ["fast", "default"])
def test_obvious_cases(mode):
    texts = [
        "Absolutely terrible, the worst service I have ever had.",
        "Servizio eccellente, personale gentilissimo!",
        "Ужасный магазин, больше никогда не приду.",
        "Super Laden, tolle Beratung, sehr zufrieden!",
    ]
    results = shipped_model().predict(texts, ["en", "it", "ru", "de"], mode=mode)
    assert [r.label for r in results] == ["negative", "positive", "negative", "positive"]
    for r in results:
        assert -1 <= r.score <= 1 and abs(sum(r.probabilities) - 1) < 1e-6
    assert (results[0].score < 0) and (results[1].score > 0)


def test_lengths_must_match_and_modes_are_named():
    with pytest.raises(ValueError, match="same length"):
        shipped_model().probabilities(["a"], ["en", "de"])
    with pytest.raises(ValueError, match="mode"):
        shipped_model().embedder("slow")  # type: ignore[arg-type]
    assert shipped_model().probabilities([], []).shape == (0, 3)


def test_macro_f1():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert macro_f1(y, y) == 1.0
    assert macro_f1(y, np.array([0, 0, 0, 0, 0, 0])) == pytest.approx((0.5 + 0 + 0) / 3)
