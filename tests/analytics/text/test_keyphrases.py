"""Keyphrases: content-word runs per language, corpus ranking, distinctive phrases."""

from opencx.analytics.text import keyphrases


def test_extract_per_language():
    en = keyphrases.extract("The waiting time at the checkout was terrible.", "en")
    assert en[0] == "waiting time" and "checkout" in en
    de = keyphrases.extract("Der Kundenservice war unfreundlich und die Lieferung kam spät.", "de")
    assert "kundenservice" in de
    ru = keyphrases.extract("Очень долгая очередь на кассе.", "ru")
    assert "долгая очередь" in ru
    assert keyphrases.extract("the and of", "en") == ()
    assert keyphrases.extract("@user http 123 !!!", "en") == ()


def test_top_phrases_prefers_the_longer_equally_frequent_phrase():
    texts = ["long waiting time at checkout", "the waiting time was long", "waiting time again"]
    top = keyphrases.top_phrases(texts, "en", limit=3)
    assert top[0] == ("waiting time", 3)
    assert ("waiting", 3) not in top and ("time", 3) not in top


def test_distinctive_phrases():
    group = ["parking was full", "no parking spaces", "parking lot full again"]
    rest = ["staff friendly", "great staff", "food was great", "lovely food"]
    assert keyphrases.distinctive_phrases(group, rest, "en")[0] == "parking"
