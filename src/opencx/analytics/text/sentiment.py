"""Three-class sentiment (negative / neutral / positive) from the model shipped in `models/`.

The model is two logistic-regression heads whose class probabilities are averaged: one on a
sentence embedding (multilingual-e5-small in the default mode, the Universal Sentence Encoder in
the fast mode), one on hashed character 2–5-gram TF-IDF. A per-language shift of the
log-probabilities then corrects each language's class priors. All of it is numbers in
`sentiment.npz` (loaded with allow_pickle=False) and `sentiment.json`; `train.py` makes both.

`score` is P(positive) − P(negative), in [−1, 1].
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from opencx.analytics.text import features
from opencx.analytics.text.embed import Embedder, get_embedder

Mode = Literal["default", "fast"]
MODES: tuple[Mode, ...] = ("default", "fast")
LABELS = ("negative", "neutral", "positive")
MODEL_DIR = Path(__file__).parent / "models"
DEFAULT_E5_LAYERS = 6
DEFAULT_MAX_WORDS = 32


class ModelError(RuntimeError):
    """The shipped model is missing or does not match its manifest."""


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: str
    score: float
    probabilities: tuple[float, float, float]


def macro_f1(y: np.ndarray, pred: np.ndarray, classes: int = 3) -> float:
    """Unweighted mean of the per-class F1 (a class absent from both counts as 0)."""
    scores = []
    for k in range(classes):
        tp = float(np.sum((pred == k) & (y == k)))
        fp = float(np.sum((pred == k) & (y != k)))
        fn = float(np.sum((pred != k) & (y == k)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


class SentimentModel:
    def __init__(self, manifest: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.manifest = manifest
        cols = arrays["char_cols"]
        self._bits = int(manifest["char_ngrams"]["bits"])
        if self._bits != features.HASH_BITS:
            raise ModelError("the model's n-gram hashing does not match this code")
        size = 1 << self._bits
        self._idf = np.zeros(size, dtype=np.float32)
        self._idf[cols] = arrays["char_idf"]
        self._char_w = np.zeros((size, 3), dtype=np.float32)
        self._char_w[cols] = arrays["char_w"]
        self._char_b = arrays["char_b"]
        self._heads = {
            "e5": (arrays["e5_w"], arrays["e5_b"]),
            "use": (arrays["use_w"], arrays["use_b"]),
        }
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> SentimentModel:
        manifest_path = directory / "sentiment.json"
        if not manifest_path.exists():
            raise ModelError(f"no sentiment model in {directory} (run `make train-text`)")
        manifest = json.loads(manifest_path.read_text())
        weights = directory / manifest["weights_file"]
        blob = weights.read_bytes()
        if hashlib.sha256(blob).hexdigest() != manifest["weights_sha256"]:
            raise ModelError(f"{weights} does not match the hash in its manifest")
        with np.load(weights, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        return cls(manifest, arrays)

    def embedder(self, mode: Mode) -> Embedder:
        if mode == "default":
            e5 = self.manifest["e5"]
            return get_embedder("e5", layers=int(e5["layers"]), max_words=int(e5["max_words"]))
        if mode == "fast":
            return get_embedder("use", max_words=int(self.manifest["use"]["max_words"]))
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")

    def char_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        counts = features.hashed_ngrams(texts, bits=self._bits)
        x = features.tfidf(counts, self._idf)
        return _softmax(np.asarray(x @ self._char_w) + self._char_b)

    def probabilities(
        self,
        texts: Sequence[str],
        languages: Sequence[str],
        *,
        mode: Mode = "default",
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Class probabilities (n × 3) after the per-language prior correction."""
        if len(texts) != len(languages):
            raise ValueError("texts and languages must have the same length")
        if not texts:
            return np.zeros((0, 3), dtype=np.float32)
        settings = self.manifest["modes"][mode]
        if embeddings is None:
            embeddings = self.embedder(mode).embed([features.normalize(t) for t in texts])
        w, b = self._heads[settings["embedder"]]
        emb_prob = _softmax(embeddings @ w + b)
        alpha = float(settings["alpha"])
        prob = alpha * emb_prob + (1 - alpha) * self.char_probabilities(texts)
        biases = settings["language_bias"]
        fallback = np.mean(np.array(list(biases.values()), dtype=np.float64), axis=0)
        shift = np.array([biases.get(lang, fallback) for lang in languages], dtype=np.float64)
        return _softmax(np.log(prob + 1e-9) + shift)

    def predict(
        self, texts: Sequence[str], languages: Sequence[str], *, mode: Mode = "default"
    ) -> list[Sentiment]:
        prob = self.probabilities(texts, languages, mode=mode)
        out = []
        for row in prob:
            k = int(row.argmax())
            out.append(
                Sentiment(
                    label=LABELS[k],
                    score=round(float(row[2] - row[0]), 4),
                    probabilities=(float(row[0]), float(row[1]), float(row[2])),
                )
            )
        return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


_MODEL: SentimentModel | None = None
_MODEL_LOCK = threading.Lock()


def shipped_model() -> SentimentModel:
    """The model in the package, loaded once per process."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            _MODEL = SentimentModel.load()
        return _MODEL
