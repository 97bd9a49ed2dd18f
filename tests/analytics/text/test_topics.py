"""The seeded, editable taxonomy; keyword assignment across languages; theme discovery."""

import numpy as np
import pytest

from opencx.analytics.text.topics import (
    Taxonomy,
    TaxonomyError,
    Topic,
    TopicMatcher,
    discover_themes,
    keyword_topics,
)

SEED_IDS = {
    "staff_friendliness",
    "waiting_time",
    "price",
    "product_quality",
    "cleanliness",
    "delivery",
    "returns",
    "website_checkout",
    "app",
    "billing",
}


def test_seed_has_the_ten_cx_topics_in_eight_languages():
    taxonomy = Taxonomy.seed()
    assert {t.id for t in taxonomy.topics} == SEED_IDS
    for topic in taxonomy.topics:
        assert set(topic.keywords) == {"en", "it", "es", "fr", "de", "pt", "ru", "cy"}


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        (
            "The staff were so rude and we waited ages in the queue",
            "en",
            {"staff_friendliness", "waiting_time"},
        ),
        ("Il personale era scortese e i prezzi troppo cari", "it", {"staff_friendliness", "price"}),
        ("La entrega llegó tarde y pedí el reembolso", "es", {"delivery", "returns"}),
        ("Le magasin était sale et le site plante", "fr", {"cleanliness", "website_checkout"}),
        ("Die App stürzt ab und die Rechnung ist falsch", "de", {"app", "billing"}),
        ("A qualidade é péssima, quebrado em uma semana", "pt", {"product_quality"}),
        ("Долго ждал доставку, курьер опоздал", "ru", {"waiting_time", "delivery"}),
        ("Roedd y siop yn fudr a'r prisiau yn ddrud", "cy", {"cleanliness", "price"}),
        ("I love my new apple pie", "en", set()),  # "app=" is a whole word
    ],
)
def test_keywords_assign_topics_across_languages(text, language, expected):
    assert set(keyword_topics(text, language, Taxonomy.seed())) == expected


def test_taxonomy_is_editable_and_round_trips():
    parking = Topic("parking", "Parking", {"en": ("parking", "car park")}, ("No parking spaces.",))
    taxonomy = Taxonomy.seed().with_topic(parking).without("app")
    taxonomy = taxonomy.with_keywords("price", "en", ["rip-off"])
    assert "app" not in {t.id for t in taxonomy.topics}
    assert Taxonomy.from_json(taxonomy.to_json()) == taxonomy
    assert keyword_topics("A total rip-off, and the car park was full", "en", taxonomy) == (
        "price",
        "parking",
    )


def test_invalid_topics_name_the_field():
    with pytest.raises(TaxonomyError, match="id"):
        Topic("Bad Id", "x")
    with pytest.raises(TaxonomyError, match="name"):
        Topic("ok", " ")
    with pytest.raises(TaxonomyError, match="topics"):
        Taxonomy((Topic("a", "A"), Topic("a", "B")))
    with pytest.raises(TaxonomyError, match="name: missing"):
        Taxonomy.from_json('[{"id": "x"}]')


def test_embedding_similarity_adds_the_nearest_topic_above_the_margin():
    taxonomy = Taxonomy((Topic("a", "A"), Topic("b", "B"), Topic("c", "C")))
    protos = np.eye(3, dtype=np.float32)
    matcher = TopicMatcher(taxonomy, protos, threshold=0.3)
    emb = np.array([[0.9, 0.1, 0.0], [0.4, 0.4, 0.4]], dtype=np.float32)
    assert matcher.assign(["x", "y"], ["en", "en"], emb) == [("a",), ()]


def test_discover_themes_finds_planted_clusters():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 16))
    texts, rows = [], []
    words = ["parking full", "card machine broken", "loud music"]
    for k in range(3):
        for i in range(12):
            texts.append(f"the {words[k]} again {i}")
            rows.append(centres[k] + 0.05 * rng.normal(size=16))
    themes = discover_themes(texts, np.array(rows), language="en", k=3)
    assert sorted(t.size for t in themes) == [12, 12, 12]
    labels = {t.suggested_labels[0] for t in themes}
    assert labels == {"parking full", "card machine broken", "loud music"}
    for theme in themes:
        assert set(theme.representatives) <= {texts[i] for i in theme.members}
        assert theme.cohesion > 0.9
    assert discover_themes(["one"], np.ones((1, 4))) == []
