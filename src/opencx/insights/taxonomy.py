"""A brand's text-analytics settings, its topic taxonomy and the discovery of emerging themes.

The taxonomy is a brand-level setting: members with brand-wide reach may read it (a member
scoped to a location gets 404, because adopted themes carry customers' comments from every
location as descriptions); changing it, and discovering themes, also needs MANAGE_FEEDBACK
(403). Until the first edit a brand uses the seeded CX topics; the first edit makes the seed
the brand's own copy. Every change that alters analyses (topics, mode) goes through
`text_settings_changed`, which raises the settings' version so that every stored item is
analysed again in the background. Redaction only changes what is shown: no re-analysis.

Discovery clusters the brand's recent analysed items that no topic caught. Embedding is the
slow part (measured on two cores, 2,000 comments: ~50 s in the default mode, ~6 s in the fast
mode, ~0.7 s for the clustering), so a page starts it as a background task
(`themes_discover_start`) and shows the result when it is ready; `themes_discover` is the same
work done at once.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.text import slugify

from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.feedback.selectors import feedback_visible_to
from opencx.platform.actor import Actor
from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.services import audit_record

from . import facade
from .models import TextSettings
from .text_analysis import (
    taxonomy_of,
    text_settings_changed,
    text_settings_of,
    text_settings_stored,
)

# Bounds of what a person may type (hostile input: a clear error naming the field).
MAX_TOPICS = 100
MAX_NAME = 80
MAX_ID = 48
MAX_KEYWORDS = 100  # per language
MAX_KEYWORD = 60
MAX_DESCRIPTIONS = 20
MAX_DESCRIPTION = 500
LANGUAGE = re.compile(r"[a-z]{2,3}")
TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
DISCOVERY_DAYS = (1, 365)
DISCOVERY_LIMIT = (10, 5000)


_NONE_LEFT = "Keep at least one topic (to go back to the seeded CX topics, reset them)."


class TaxonomyInvalid(AppError):
    """A topic or taxonomy that cannot be stored; the message and `field` say where."""

    status = 422
    code = "invalid"


# --- who may -----------------------------------------------------------------------------------


def _require_reader(actor: Actor) -> None:
    if not actor.is_brand_wide:
        raise NotFound("No such page.", field="text_settings")


def _require_editor(actor: Actor) -> None:
    _require_reader(actor)
    actor.require(Capability.MANAGE_FEEDBACK)


def can_edit(actor: Actor) -> bool:
    return actor.is_brand_wide and actor.can(Capability.MANAGE_FEEDBACK)


# --- reads -------------------------------------------------------------------------------------


def text_settings_get(actor: Actor) -> TextSettings:
    _require_reader(actor)
    return text_settings_of(actor.brand)


def taxonomy_get(actor: Actor) -> list[dict]:
    """The brand's topics in order (the seed until the brand edits it)."""
    return taxonomy_of(text_settings_get(actor))


def topic_get(actor: Actor, *, topic_id: str) -> dict:
    for topic in taxonomy_get(actor):
        if topic["id"] == topic_id:
            return topic
    raise NotFound("No such topic.", field="topic")


def topic_counts(actor: Actor) -> dict[str, int]:
    """Items the actor may see per topic id."""
    _require_reader(actor)
    rows = (
        FeedbackTopic.objects.filter(brand=actor.brand, item__in=feedback_visible_to(actor))
        .values("topic")
        .annotate(n=Count("id"))
    )
    return {row["topic"]: row["n"] for row in rows}


# --- validation --------------------------------------------------------------------------------


def _text(value, field: str, *, limit: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise TaxonomyInvalid(f"{field} must be text.", field=field)
    text = " ".join(value.split())
    if required and not text:
        raise TaxonomyInvalid(f"{field}: give it a name.", field=field)
    if len(text) > limit:
        raise TaxonomyInvalid(f"{field}: at most {limit} characters.", field=field)
    return text


def clean_keywords(value, field: str = "keywords") -> dict[str, list[str]]:
    """{language: [word, ...]}: known-looking language codes, no empty or duplicate words."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TaxonomyInvalid(f"{field} must map languages to lists of words.", field=field)
    clean: dict[str, list[str]] = {}
    for language, words in value.items():
        where = f"{field}.{language}"
        if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
            raise TaxonomyInvalid(
                f"{field}: {str(language)[:20]!r} is not a language code such as en or cy.",
                field=field,
            )
        if isinstance(words, str) or not isinstance(words, Sequence):
            raise TaxonomyInvalid(f"{where} must be a list of words.", field=where)
        kept: list[str] = []
        for word in words:
            word = _text(word, where, limit=MAX_KEYWORD).lower()
            if not word.strip("= "):
                continue
            if word not in kept:
                kept.append(word)
        if len(kept) > MAX_KEYWORDS:
            raise TaxonomyInvalid(f"{where}: at most {MAX_KEYWORDS} words.", field=where)
        if kept:
            clean[language] = kept
    return clean


def clean_descriptions(value, field: str = "descriptions") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TaxonomyInvalid(f"{field} must be a list of sentences.", field=field)
    kept: list[str] = []
    for sentence in value:
        sentence = _text(sentence, field, limit=MAX_DESCRIPTION)
        if sentence and sentence not in kept:
            kept.append(sentence)
    if len(kept) > MAX_DESCRIPTIONS:
        raise TaxonomyInvalid(f"{field}: at most {MAX_DESCRIPTIONS} sentences.", field=field)
    return kept


def _clean_topic(raw, prefix: str = "") -> dict:
    if not isinstance(raw, Mapping):
        raise TaxonomyInvalid(f"{prefix or 'topic'} must be an object.", field=prefix or "topic")
    unknown = sorted(set(raw) - {"id", "name", "keywords", "descriptions"})
    if unknown:
        raise TaxonomyInvalid(f"Unknown field {unknown[0]!r}.", field=prefix + str(unknown[0]))
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not TOPIC_ID.fullmatch(topic_id):
        raise TaxonomyInvalid(
            f"{prefix}id: lower-case letters, digits and _, starting with a letter.",
            field=prefix + "id",
        )
    return {
        "id": topic_id,
        "name": _text(raw.get("name"), prefix + "name", limit=MAX_NAME, required=True),
        "keywords": clean_keywords(raw.get("keywords"), prefix + "keywords"),
        "descriptions": clean_descriptions(raw.get("descriptions"), prefix + "descriptions"),
    }


def clean_topics(raw) -> list[dict]:
    """A whole taxonomy, checked field by field (`topics.3.name`) and then by the library."""
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise TaxonomyInvalid("topics must be a list of topics.", field="topics")
    if len(raw) > MAX_TOPICS:
        raise TaxonomyInvalid(f"topics: at most {MAX_TOPICS}.", field="topics")
    if not raw:
        raise TaxonomyInvalid(_NONE_LEFT, field="topics")
    topics = [_clean_topic(item, f"topics.{i}.") for i, item in enumerate(raw)]
    seen: set[str] = set()
    for i, topic in enumerate(topics):
        if topic["id"] in seen:
            raise TaxonomyInvalid(
                f"topics.{i}.id: {topic['id']!r} is used by another topic.", field=f"topics.{i}.id"
            )
        seen.add(topic["id"])
    return _library_checked(topics)


def _library_checked(topics: list[dict]) -> list[dict]:
    try:
        return facade.clean_taxonomy(topics)
    except ValueError as exc:
        raise TaxonomyInvalid(f"topics: {exc}", field="topics") from None


def topic_id_for(name: str, taken: set[str]) -> str:
    """A topic id from a name: ASCII letters, digits and _, unique among `taken`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = slugify(ascii_name).replace("-", "_")[:MAX_ID].strip("_") or "topic"
    if not base[0].isalpha():
        base = f"topic_{base}"[:MAX_ID]
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base[: MAX_ID - 4]}_{number}"
        number += 1
    return candidate


def parse_keywords(text: str) -> dict[str, list[str]]:
    """Keywords as a person types them: one line per language, `en: staff, rude, waiter`."""
    found: dict[str, list[str]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        language, sep, words = line.partition(":")
        language = language.strip().lower()
        if not sep or not LANGUAGE.fullmatch(language):
            raise TaxonomyInvalid(
                f"keywords, line {number}: start with a language code, e.g. “en: staff, rude”.",
                field="keywords",
            )
        found.setdefault(language, []).extend(w.strip() for w in words.split(",") if w.strip())
    return clean_keywords(found)


def format_keywords(keywords: Mapping[str, Sequence[str]]) -> str:
    return "\n".join(f"{language}: {', '.join(words)}" for language, words in keywords.items())


# --- writes ------------------------------------------------------------------------------------


def _settings_for_update(actor: Actor) -> TextSettings:
    _require_editor(actor)
    settings = text_settings_stored(actor.brand)
    return TextSettings.objects.select_for_update().get(pk=settings.pk)


def _store(
    actor: Actor, settings: TextSettings, topics: list[dict], *, action: str, summary: str
) -> TextSettings:
    """Save the taxonomy (the seed's copy from the first edit on) and re-analyse everything."""
    if not topics:  # stored empty, it would read as the seed
        raise TaxonomyInvalid(_NONE_LEFT, field="topic")
    before = taxonomy_of(settings)
    settings.taxonomy = _library_checked(topics)
    settings.save(update_fields=["taxonomy"])
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action=action,
        obj=settings,
        summary=summary,
        changes={"topics": [[t["id"] for t in before], [t["id"] for t in settings.taxonomy]]},
    )
    return text_settings_changed(settings=settings)


def _position(topics: list[dict], topic_id: str) -> int:
    for position, topic in enumerate(topics):
        if topic["id"] == topic_id:
            return position
    raise NotFound("No such topic.", field="topic")


@transaction.atomic
def text_settings_update(
    *, actor: Actor, redact_pii: bool | None = None, mode: str | None = None
) -> TextSettings:
    """Redaction (display and export only) and the analysis mode (re-analyses everything)."""
    settings = _settings_for_update(actor)
    changes: dict[str, list] = {}
    if redact_pii is not None:
        if not isinstance(redact_pii, bool):
            raise TaxonomyInvalid("redact_pii must be true or false.", field="redact_pii")
        if redact_pii != settings.redact_pii:
            changes["redact_pii"] = [settings.redact_pii, redact_pii]
            settings.redact_pii = redact_pii
    if mode is not None:
        if mode not in TextSettings.Mode.values:
            choices = ", ".join(TextSettings.Mode.values)
            raise TaxonomyInvalid(f"mode must be one of {choices}.", field="mode")
        if mode != settings.mode:
            changes["mode"] = [settings.mode, mode]
            settings.mode = mode
            # A sentiment adapter fits one mode's embeddings only: it goes with the old mode.
            settings.adapter, settings.adapter_trained_at, settings.adapter_examples = None, None, 0
    if not changes:
        return settings
    settings.save(
        update_fields=["redact_pii", "mode", "adapter", "adapter_trained_at", "adapter_examples"]
    )
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="text_settings.update",
        obj=settings,
        summary="Text analytics settings changed",
        changes=changes,
    )
    if "mode" in changes:
        settings = text_settings_changed(settings=settings)
    return settings


@transaction.atomic
def topic_create(
    *,
    actor: Actor,
    name: str,
    keywords: Mapping[str, Sequence[str]] | None = None,
    descriptions: Sequence[str] = (),
    topic_id: str | None = None,
) -> dict:
    """Add a topic at the end of the brand's taxonomy; its id comes from the name if not given."""
    settings = _settings_for_update(actor)
    topics = taxonomy_of(settings)
    if len(topics) >= MAX_TOPICS:
        raise TaxonomyInvalid(f"A taxonomy may have at most {MAX_TOPICS} topics.", field="name")
    name = _text(name, "name", limit=MAX_NAME, required=True)
    taken = {t["id"] for t in topics}
    if topic_id is None:
        topic_id = topic_id_for(name, taken)
    elif topic_id in taken:
        raise TaxonomyInvalid(f"id: {topic_id!r} is used by another topic.", field="id")
    topic = _clean_topic(
        {"id": topic_id, "name": name, "keywords": keywords, "descriptions": descriptions}
    )
    _store(
        actor,
        settings,
        [*topics, topic],
        action="taxonomy.topic_create",
        summary=f"Topic “{topic['name']}” added",
    )
    return topic


@transaction.atomic
def topic_update(
    *,
    actor: Actor,
    topic_id: str,
    name: str | None = None,
    keywords: Mapping[str, Sequence[str]] | None = None,
    descriptions: Sequence[str] | None = None,
) -> dict:
    """Change a topic's name, keywords or descriptions (those given); its id stays."""
    settings = _settings_for_update(actor)
    topics = taxonomy_of(settings)
    position = _position(topics, topic_id)
    current = topics[position]
    topic = _clean_topic(
        {
            "id": topic_id,
            "name": current["name"] if name is None else name,
            "keywords": current["keywords"] if keywords is None else keywords,
            "descriptions": current["descriptions"] if descriptions is None else descriptions,
        }
    )
    if topic == current:
        return topic
    topics[position] = topic
    _store(
        actor,
        settings,
        topics,
        action="taxonomy.topic_update",
        summary=f"Topic “{topic['name']}” changed",
    )
    return topic


@transaction.atomic
def topic_delete(*, actor: Actor, topic_id: str) -> None:
    """Remove a topic; items lose it at once (corrections naming it included)."""
    settings = _settings_for_update(actor)
    topics = taxonomy_of(settings)
    removed = topics.pop(_position(topics, topic_id))
    FeedbackTopic.objects.filter(brand=actor.brand, topic=topic_id).delete()
    _store(
        actor,
        settings,
        topics,
        action="taxonomy.topic_delete",
        summary=f"Topic “{removed['name']}” deleted",
    )


@transaction.atomic
def taxonomy_reorder(*, actor: Actor, order: Sequence[str]) -> list[dict]:
    """Put the topics in `order` (every topic id once)."""
    settings = _settings_for_update(actor)
    topics = taxonomy_of(settings)
    by_id = {t["id"]: t for t in topics}
    if isinstance(order, str) or sorted(order) != sorted(by_id):
        raise TaxonomyInvalid("order must name every topic once.", field="order")
    reordered = [by_id[topic_id] for topic_id in order]
    if reordered != topics:
        _store(actor, settings, reordered, action="taxonomy.reorder", summary="Topics reordered")
    return reordered


def topic_move(*, actor: Actor, topic_id: str, offset: int) -> list[dict]:
    """Move a topic `offset` places (-1: up, 1: down), within the list."""
    ids = [t["id"] for t in taxonomy_get(actor)]
    if topic_id not in ids:
        raise NotFound("No such topic.", field="topic")
    position = ids.index(topic_id)
    ids.pop(position)
    ids.insert(max(0, min(len(ids), position + offset)), topic_id)
    return taxonomy_reorder(actor=actor, order=ids)


@transaction.atomic
def taxonomy_replace(*, actor: Actor, topics) -> list[dict]:
    """Store a whole taxonomy (the API's PUT), validated field by field."""
    settings = _settings_for_update(actor)
    clean = clean_topics(topics)
    if clean != taxonomy_of(settings):
        kept = {t["id"] for t in clean}
        FeedbackTopic.objects.filter(brand=actor.brand).exclude(topic__in=kept).delete()
        _store(actor, settings, clean, action="taxonomy.replace", summary="Taxonomy replaced")
    return clean


@transaction.atomic
def taxonomy_reset(*, actor: Actor) -> TextSettings:
    """Back to the seeded CX topics."""
    settings = _settings_for_update(actor)
    if not settings.taxonomy:
        return settings
    seed_ids = {t["id"] for t in facade.seed_taxonomy()}
    FeedbackTopic.objects.filter(brand=actor.brand).exclude(topic__in=seed_ids).delete()
    before = [t["id"] for t in settings.taxonomy]
    settings.taxonomy = None
    settings.save(update_fields=["taxonomy"])
    audit_record(
        actor_user=actor.user,
        brand=actor.brand,
        action="taxonomy.reset",
        obj=settings,
        summary="Topics reset to the seeded CX topics",
        changes={"topics": [before, sorted(seed_ids)]},
    )
    return text_settings_changed(settings=settings)


# --- emerging themes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeFound:
    size: int
    item_ids: tuple[int, ...]
    representative_ids: tuple[int, ...]  # nearest the cluster's centre first
    suggested_names: tuple[str, ...]
    cohesion: float
    language: str

    def as_dict(self) -> dict:
        return {
            "size": self.size,
            "item_ids": list(self.item_ids),
            "representative_ids": list(self.representative_ids),
            "suggested_names": list(self.suggested_names),
            "cohesion": self.cohesion,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, raw: Mapping) -> "ThemeFound":
        return cls(
            size=int(raw["size"]),
            item_ids=tuple(int(pk) for pk in raw["item_ids"]),
            representative_ids=tuple(int(pk) for pk in raw["representative_ids"]),
            suggested_names=tuple(str(name) for name in raw["suggested_names"]),
            cohesion=float(raw["cohesion"]),
            language=str(raw["language"]),
        )


@dataclass(frozen=True)
class Discovery:
    themes: tuple[ThemeFound, ...]
    considered: int  # items clustered (the most recent `limit` without a topic)
    days: int


def _bounded(value, field: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AppError(f"{field} must be a whole number from {low} to {high}.", field=field)
    return value


def _item_text(item: FeedbackItem) -> str:
    return " ".join(part for part in (item.title, item.text) if part).strip()


def untopiced_items(actor: Actor, *, days: int = 90, limit: int = 2000) -> list[FeedbackItem]:
    """The most recent analysed items of the last `days` that no topic caught, with text."""
    _require_reader(actor)
    since = timezone.now() - timedelta(days=_bounded(days, "days", DISCOVERY_DAYS))
    limit = _bounded(limit, "limit", DISCOVERY_LIMIT)
    items = (
        feedback_visible_to(actor)
        .filter(occurred_at__gte=since, analysed_at__isnull=False, topic_rows__isnull=True)
        .exclude(text="", title="")
        .only("pk", "title", "text", "language")
        .order_by("-occurred_at", "-pk")
    )
    return [item for item in items[:limit] if _item_text(item)]


def themes_discover(actor: Actor, *, days: int = 90, limit: int = 2000) -> Discovery:
    """Emerging themes among the items no topic caught, with their item ids (done at once)."""
    _require_editor(actor)
    items = untopiced_items(actor, days=days, limit=limit)
    settings = text_settings_of(actor.brand)
    fallback = actor.brand.default_language or "en"
    themes = facade.discover_themes(
        [_item_text(item) for item in items],
        languages=[item.language or fallback for item in items],
        mode=settings.mode,
    )
    return Discovery(
        themes=tuple(
            ThemeFound(
                size=theme.size,
                item_ids=tuple(items[i].pk for i in theme.members),
                representative_ids=tuple(items[i].pk for i in theme.representatives),
                suggested_names=theme.suggested_names,
                cohesion=theme.cohesion,
                language=theme.language,
            )
            for theme in themes
        ),
        considered=len(items),
        days=days,
    )


def themes_discover_start(*, actor: Actor, days: int = 90, limit: int = 2000) -> str:
    """Queue the discovery as a background task; the id of its result."""
    from .taxonomy_tasks import discover_themes

    _require_editor(actor)
    _bounded(days, "days", DISCOVERY_DAYS)
    _bounded(limit, "limit", DISCOVERY_LIMIT)
    return str(discover_themes.enqueue(actor.brand.pk, actor.user.pk, days, limit).id)


def discovery_as_dict(discovery: Discovery) -> dict:
    """What the task returns (stored by the task backend): ids and names, never the texts."""
    return {
        "themes": [theme.as_dict() for theme in discovery.themes],
        "considered": discovery.considered,
        "days": discovery.days,
    }


@dataclass(frozen=True)
class DiscoveryState:
    status: str  # pending | done | failed
    discovery: Discovery | None = None


def themes_discovery_get(actor: Actor, *, result_id: str) -> DiscoveryState:
    """A discovery started for the actor's brand: still running, done (with themes) or failed."""
    from django_tasks import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

    from .taxonomy_tasks import discover_themes

    _require_editor(actor)
    try:
        result = discover_themes.get_result(result_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValueError, NotImplementedError):
        raise NotFound("No such discovery.", field="discovery") from None
    if not result.args or result.args[0] != actor.brand.pk:
        raise NotFound("No such discovery.", field="discovery")
    if result.status == TaskResultStatus.SUCCESSFUL:
        raw = result.return_value
        return DiscoveryState(
            status="done",
            discovery=Discovery(
                themes=tuple(ThemeFound.from_dict(theme) for theme in raw["themes"]),
                considered=int(raw["considered"]),
                days=int(raw["days"]),
            ),
        )
    if result.status == TaskResultStatus.FAILED:
        return DiscoveryState(status="failed")
    return DiscoveryState(status="pending")


@transaction.atomic
def theme_adopt(
    *,
    actor: Actor,
    name: str,
    keywords_by_language: Mapping[str, Sequence[str]] | None = None,
    description_texts: Sequence[str] = (),
) -> dict:
    """Adopt an emerging theme as a topic: the person's name and keywords, and the theme's
    representative comments as descriptions (their embeddings make the topic's prototype),
    kept without e-mail addresses, phone or card numbers. Re-analysis then assigns it across
    languages."""
    texts = [
        " ".join(facade.redact_pii(text).split())[:MAX_DESCRIPTION]
        for text in description_texts
        if isinstance(text, str) and text.strip()
    ]
    return topic_create(
        actor=actor,
        name=name,
        keywords=keywords_by_language or {},
        descriptions=texts[:MAX_DESCRIPTIONS],
    )
