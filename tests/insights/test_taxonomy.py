"""The brand's text settings, taxonomy edits and emerging themes (insights.taxonomy)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from opencx.feedback.models import FeedbackTopic
from opencx.insights import facade, taxonomy
from opencx.insights.models import TextSettings
from opencx.insights.text_analysis import taxonomy_of, text_settings_of
from opencx.platform.errors import Forbidden, NotFound
from opencx.platform.models import AuditEvent
from opencx.platform.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

SEED_IDS = [topic["id"] for topic in facade.seed_taxonomy()]

# Three complaints no seeded topic covers, twelve wordings each.
PARKING = [
    "The car park was full and there were no parking spaces left.",
    "Could not find anywhere to park, the parking lot is far too small.",
    "Parking is a nightmare here, no free spaces at all.",
    "We drove around the car park for ages looking for a space.",
    "Not enough parking bays for disabled drivers.",
    "The parking lot was packed on Saturday morning.",
    "Parking spaces are tiny and the car park is cramped.",
    "There is never a free parking space near the entrance.",
    "Car park barrier broken, could not get out of the parking.",
    "The multi-storey car park was closed so nowhere to park.",
    "Parking fees in the car park are a rip off.",
    "Had to park on the street because the parking lot was full.",
]
LOYALTY = [
    "My loyalty card points were not added to my account.",
    "The loyalty points from last month disappeared from my card.",
    "Loyalty scheme is confusing, I never know my points balance.",
    "Points on my rewards card were not credited after shopping.",
    "Cannot redeem my loyalty points for vouchers.",
    "The rewards card stopped collecting points.",
    "My loyalty card was not recognised so I lost the points.",
    "Loyalty points expire far too quickly.",
    "I was promised double loyalty points but never got them.",
    "The points balance on my loyalty card is wrong.",
    "Rewards points missing again from my membership card.",
    "Why do my loyalty card points keep vanishing?",
]
MUSIC = [
    "The music in the store is far too loud.",
    "Loud music playing everywhere, could not hear myself think.",
    "Please turn the music down, it is deafening.",
    "The background music was blaring and annoying.",
    "Music volume in the shop is unbearable.",
    "Such loud music, I left after five minutes.",
    "The songs they play are so loud it gives me a headache.",
    "Terrible loud music over the speakers.",
    "Could not talk to my friend because the music was so loud.",
    "The speakers blast music at full volume.",
    "Why is the music always this loud in here?",
    "Noisy music made shopping unpleasant.",
]


@pytest.fixture
def cx_manager(make_actor):
    return make_actor(Role.CX_MANAGER)


def _untopiced(brand, store, texts, *, days_ago=3, **extra):
    now = timezone.now()
    fields = {"language": "en", "analysed_at": now, "occurred_at": now - timedelta(days=days_ago)}
    fields.update(extra)
    return [
        factories.FeedbackItemFactory(brand=brand, location=store, text=text, **fields)
        for text in texts
    ]


# --- permissions and reads ---------------------------------------------------------------------


def test_brand_wide_members_read_the_seed_until_the_first_edit(make_actor, store):
    viewer = make_actor(Role.VIEWER)
    assert [t["id"] for t in taxonomy.taxonomy_get(viewer)] == SEED_IDS
    assert text_settings_of(viewer.brand).taxonomy is None


def test_a_member_scoped_to_a_location_gets_404(make_actor, store):
    manager = make_actor(Role.CX_MANAGER, store)
    with pytest.raises(NotFound):
        taxonomy.taxonomy_get(manager)
    with pytest.raises(NotFound):
        taxonomy.topic_create(actor=manager, name="Parking")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_lower_roles_may_not_edit(make_actor, role):
    actor = make_actor(role)
    with pytest.raises(Forbidden):
        taxonomy.topic_create(actor=actor, name="Parking")
    with pytest.raises(Forbidden):
        taxonomy.text_settings_update(actor=actor, redact_pii=True)
    with pytest.raises(Forbidden):
        taxonomy.themes_discover(actor)


def test_topic_counts_count_the_items_of_each_topic(cx_manager, store):
    first, second = _untopiced(cx_manager.brand, store, ["a", "b"])
    other_brand_item = factories.FeedbackItemFactory()
    for item, topic in ((first, "price"), (second, "price"), (second, "delivery")):
        FeedbackTopic.objects.create(brand=item.brand, item=item, topic=topic)
    FeedbackTopic.objects.create(brand=other_brand_item.brand, item=other_brand_item, topic="price")
    assert taxonomy.topic_counts(cx_manager) == {"price": 2, "delivery": 1}


# --- topic edits -------------------------------------------------------------------------------


def test_creating_a_topic_copies_the_seed_bumps_the_version_and_is_audited(
    cx_manager, django_capture_on_commit_callbacks
):
    before = text_settings_of(cx_manager.brand).version
    with django_capture_on_commit_callbacks(execute=True):
        topic = taxonomy.topic_create(
            actor=cx_manager,
            name="Parking",
            keywords={"en": ["parking", "car park"], "it": ["parcheggi"]},
            descriptions=["There was nowhere to park."],
        )
    assert topic == {
        "id": "parking",
        "name": "Parking",
        "keywords": {"en": ["parking", "car park"], "it": ["parcheggi"]},
        "descriptions": ["There was nowhere to park."],
    }
    settings = text_settings_of(cx_manager.brand)
    assert [t["id"] for t in settings.taxonomy] == [*SEED_IDS, "parking"]
    assert settings.version == before + 1
    assert settings.queued_at is not None  # re-analysis queued after the commit
    event = AuditEvent.objects.get(action="taxonomy.topic_create")
    assert event.brand == cx_manager.brand and event.actor == cx_manager.user


def test_topic_ids_come_from_names_and_stay_unique(cx_manager):
    assert taxonomy.topic_create(actor=cx_manager, name="Price")["id"] == "price_2"
    assert taxonomy.topic_create(actor=cx_manager, name="Café & Bar")["id"] == "cafe_bar"
    assert taxonomy.topic_create(actor=cx_manager, name="Парковка")["id"] == "topic"
    assert taxonomy.topic_create(actor=cx_manager, name="24h opening")["id"] == "topic_24h_opening"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "P", "keywords": {"english": ["x"]}}, "keywords"),
        ({"name": "P", "keywords": {"en": "parking"}}, "keywords.en"),
        ({"name": "P", "keywords": {"en": ["x" * 61]}}, "keywords.en"),
        ({"name": "P", "descriptions": "one sentence"}, "descriptions"),
        ({"name": "P", "descriptions": [f"s{i}" for i in range(21)]}, "descriptions"),
        ({"name": "P", "topic_id": "price"}, "id"),
        ({"name": "P", "topic_id": "Bad Id"}, "id"),
    ],
)
def test_invalid_topics_name_the_field_and_change_nothing(cx_manager, fields, field):
    with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
        taxonomy.topic_create(actor=cx_manager, **fields)
    assert caught.value.field == field
    assert caught.value.status == 422
    assert text_settings_of(cx_manager.brand).taxonomy is None


def test_updating_a_seeded_topic_keeps_its_id_and_position(cx_manager):
    topic = taxonomy.topic_update(
        actor=cx_manager, topic_id="price", name="Prices", keywords={"en": ["price", "costly"]}
    )
    assert topic["id"] == "price" and topic["name"] == "Prices"
    assert (
        topic["descriptions"]
        == taxonomy_of(TextSettings())[SEED_IDS.index("price")]["descriptions"]
    )
    ids = [t["id"] for t in taxonomy.taxonomy_get(cx_manager)]
    assert ids == SEED_IDS


def test_an_update_that_changes_nothing_does_not_reanalyse(cx_manager):
    version = text_settings_of(cx_manager.brand).version
    seed_price = next(t for t in facade.seed_taxonomy() if t["id"] == "price")
    taxonomy.topic_update(actor=cx_manager, topic_id="price", name=seed_price["name"])
    assert text_settings_of(cx_manager.brand).version == version


def test_deleting_a_topic_removes_it_from_items(cx_manager, store):
    [item] = _untopiced(cx_manager.brand, store, ["Too expensive"])
    FeedbackTopic.objects.create(brand=item.brand, item=item, topic="price")
    FeedbackTopic.objects.create(brand=item.brand, item=item, topic="delivery")
    taxonomy.topic_delete(actor=cx_manager, topic_id="price")
    assert "price" not in [t["id"] for t in taxonomy.taxonomy_get(cx_manager)]
    assert list(item.topic_rows.values_list("topic", flat=True)) == ["delivery"]
    with pytest.raises(NotFound):
        taxonomy.topic_delete(actor=cx_manager, topic_id="price")


def test_the_last_topic_cannot_be_deleted(cx_manager):
    taxonomy.taxonomy_replace(actor=cx_manager, topics=[{"id": "only", "name": "Only"}])
    with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
        taxonomy.topic_delete(actor=cx_manager, topic_id="only")
    assert "at least one topic" in caught.value.message
    assert [t["id"] for t in taxonomy.taxonomy_get(cx_manager)] == ["only"]


def test_topics_move_and_reorder(cx_manager):
    taxonomy.topic_move(actor=cx_manager, topic_id="price", offset=-1)
    ids = [t["id"] for t in taxonomy.taxonomy_get(cx_manager)]
    assert ids.index("price") == SEED_IDS.index("price") - 1
    taxonomy.topic_move(actor=cx_manager, topic_id=SEED_IDS[0], offset=-1)  # already first
    reversed_ids = list(reversed(ids))
    taxonomy.taxonomy_reorder(actor=cx_manager, order=reversed_ids)
    assert [t["id"] for t in taxonomy.taxonomy_get(cx_manager)] == reversed_ids
    with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
        taxonomy.taxonomy_reorder(actor=cx_manager, order=reversed_ids[1:])
    assert caught.value.field == "order"


def test_reset_goes_back_to_the_seed(cx_manager, store):
    taxonomy.topic_create(actor=cx_manager, name="Parking")
    [item] = _untopiced(cx_manager.brand, store, ["No spaces"])
    FeedbackTopic.objects.create(brand=item.brand, item=item, topic="parking")
    version = text_settings_of(cx_manager.brand).version
    settings = taxonomy.taxonomy_reset(actor=cx_manager)
    assert settings.taxonomy is None and settings.version == version + 1
    assert [t["id"] for t in taxonomy.taxonomy_get(cx_manager)] == SEED_IDS
    assert not item.topic_rows.exists()


def test_replacing_the_whole_taxonomy_names_the_bad_field(cx_manager):
    good = [{"id": "parking", "name": "Parking", "keywords": {"en": ["parking"]}}]
    assert taxonomy.taxonomy_replace(actor=cx_manager, topics=good) == [
        {"id": "parking", "name": "Parking", "keywords": {"en": ["parking"]}, "descriptions": []}
    ]
    bad_cases = [
        ([*good, {"id": "parking", "name": "Again"}], "topics.1.id"),
        ([{"id": "x", "name": ""}], "topics.0.name"),
        ([{"id": "x", "name": "X", "colour": "red"}], "topics.0.colour"),
        ([{"id": "x", "name": "X", "keywords": {"en": [3]}}], "topics.0.keywords.en"),
        ({"id": "x"}, "topics"),
        ([], "topics"),
    ]
    for topics, field in bad_cases:
        with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
            taxonomy.taxonomy_replace(actor=cx_manager, topics=topics)
        assert caught.value.field == field, topics
    assert [t["id"] for t in taxonomy.taxonomy_get(cx_manager)] == ["parking"]


def test_keywords_as_typed(cx_manager):
    assert taxonomy.parse_keywords("en: Parking, car park\n\nit: parcheggio\nen: parking") == {
        "en": ["parking", "car park"],
        "it": ["parcheggio"],
    }
    with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
        taxonomy.parse_keywords("parking, car park")
    assert caught.value.field == "keywords"
    text = taxonomy.format_keywords({"en": ["parking", "car park"], "cy": ["parcio"]})
    assert taxonomy.parse_keywords(text) == {"en": ["parking", "car park"], "cy": ["parcio"]}


# --- settings ----------------------------------------------------------------------------------


def test_redaction_changes_no_analysis_but_the_mode_does(cx_manager):
    version = text_settings_of(cx_manager.brand).version
    settings = taxonomy.text_settings_update(actor=cx_manager, redact_pii=True)
    assert settings.redact_pii is True and settings.version == version
    settings = taxonomy.text_settings_update(actor=cx_manager, mode="fast")
    assert settings.mode == "fast" and settings.version == version + 1
    with pytest.raises(taxonomy.TaxonomyInvalid) as caught:
        taxonomy.text_settings_update(actor=cx_manager, mode="turbo")
    assert caught.value.field == "mode"
    event = AuditEvent.objects.filter(action="text_settings.update").order_by("pk").first()
    assert event.changes == {"redact_pii": [False, True]}


# --- emerging themes ---------------------------------------------------------------------------


@pytest.fixture
def untopiced_world(cx_manager, store):
    brand = cx_manager.brand
    TextSettings.objects.update_or_create(brand=brand, defaults={"mode": "fast"})
    groups = {
        name: {item.pk for item in _untopiced(brand, store, texts)}
        for name, texts in (("parking", PARKING), ("loyalty", LOYALTY), ("music", MUSIC))
    }
    # Left out: items with a topic, too old, not analysed yet, or without text.
    [topiced] = _untopiced(brand, store, ["The car park is always full."])
    FeedbackTopic.objects.create(brand=brand, item=topiced, topic="price")
    _untopiced(brand, store, ["The car park is always full."], days_ago=200)
    _untopiced(brand, store, ["The car park is always full."], analysed_at=None)
    _untopiced(brand, store, [""], title="")
    return groups


def test_discovery_finds_the_three_complaints(cx_manager, untopiced_world):
    discovery = taxonomy.themes_discover(cx_manager, days=90, limit=2000)
    assert discovery.considered == 36
    assert len(discovery.themes) == 3
    for theme in discovery.themes:
        overlaps = {name: len(set(theme.item_ids) & ids) for name, ids in untopiced_world.items()}
        name = max(overlaps, key=overlaps.get)
        assert overlaps[name] >= 0.8 * theme.size, overlaps
        assert set(theme.representative_ids) <= set(theme.item_ids)
        assert theme.size == len(theme.item_ids)
        assert theme.suggested_names and theme.language == "en"
    names = " ".join(n for theme in discovery.themes for n in theme.suggested_names)
    assert "park" in names
    assert "loyalty" in names or "points" in names
    assert "music" in names


def test_discovery_is_bounded(cx_manager, untopiced_world):
    assert taxonomy.themes_discover(cx_manager, limit=10).considered == 10
    with pytest.raises(taxonomy.AppError) as caught:
        taxonomy.themes_discover(cx_manager, limit=10**6)
    assert caught.value.field == "limit"
    assert taxonomy.themes_discover(cx_manager, days=1).themes == ()


# The worker closes database connections as it goes: run outside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_discovery_runs_in_the_background_for_the_brand_only(
    cx_manager, untopiced_world, make_actor
):
    result_id = taxonomy.themes_discover_start(actor=cx_manager, days=90, limit=2000)
    assert taxonomy.themes_discovery_get(cx_manager, result_id=result_id).status == "pending"
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    state = taxonomy.themes_discovery_get(cx_manager, result_id=result_id)
    assert state.status == "done" and len(state.discovery.themes) == 3
    stranger = factories.MembershipFactory(role=Role.OWNER)
    from opencx.platform.actor import Actor

    other = Actor(user=stranger.user, brand=stranger.brand, membership=stranger)
    with pytest.raises(NotFound):
        taxonomy.themes_discovery_get(other, result_id=result_id)
    with pytest.raises(NotFound):
        taxonomy.themes_discovery_get(cx_manager, result_id="not-an-id")


def test_adopting_a_theme_adds_a_topic_that_reanalysis_assigns(
    cx_manager, untopiced_world, settings
):
    from opencx.insights.text_analysis import analyse_pending

    discovery = taxonomy.themes_discover(cx_manager)
    parking = max(discovery.themes, key=lambda t: len(set(t.item_ids) & untopiced_world["parking"]))
    texts = list(
        cx_manager.brand.feedback_items.filter(pk__in=parking.representative_ids).values_list(
            "text", flat=True
        )
    )
    texts.append("Call me on +44 7700 900123 about parking")
    version = text_settings_of(cx_manager.brand).version
    topic = taxonomy.theme_adopt(
        actor=cx_manager,
        name="Parking",
        keywords_by_language={"en": ["parking", "car park"], "it": ["parcheggi"]},
        description_texts=texts,
    )
    assert topic["id"] == "parking" and topic["keywords"]["it"] == ["parcheggi"]
    assert "Call me on [phone] about parking" in topic["descriptions"]
    assert text_settings_of(cx_manager.brand).version == version + 1
    analyse_pending(brand_id=cx_manager.brand.pk)
    tagged = set(
        FeedbackTopic.objects.filter(brand=cx_manager.brand, topic="parking").values_list(
            "item_id", flat=True
        )
    )
    assert untopiced_world["parking"] <= tagged


def test_the_facade_names_each_theme_in_its_own_language():
    italian = [
        "Il parcheggio era pieno, nessun posto libero.",
        "Impossibile trovare parcheggio vicino al negozio.",
        "Parcheggio troppo piccolo e sempre pieno.",
        "Abbiamo girato nel parcheggio per mezz'ora.",
        "Il parcheggio a pagamento costa troppo.",
        "Nessun posto nel parcheggio il sabato.",
    ]
    texts = [*italian, *MUSIC[:6]]
    languages = ["it"] * 6 + ["en"] * 6
    themes = facade.discover_themes(texts, languages=languages, mode="fast")
    by_language = {theme.language: theme for theme in themes}
    assert set(by_language) == {"it", "en"}
    assert set(by_language["it"].members) == set(range(6))
    assert any("parcheggio" in name for name in by_language["it"].suggested_names)
    assert set(by_language["it"].representatives) <= set(by_language["it"].members)
    with pytest.raises(ValueError, match="languages"):
        facade.discover_themes(texts, languages=["en"], mode="fast")
    assert facade.discover_themes([], languages=[], mode="fast") == []
