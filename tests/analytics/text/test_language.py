"""Language identification restricted to the brand's languages."""

import pytest

from opencx.analytics.text.language import LanguageDetector, UnknownLanguageError

SAMPLES = {
    "en": "The staff were lovely but we waited forty minutes for our table.",
    "it": "Il personale è stato gentilissimo ma abbiamo aspettato quaranta minuti.",
    "es": "El personal fue muy amable pero esperamos cuarenta minutos la mesa.",
    "fr": "Le personnel était charmant mais nous avons attendu quarante minutes.",
    "de": "Das Personal war sehr nett, aber wir haben vierzig Minuten gewartet.",
    "pt": "Os funcionários foram muito simpáticos, mas esperamos quarenta minutos.",
    "ru": "Персонал был очень приветливым, но мы ждали столик сорок минут.",
    "cy": "Roedd y staff yn hyfryd ond roedd rhaid i ni aros deugain munud am ein bwrdd.",
}


def test_each_language_is_recognised():
    detector = LanguageDetector()
    for language, text in SAMPLES.items():
        assert detector.detect(text).language == language, text


def test_only_the_brands_languages_come_out():
    detector = LanguageDetector(["en", "cy"])
    assert {detector.detect(t).language for t in SAMPLES.values()} <= {"en", "cy"}
    assert detector.detect(SAMPLES["cy"]).language == "cy"


def test_single_language_brand_and_empty_text():
    assert LanguageDetector(["de"]).detect("whatever").language == "de"
    found = LanguageDetector(["fr", "en"]).detect("12345 !!! http://x.y/z")
    assert (found.language, found.confidence) == ("fr", 0.0)


def test_unknown_codes_are_refused_by_name():
    with pytest.raises(UnknownLanguageError, match="xx"):
        LanguageDetector(["en", "xx"])
    with pytest.raises(UnknownLanguageError, match="at least one"):
        LanguageDetector([])
