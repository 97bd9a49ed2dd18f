"""The text analytics settings pages: topics, redaction and mode, emerging themes."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from opencx.insights.text_analysis import text_settings_of
from opencx.platform.roles import Role
from tests.insights.test_taxonomy import LOYALTY, MUSIC, PARKING, SEED_IDS, _untopiced

pytestmark = pytest.mark.django_db


def url(name, brand, *args):
    return reverse(f"text:{name}", args=[brand.slug, *args])


def test_the_page_lists_topics_with_counts_and_forms(client, brand, owner, store):
    from opencx.feedback.models import FeedbackTopic

    [item] = _untopiced(brand, store, ["Too expensive"])
    FeedbackTopic.objects.create(brand=brand, item=item, topic="price")
    client.force_login(owner)
    response = client.get(url("taxonomy", brand))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Staff friendliness" in page and "Returns and refunds" in page
    assert 'id="topic-price"' in page and "<td>1</td>" in page
    assert "Discover emerging themes" in page and 'name="redact_pii"' in page
    assert "seeded CX topics" in page


def test_a_viewer_reads_without_forms_and_a_scoped_manager_gets_404(
    client, brand, make_actor, store
):
    viewer = make_actor(Role.VIEWER)
    client.force_login(viewer.user)
    page = client.get(url("taxonomy", brand)).content.decode()
    assert "Staff friendliness" in page and "Add topic" not in page and "readonly-note" in page
    assert client.post(url("topic-create", brand), {"name": "X"}).status_code == 403
    assert client.get(url("topic", brand, "price")).status_code == 200
    assert client.post(url("topic", brand, "price"), {"name": "X"}).status_code == 403
    scoped = make_actor(Role.CX_MANAGER, store)
    client.force_login(scoped.user)
    assert client.get(url("taxonomy", brand)).status_code == 404
    assert client.get(url("topic", brand, "price")).status_code == 404


def test_add_edit_move_delete_and_reset(client, brand, owner):
    client.force_login(owner)
    response = client.post(
        url("topic-create", brand),
        {
            "name": "Parking",
            "keywords": "en: parking, car park\nit: parcheggio",
            "descriptions": "Nowhere to park.\nIl parcheggio era pieno.",
        },
    )
    assert response.status_code == 302
    topics = text_settings_of(brand).taxonomy
    assert topics[-1] == {
        "id": "parking",
        "name": "Parking",
        "keywords": {"en": ["parking", "car park"], "it": ["parcheggio"]},
        "descriptions": ["Nowhere to park.", "Il parcheggio era pieno."],
    }
    edit = client.get(url("topic", brand, "parking")).content.decode()
    assert "en: parking, car park" in edit
    client.post(url("topic", brand, "parking"), {"name": "Car parking", "keywords": "en: park"})
    assert text_settings_of(brand).taxonomy[-1]["name"] == "Car parking"
    assert text_settings_of(brand).taxonomy[-1]["descriptions"] == []
    client.post(url("topic-move", brand, "parking"), {"direction": "up"})
    assert [t["id"] for t in text_settings_of(brand).taxonomy][-2] == "parking"
    client.post(url("topic-delete", brand, "parking"))
    assert [t["id"] for t in text_settings_of(brand).taxonomy] == SEED_IDS
    client.post(url("reset", brand))
    assert text_settings_of(brand).taxonomy is None
    assert client.get(url("topic", brand, "parking")).status_code == 404


def test_errors_are_shown_on_the_field(client, brand, owner):
    client.force_login(owner)
    response = client.post(url("topic-create", brand), {"name": "P", "keywords": "parking"})
    assert response.status_code == 400
    assert "start with a language code" in response.content.decode()
    response = client.post(url("topic-create", brand), {"name": "P", "keywords": "e: x"})
    assert response.status_code == 400
    response = client.post(url("topic", brand, "price"), {"name": "x" * 81})
    assert response.status_code == 400
    assert text_settings_of(brand).taxonomy is None


def test_settings_toggle_redaction_and_mode(client, brand, owner):
    client.force_login(owner)
    version = text_settings_of(brand).version
    response = client.post(url("settings", brand), {"redact_pii": "on", "mode": "fast"})
    assert response.status_code == 302
    settings = text_settings_of(brand)
    assert settings.redact_pii and settings.mode == "fast" and settings.version == version + 1
    assert client.post(url("settings", brand), {"mode": "turbo"}).status_code == 400


# The worker closes database connections as it goes: run outside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_discover_show_redacted_and_adopt_a_theme(client, brand, owner, store):
    from opencx.insights.models import TextSettings

    TextSettings.objects.update_or_create(
        brand=brand, defaults={"mode": "fast", "redact_pii": True}
    )
    _untopiced(brand, store, LOYALTY + MUSIC)
    parking = _untopiced(brand, store, PARKING[:-1])
    parking += _untopiced(brand, store, [PARKING[-1] + " Mail me: ann@example.com"])
    client.force_login(owner)
    assert "No discovery yet" in client.get(url("themes", brand)).content.decode()
    response = client.post(url("themes", brand), {"days": "90"})
    assert response.status_code == 302
    pending = client.get(url("themes", brand)).content.decode()
    assert "Finding themes" in pending and 'hx-trigger="every 3s"' in pending
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    page = client.get(url("themes", brand)).content.decode()
    assert "3 themes" in page and "Adopt as a topic" in page
    assert "ann@example.com" not in page
    partial = client.get(url("themes", brand), headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="themes"') and "every 3s" not in partial
    # Adopt the theme that holds the parking comments, with its representative comments.
    response = client.get(url("themes", brand))
    row = next(
        row
        for row in response.context["rows"]
        if {pk for pk, _ in row["texts"]} & {item.pk for item in parking}
    )
    prefix = row["form"].prefix
    initial = row["form"].initial
    response = client.post(
        url("theme-adopt", brand),
        {
            "prefix": prefix,
            f"{prefix}-name": "",
            f"{prefix}-keywords": "en: parking",
            f"{prefix}-representatives": initial["representatives"],
        },
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(
        url("theme-adopt", brand),
        {
            "prefix": prefix,
            f"{prefix}-name": "Parking",
            f"{prefix}-keywords": "en: parking, car park",
            f"{prefix}-representatives": initial["representatives"],
        },
    )
    assert response.status_code == 302
    topic = text_settings_of(brand).taxonomy[-1]
    assert topic["id"] == "parking" and topic["keywords"] == {"en": ["parking", "car park"]}
    assert len(topic["descriptions"]) == len(initial["representatives"].split(","))
    assert not any("@" in sentence for sentence in topic["descriptions"])


def test_another_brand_cannot_read_a_discovery_through_the_session(
    client, brand, owner, stranger, store
):
    client.force_login(owner)
    client.post(url("themes", brand), {"days": "90"})
    client.force_login(stranger)
    assert client.get(url("themes", brand)).status_code == 404
