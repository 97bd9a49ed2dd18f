"""Keyphrases per language: runs of content words between stop words and punctuation (RAKE).

`extract(text, language)` gives a comment's few best phrases; `top_phrases(texts, language)`
ranks phrases over many comments (by how many comments use them, longer phrases preferred), and
`distinctive_phrases` finds what sets one group of comments apart from the rest (class-based
TF-IDF), which is how emerging themes get their suggested names.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from opencx.analytics.text.features import normalize
from opencx.analytics.text.stopwords import stopwords

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’\-]*\w)?|\S", re.UNICODE)
MAX_WORDS = 3


def _runs(text: str, language: str) -> list[list[str]]:
    """Maximal runs of content words (lower case), split at stop words and punctuation."""
    stop = stopwords(language)
    runs: list[list[str]] = []
    current: list[str] = []
    for token in _TOKEN.findall(normalize(text).lower()):
        word = token.replace("’", "'")
        content = len(word) >= 3 and word[0].isalpha() and word not in stop and word != "@user"
        if content:
            current.append(word)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def candidates(text: str, language: str) -> list[str]:
    """Every phrase of 1–3 consecutive content words in `text`, in order."""
    out: list[str] = []
    for run in _runs(text, language):
        for size in range(1, MAX_WORDS + 1):
            for i in range(len(run) - size + 1):
                out.append(" ".join(run[i : i + size]))
    return out


def extract(text: str, language: str, *, limit: int = 3) -> tuple[str, ...]:
    """The best `limit` phrases of one text (RAKE scores: word degree over frequency)."""
    phrases: list[tuple[str, ...]] = []
    for run in _runs(text, language):
        for i in range(0, len(run), MAX_WORDS):
            phrases.append(tuple(run[i : i + MAX_WORDS]))
    if not phrases:
        return ()
    freq: Counter[str] = Counter()
    degree: Counter[str] = Counter()
    for phrase in phrases:
        for word in phrase:
            freq[word] += 1
            degree[word] += len(phrase)
    scored: dict[str, float] = {}
    for phrase in phrases:
        key = " ".join(phrase)
        score = sum(degree[w] / freq[w] for w in phrase) + 0.01 * sum(len(w) for w in phrase)
        scored[key] = max(scored.get(key, 0.0), score)
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
    return tuple(phrase for phrase, _ in ranked[:limit])


def _document_frequency(texts: Iterable[str], language: str) -> Counter[str]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(candidates(text, language)))
    return df


def top_phrases(
    texts: Sequence[str], language: str, *, limit: int = 10, min_count: int = 2
) -> list[tuple[str, int]]:
    """Phrases used by the most comments (each with its count); a phrase inside a longer one
    that is as frequent is dropped in favour of the longer one."""
    df = _document_frequency(texts, language)
    ranked = sorted(
        ((p, c) for p, c in df.items() if c >= min_count),
        key=lambda item: (-item[1] * (1 + 0.5 * item[0].count(" ")), item[0]),
    )
    chosen: list[tuple[str, int]] = []
    for phrase, count in ranked:
        if any(phrase in longer and count <= c for longer, c in chosen):
            continue
        chosen = [(p, c) for p, c in chosen if not (p in phrase and c <= count)]
        chosen.append((phrase, count))
        if len(chosen) >= limit:
            break
    return chosen


def distinctive_phrases(
    group: Sequence[str], rest: Sequence[str], language: str, *, limit: int = 5
) -> list[str]:
    """Phrases frequent in `group` and rare in `rest` (class-based TF-IDF)."""
    inside = _document_frequency(group, language)
    outside = _document_frequency(rest, language)
    total = len(group) + len(rest)
    scores: dict[str, float] = {}
    for phrase, count in inside.items():
        if count < 2 and len(group) >= 3:
            continue
        idf = math.log(1 + total / (count + outside.get(phrase, 0)))
        scores[phrase] = count / max(len(group), 1) * idf * (1 + 0.3 * phrase.count(" "))
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    chosen: list[str] = []
    for phrase, _ in ranked:
        if any(phrase in other or other in phrase for other in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) >= limit:
            break
    return chosen
