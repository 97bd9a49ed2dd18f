"""One call for everything a text gets: `analyze(texts, languages=..., mode=...)`.

    from opencx.analytics.text import analyze
    [result] = analyze(["The staff were lovely but I waited 40 minutes."], languages=["en", "cy"])
    result.language, result.sentiment, result.sentiment_score, result.topics, result.keyphrases

Modes: "default" (quality: multilingual-e5-small embeddings, ~25 comments/s on a core) and
"fast" (Universal Sentence Encoder, ~200/s). Each text is embedded once; the embedding feeds
both the sentiment model and the topic prototypes. Everything runs in-process and offline.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from opencx.analytics.text import keyphrases
from opencx.analytics.text.adapt import SentimentAdapter
from opencx.analytics.text.features import normalize
from opencx.analytics.text.language import DEFAULT_LANGUAGES, LanguageDetector
from opencx.analytics.text.redact import redact as redact_text
from opencx.analytics.text.sentiment import LABELS, MODES, Mode, shipped_model
from opencx.analytics.text.topics import Taxonomy, TopicMatcher, prototypes

_PLACEHOLDER = re.compile(r"\[(?:email|phone|card)\]")
# Similarity margin (over the mean similarity to all topics) for embedding-based topics.
TOPIC_MARGIN = {"default": 0.08, "fast": 0.25}


class SentimentSource(Protocol):
    """Anything that gives P(negative), P(neutral), P(positive) per text, one row each."""

    def probabilities(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    text: str  # as given, or redacted when asked
    language: str
    language_confidence: float
    sentiment: str  # negative | neutral | positive
    sentiment_score: float  # P(positive) - P(negative), in [-1, 1]
    topics: tuple[str, ...]
    keyphrases: tuple[str, ...]


_MATCHERS: dict[tuple[str, str], TopicMatcher] = {}
_MATCHERS_LOCK = threading.Lock()


def _matcher(taxonomy: Taxonomy, mode: Mode) -> TopicMatcher:
    key = (mode, taxonomy.to_json())
    with _MATCHERS_LOCK:
        found = _MATCHERS.get(key)
    if found is None:
        embedder = shipped_model().embedder(mode)
        protos = prototypes(taxonomy, lambda items: embedder.embed([normalize(t) for t in items]))
        found = TopicMatcher(taxonomy, protos, TOPIC_MARGIN[mode])
        with _MATCHERS_LOCK:
            if len(_MATCHERS) > 64:
                _MATCHERS.clear()
            _MATCHERS[key] = found
    return found


def analyze(
    texts: Sequence[str],
    *,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    mode: Mode = "default",
    taxonomy: Taxonomy | None = None,
    redact: bool = False,
    keyphrase_limit: int = 3,
    adapter: SentimentAdapter | Mapping[str, Any] | None = None,
    sentiment_model: SentimentSource | None = None,
) -> list[TextAnalysis]:
    """Language, sentiment, topics and keyphrases for each text (in order). `adapter`: a brand's
    sentiment adapter (`adapt.py`, or its dict); None: the shipped model as it is.
    `sentiment_model`: a user-supplied model (e.g. `transformer.LocalTransformerSentiment`) that
    gives the sentiment instead of the shipped one (an adapter fits the shipped model only, so
    it is not applied then); embeddings still serve the topics."""
    if mode not in MODES:
        raise ValueError(f"mode: must be one of {', '.join(MODES)}, not {mode!r}")
    if not texts:
        return []
    detector = LanguageDetector(languages)
    model = shipped_model()
    adapted = None
    if adapter is not None:
        embedder = model.embedder(mode)
        adapted = SentimentAdapter.load(
            adapter, mode=mode, embedder=embedder.name, dim=embedder.dim
        )
    found = detector.detect_many(texts)
    langs = [d.language for d in found]
    embeddings = model.embedder(mode).embed([normalize(t) for t in texts])
    if sentiment_model is not None:
        prob = np.asarray(sentiment_model.probabilities(list(texts)), dtype=np.float64)
    else:
        prob = model.probabilities(texts, langs, mode=mode, embeddings=embeddings)
        if adapted is not None:
            prob = adapted.apply(prob, embeddings)
    matcher = _matcher(taxonomy or Taxonomy.seed(), mode)
    topics = matcher.assign(texts, langs, embeddings)
    out = []
    for i, text in enumerate(texts):
        k = int(np.argmax(prob[i]))
        shown = redact_text(text) if redact else text
        out.append(
            TextAnalysis(
                text=shown,
                language=langs[i],
                language_confidence=round(found[i].confidence, 4),
                sentiment=LABELS[k],
                sentiment_score=round(float(prob[i, 2] - prob[i, 0]), 4),
                topics=topics[i],
                keyphrases=keyphrases.extract(
                    _PLACEHOLDER.sub(" , ", shown), langs[i], limit=keyphrase_limit
                ),
            )
        )
    return out
