"""Language identification restricted to a brand's languages (py3langid's bundled model).

py3langid ships its naive-Bayes model inside the wheel (an npz, no pickle) and never touches
the network on this path. Restricting it to the few languages a brand works in is what makes it
accurate on short customer comments: a Spanish tweet cannot come out as Galician.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from opencx.analytics.text.features import normalize

# The languages the shipped sentiment model was trained on, plus Welsh (cross-lingual transfer).
DEFAULT_LANGUAGES = ("en", "it", "es", "fr", "de", "pt", "ru", "cy")
UNDETERMINED = "und"


class UnknownLanguageError(ValueError):
    """A language code the identifier does not know."""


@dataclass(frozen=True, slots=True)
class Detected:
    language: str
    confidence: float


def _load() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _full_model() -> Any:
    return _load()


@lru_cache(maxsize=32)
def _restricted(languages: tuple[str, ...]) -> Any:
    identifier = _load()
    identifier.set_languages(list(languages))
    return identifier


def known_languages() -> frozenset[str]:
    return frozenset(_full_model().labels)


class LanguageDetector:
    """`detect(text)` picks one of `languages`; text with no letters gets the first of them."""

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES) -> None:
        langs = tuple(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))
        if not langs:
            raise UnknownLanguageError("languages: give at least one language code")
        unknown = sorted(set(langs) - known_languages())
        if unknown:
            raise UnknownLanguageError(f"languages: unknown code(s) {', '.join(unknown)}")
        self.languages = langs
        self._identifier = _restricted(tuple(sorted(langs)))

    def detect(self, text: str) -> Detected:
        if len(self.languages) == 1:
            return Detected(self.languages[0], 1.0)
        clean = normalize(text).replace("@user", " ").replace("http", " ")
        if not any(ch.isalpha() for ch in clean):
            return Detected(self.languages[0], 0.0)
        language, confidence = self._identifier.classify(clean)
        return Detected(str(language), float(confidence))

    def detect_many(self, texts: Sequence[str]) -> list[Detected]:
        return [self.detect(text) for text in texts]
