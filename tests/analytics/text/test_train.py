"""The training script end to end on a tiny synthetic data set, and its parts."""

import json

import numpy as np

from opencx.analytics.text import data, train
from opencx.analytics.text.sentiment import SentimentModel

WORDS = {
    0: ["terrible", "awful", "worst", "rude", "broken"],
    1: ["okay", "normal", "average", "fine", "usual"],
    2: ["great", "lovely", "excellent", "friendly", "perfect"],
}


def test_fit_logreg_separates_separable_data():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(loc=c, size=(40, 2)) for c in ((-3, 0), (0, 3), (3, 0))])
    y = np.repeat([0, 1, 2], 40)
    w, b = train.fit_logreg(x, y, c=10.0)
    assert (np.argmax(x @ w + b, axis=1) == y).mean() > 0.95


def test_best_biases_recover_a_shifted_prior():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    logp = np.log(np.full((300, 3), 0.2))
    logp[np.arange(300), y] = np.log(0.5)
    logp[:, 0] += 1.2  # a model that over-predicts "negative"
    biases, scores = train._best_biases(logp, y, np.array(["en"] * 300))
    assert scores["en"] == 1.0 and biases["en"][0] < 0


def test_main_writes_a_loadable_model(tmp_path):
    rng = np.random.default_rng(2)
    for name in data.SETS:
        folder = tmp_path / "data" / name
        folder.mkdir(parents=True)
        with (folder / "train.jsonl").open("w") as handle:
            for i in range(24):
                label = i % 3
                words = rng.choice(WORDS[label], 3)
                handle.write(json.dumps({"text": f"{' '.join(words)} {i}", "label": label}) + "\n")
    out = tmp_path / "models"
    assert train.main(["--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    manifest = json.loads((out / "sentiment.json").read_text())
    assert manifest["data"]["sha256"]["xlmt_en"] == data.file_hashes(tmp_path / "data")["xlmt_en"]
    model = SentimentModel.load(out)
    labels = [
        r.label
        for r in model.predict(
            ["awful rude worst", "lovely great perfect"], ["en", "en"], mode="fast"
        )
    ]
    assert labels == ["negative", "positive"]
