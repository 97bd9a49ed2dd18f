"""A brand's sentiment adapter: a small correction learnt from the labels people corrected.

The shipped model is the same for every brand; a brand's words are not (a rail operator's
"diverted", a games studio's "nerfed"). The adapter keeps the shipped model and adds a
multinomial logistic correction on top of its log-probabilities:

    adapted = softmax(log P_shipped(text) + embedding(text) · W + b)

W (dim × 3) and b (3) are fitted on the corrected texts (class-balanced cross-entropy) under an
L2 penalty that pulls both towards zero: with no examples the adapter is the identity, a few
examples move it a little, many move it more. W acts on the embedding minus the examples' mean,
so what all examples share goes to the bias, which is held back harder (it shifts every text of
the brand, the weights only texts like the examples). Only the embedding the analysis computes
anyway is used, so applying it costs one small matrix product.

An adapter crosses storage as a plain dict of lists of floats with its manifest (format,
embedder, dimension, mode, classes, number of examples): never a pickle. `SentimentAdapter.load`
checks the manifest against the mode it is used in and says what does not match.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opencx.analytics.text.features import normalize
from opencx.analytics.text.sentiment import LABELS, MODES, SentimentModel, shipped_model
from opencx.analytics.text.train import fit_logreg

FORMAT = "opencx-sentiment-adapter/1"
# Penalty 1/(2C) on W and b. Embeddings are unit vectors; with C = 2, ten examples of one
# systematic mistake are enough to flip similar texts, while a single example barely moves
# anything (tests/analytics/text/test_adapt.py).
DEFAULT_C = 2.0
EPS = 1e-9
# The bias shifts every text of the brand: it is held back harder than the weights.
BIAS_PENALTY = 10.0
CV_FOLDS = 5
MIN_CV_EXAMPLES = 20


class AdapterError(ValueError):
    """An adapter that cannot be used here (malformed, or made for another mode/embedder)."""


def _model_id(model: SentimentModel) -> str:
    return str(model.manifest.get("weights_sha256", ""))[:16]


@dataclass(frozen=True, slots=True)
class SentimentAdapter:
    mode: str
    embedder: str
    dim: int
    weights: np.ndarray  # dim × 3, float64
    bias: np.ndarray  # 3, float64
    center: np.ndarray  # dim: the mean embedding of the examples, taken off before W
    examples: int = 0
    c: float = DEFAULT_C
    base_model: str = ""  # the shipped model it was fitted on (hash prefix), for the record
    classes: tuple[str, ...] = LABELS

    @classmethod
    def identity(cls, *, mode: str, embedder: str, dim: int) -> SentimentAdapter:
        return cls(
            mode=mode,
            embedder=embedder,
            dim=dim,
            weights=np.zeros((dim, len(LABELS))),
            bias=np.zeros(len(LABELS)),
            center=np.zeros(dim),
        )

    def logit_shift(self, embeddings: np.ndarray) -> np.ndarray:
        """What the adapter adds to the shipped log-probabilities (n × 3)."""
        x = np.asarray(embeddings, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise AdapterError(
                f"sentiment adapter: embeddings have shape {x.shape}, expected (n, {self.dim})"
            )
        return np.asarray((x - self.center) @ self.weights + self.bias, dtype=np.float64)

    def apply(self, probabilities: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Adapted class probabilities (n × 3) from the shipped ones and the texts' embeddings."""
        prob = np.asarray(probabilities, dtype=np.float64)
        if prob.shape[0] == 0:
            return prob
        return _softmax(np.log(prob + EPS) + self.logit_shift(embeddings))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able numbers and the manifest that `load` checks."""
        return {
            "format": FORMAT,
            "mode": self.mode,
            "embedder": self.embedder,
            "dim": self.dim,
            "classes": list(self.classes),
            "examples": self.examples,
            "c": self.c,
            "base_model": self.base_model,
            "weights": [[float(v) for v in row] for row in self.weights],
            "bias": [float(v) for v in self.bias],
            "center": [float(v) for v in self.center],
        }

    @classmethod
    def load(
        cls,
        raw: Mapping[str, Any] | SentimentAdapter,
        *,
        mode: str | None = None,
        embedder: str | None = None,
        dim: int | None = None,
    ) -> SentimentAdapter:
        """An adapter from `to_dict`'s output, checked; with mode/embedder/dim, checked to fit
        the analysis it is about to be used in (AdapterError naming what differs)."""
        if isinstance(raw, SentimentAdapter):
            raw.check(mode=mode, embedder=embedder, dim=dim)
            return raw
        if not isinstance(raw, Mapping):
            raise AdapterError("sentiment adapter: expected a dict")
        if raw.get("format") != FORMAT:
            raise AdapterError(
                f"sentiment adapter: format {raw.get('format')!r} is not {FORMAT!r}: retrain it"
            )
        if list(raw.get("classes") or []) != list(LABELS):
            raise AdapterError(
                f"sentiment adapter: classes {raw.get('classes')!r}, expected {list(LABELS)}"
            )
        found_mode = raw.get("mode")
        if found_mode not in MODES:
            raise AdapterError(f"sentiment adapter: unknown mode {found_mode!r}")
        found_dim = raw.get("dim")
        if not isinstance(found_dim, int) or isinstance(found_dim, bool) or found_dim < 1:
            raise AdapterError(f"sentiment adapter: dim must be a positive integer: {found_dim!r}")
        found_embedder = str(raw.get("embedder") or "")
        try:
            weights = np.array(raw["weights"], dtype=np.float64)
            bias = np.array(raw["bias"], dtype=np.float64)
            center = np.array(raw["center"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise AdapterError(f"sentiment adapter: weights unreadable ({exc})") from None
        if (
            weights.shape != (found_dim, len(LABELS))
            or bias.shape != (len(LABELS),)
            or center.shape != (found_dim,)
        ):
            raise AdapterError(
                f"sentiment adapter: weights {weights.shape}, bias {bias.shape} and center "
                f"{center.shape} do not fit dim {found_dim} and {len(LABELS)} classes"
            )
        if not all(np.isfinite(a).all() for a in (weights, bias, center)):
            raise AdapterError("sentiment adapter: weights must be finite numbers")
        examples = raw.get("examples", 0)
        c = raw.get("c", DEFAULT_C)
        if not isinstance(examples, int) or examples < 0:
            raise AdapterError(f"sentiment adapter: examples must be a count: {examples!r}")
        if not isinstance(c, int | float) or not math.isfinite(c) or c <= 0:
            raise AdapterError(f"sentiment adapter: c must be a positive number: {c!r}")
        adapter = cls(
            mode=str(found_mode),
            embedder=found_embedder,
            dim=found_dim,
            weights=weights,
            bias=bias,
            center=center,
            examples=examples,
            c=float(c),
            base_model=str(raw.get("base_model") or ""),
        )
        adapter.check(mode=mode, embedder=embedder, dim=dim)
        return adapter

    def check(
        self, *, mode: str | None = None, embedder: str | None = None, dim: int | None = None
    ) -> None:
        """AdapterError unless the adapter fits an analysis in `mode` with that embedder."""
        trained_for = f"mode {self.mode!r} ({self.embedder}, {self.dim} dimensions)"
        if mode is not None and mode != self.mode:
            found = f"the analysis runs in mode {mode!r}"
        elif embedder is not None and embedder != self.embedder:
            found = f"the embedder is {embedder!r}"
        elif dim is not None and dim != self.dim:
            found = f"the embeddings have {dim} dimensions"
        else:
            return
        raise AdapterError(
            f"sentiment adapter: trained for {trained_for}, but {found}: retrain it "
            "(opencx text retrain)"
        )


def label_indices(labels: Sequence[str]) -> np.ndarray:
    """Class indices of sentiment labels (AdapterError naming the first unknown one)."""
    index = {label: k for k, label in enumerate(LABELS)}
    unknown = [label for label in labels if label not in index]
    if unknown:
        raise AdapterError(f"label {unknown[0]!r} is not one of {', '.join(LABELS)}")
    return np.array([index[label] for label in labels], dtype=np.int64)


def fit(
    probabilities: np.ndarray,
    embeddings: np.ndarray,
    labels: Sequence[str],
    *,
    mode: str,
    embedder: str,
    c: float = DEFAULT_C,
    base_model: str = "",
) -> SentimentAdapter:
    """Fit the correction on texts' shipped probabilities (n × 3), embeddings (n × dim) and the
    labels people gave them. Class-balanced; no examples give the identity."""
    if mode not in MODES:
        raise AdapterError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    x = np.asarray(embeddings, dtype=np.float64)
    prob = np.asarray(probabilities, dtype=np.float64)
    y = label_indices(labels)
    if x.ndim != 2 or prob.shape != (len(y), len(LABELS)) or x.shape[0] != len(y):
        raise AdapterError(
            f"{len(y)} labels, probabilities {prob.shape} and embeddings {x.shape} do not match"
        )
    if not len(y):
        return SentimentAdapter.identity(mode=mode, embedder=embedder, dim=x.shape[1])
    center = x.mean(axis=0)
    weights, bias = fit_logreg(
        x - center,
        y,
        c=c,
        classes=len(LABELS),
        sample_weight=balanced(y),
        offset=np.log(prob + EPS),
        bias_penalty=BIAS_PENALTY,
    )
    return SentimentAdapter(
        mode=mode,
        embedder=embedder,
        dim=x.shape[1],
        weights=weights.astype(np.float64),
        bias=bias.astype(np.float64),
        center=center,
        examples=len(y),
        c=c,
        base_model=base_model,
    )


def balanced(y: np.ndarray) -> np.ndarray:
    """Weights giving each class present the same total (a few negatives among many neutral
    confirmations still count)."""
    counts = np.bincount(y, minlength=len(LABELS)).astype(np.float64)
    present = int((counts > 0).sum())
    return np.asarray(len(y) / (present * counts[y]), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class AdapterFit:
    adapter: SentimentAdapter
    classes: dict[str, int]  # label -> examples
    correct_before: int  # examples the shipped model already got right
    correct_after: int  # ... the adapted model gets right (on the examples it was fitted on)
    cross_validated: int | None  # ... held out in k folds (None: too few examples)

    @property
    def examples(self) -> int:
        return self.adapter.examples


def fit_texts(
    texts: Sequence[str],
    languages: Sequence[str],
    labels: Sequence[str],
    *,
    mode: str = "default",
    c: float = DEFAULT_C,
    model: SentimentModel | None = None,
) -> AdapterFit:
    """Embed the texts, run the shipped model on them and fit the adapter to `labels`; with the
    shipped model's and the adapter's hits on the same examples (and k-fold held out)."""
    if mode not in MODES:
        raise AdapterError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not (len(texts) == len(languages) == len(labels)):
        raise AdapterError("texts, languages and labels must have the same length")
    y = label_indices(labels)
    model = model or shipped_model()
    embed = model.embedder(mode)
    embeddings = embed.embed([normalize(t) for t in texts]) if texts else np.zeros((0, embed.dim))
    prob = model.probabilities(texts, languages, mode=mode, embeddings=embeddings)
    adapter = fit(
        prob, embeddings, labels, mode=mode, embedder=embed.name, c=c, base_model=_model_id(model)
    )
    after = adapter.apply(prob, embeddings).argmax(axis=1) if len(y) else y
    return AdapterFit(
        adapter=adapter,
        classes=dict(Counter(labels).most_common()),
        correct_before=int((prob.argmax(axis=1) == y).sum()) if len(y) else 0,
        correct_after=int((after == y).sum()),
        cross_validated=cross_validated_hits(prob, embeddings, y, mode=mode, c=c),
    )


def cross_validated_hits(
    probabilities: np.ndarray, embeddings: np.ndarray, y: np.ndarray, *, mode: str, c: float
) -> int | None:
    """Examples the adapter gets right when fitted without them (CV_FOLDS folds assigned by a
    hash of the position, so the same data give the same figure); None below MIN_CV_EXAMPLES."""
    n = len(y)
    if n < MIN_CV_EXAMPLES:
        return None
    folds = np.array(
        [int(hashlib.sha256(str(i).encode()).hexdigest(), 16) % CV_FOLDS for i in range(n)]
    )
    hits = 0
    for k in range(CV_FOLDS):
        test = folds == k
        if not test.any():
            continue
        train = ~test
        labels = [LABELS[i] for i in y[train]]
        adapter = fit(
            probabilities[train], embeddings[train], labels, mode=mode, embedder="cv", c=c
        )
        pred = adapter.apply(probabilities[test], embeddings[test]).argmax(axis=1)
        hits += int((pred == y[test]).sum())
    return hits


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)
