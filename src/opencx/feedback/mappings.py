"""Column mappings: which field of a record becomes which field of a feedback item, and how it
is read. A mapping is plain data (JSON-able), so a ready one, a user's file, the `--map col=field`
options and the mapping screen all produce the same thing:

    {"name": "trustpilot", "source": "trustpilot", "kind": "review", "timezone": "UTC",
     "rating_scale": 5, "defaults": {"touchpoint": "reviews", "channel": "trustpilot"},
     "fields": {"external_id": "Review ID",
                "occurred_at": {"column": "Review Created (UTC)"},
                "text": ["Review Content", "text"],
                "title": {"columns": ["Subject", "Summary"], "join": " — "},
                "rating": {"column": "Satisfaction", "map": {"good": 1, "bad": 0}, "scale": 1}}}

A field names a column (or a dotted path into nested JSON: `reviewer.displayName`,
`data.0.comment.author`), a list of columns (the first that has a value wins), `columns` + `join`
(the values joined), or `value` (a constant). Each target field has its parser; options beside
the column tune it (`format`, `dayfirst`, `timezone` for dates; `scale`, `min`, `map` for
ratings). Reading a record never touches the database: locations, touchpoints and channels come
out as the text to look up, and the import resolves them.
"""

import copy
import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as date_parser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from opencx.contacts.services import normalise_email, normalise_phone
from opencx.platform.errors import AppError

from .models import FeedbackItem
from .ready_mappings import READY_MAPPINGS

# The fields a mapping may fill, and what each holds.
TARGETS = {
    "external_id": "The item's id at the source (re-imports and re-deliveries match on it)",
    "occurred_at": "When the customer wrote it (date and time; required)",
    "author": "The author's name as shown",
    "email": "The author's e-mail address (finds or makes the contact)",
    "phone": "The author's phone number, international form (finds or makes the contact)",
    "handle": "The author's handle on a social network (finds the contact)",
    "rating": "Rating: 4, 4.5, '4/5', '★★★★☆', FOUR; on the mapping's scale",
    "rating_scale": "The scale of this row's rating (5, 10...), when rows differ",
    "title": "Title or subject",
    "text": "What the customer said",
    "language": "Language code (en, it, pt-br...)",
    "url": "Link to the item at the source",
    "location": "Location code or name",
    "touchpoint": "Touchpoint key or name",
    "channel": "Channel kind or name",
    "kind": "review, mention, ticket, email or chat (per row; else the mapping's kind)",
}
REQUIRED = ("occurred_at",)
MAX_TEXT = 100_000
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")
_GOOGLE_TRANSLATED = re.compile(
    r"^\(Translated by Google\).*?\n\s*\(Original\)\s*(?P<original>.*)$", re.S
)
_url = URLValidator(schemes=["http", "https"])


@dataclass
class Mapping:
    name: str
    source: str
    kind: str
    fields: dict
    timezone: str = ""
    rating_scale: int = 5
    defaults: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "kind": self.kind,
            "timezone": self.timezone,
            "rating_scale": self.rating_scale,
            "defaults": self.defaults,
            "fields": self.fields,
        }


def ready_mapping_names() -> list[str]:
    return sorted(READY_MAPPINGS)


def mapping_from_dict(data: dict, *, overrides: list[str] = ()) -> Mapping:
    """A checked mapping from plain data (a ready one's name in `based_on` is merged under it),
    with `col=field` overrides on top; AppError naming the field otherwise."""
    if not isinstance(data, dict):
        raise AppError("A mapping is an object with 'fields'.", field="mapping")
    data = copy.deepcopy(data)
    base_name = data.pop("based_on", "") or ""
    if base_name:
        if base_name not in READY_MAPPINGS:
            raise AppError(
                f"No ready mapping {base_name!r}: one of {', '.join(ready_mapping_names())}.",
                field="based_on",
            )
        base = copy.deepcopy(READY_MAPPINGS[base_name])
        fields = {**base.get("fields", {}), **(data.pop("fields", None) or {})}
        defaults = {**base.get("defaults", {}), **(data.pop("defaults", None) or {})}
        data = {**base, **data, "fields": fields, "defaults": defaults}
        data.setdefault("name", base_name)
    fields = dict(data.get("fields") or {})
    for item in overrides:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise AppError(f"--map {item!r}: write it as COLUMN=FIELD.", field="map")
        fields[target.strip()] = column.strip()
    for target, spec in fields.items():
        if target not in TARGETS:
            raise AppError(
                f"Unknown field {target!r}: one of {', '.join(TARGETS)}.", field=f"fields.{target}"
            )
        _check_spec(target, spec)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or any(k not in TARGETS for k in defaults):
        raise AppError(f"Defaults name fields of: {', '.join(TARGETS)}.", field="defaults")
    kind = str(data.get("kind") or FeedbackItem.Kind.REVIEW)
    if kind not in FeedbackItem.Kind.values:
        raise AppError(
            f"Unknown kind {kind!r}: one of {', '.join(FeedbackItem.Kind.values)}.", field="kind"
        )
    source = str(data.get("source") or "import").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,31}", source):
        raise AppError(
            f"Source {source!r}: up to 32 letters, digits, '-', '_' or '.'.", field="source"
        )
    timezone = str(data.get("timezone") or "")
    if timezone:
        _zone(timezone, field_name="timezone")
    scale = data.get("rating_scale", 5)
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale <= 100:
        raise AppError("The rating scale is a whole number from 1 to 100.", field="rating_scale")
    if "occurred_at" not in fields and "occurred_at" not in defaults:
        raise AppError("Map a column to occurred_at (when it was written).", field="occurred_at")
    if not ({"text", "rating", "title"} & set(fields)):
        raise AppError("Map a column to text or rating.", field="text")
    return Mapping(
        name=str(data.get("name") or "custom"),
        source=source,
        kind=kind,
        fields=fields,
        timezone=timezone,
        rating_scale=scale,
        defaults=defaults,
    )


def ready_mapping(name: str) -> Mapping:
    if name not in READY_MAPPINGS:
        raise AppError(
            f"No ready mapping {name!r}: one of {', '.join(ready_mapping_names())}.",
            field="mapping",
        )
    return mapping_from_dict({"based_on": name})


def _check_spec(target: str, spec) -> None:
    where = f"fields.{target}"
    if isinstance(spec, str) and spec:
        return
    if isinstance(spec, list) and spec and all(isinstance(c, str) and c for c in spec):
        return
    if isinstance(spec, dict) and ("column" in spec or "columns" in spec or "value" in spec):
        if "column" in spec:
            _check_spec(target, spec["column"])
        if "columns" in spec:
            _check_spec(target, spec["columns"])
        if "timezone" in spec:
            _zone(spec["timezone"], field_name=f"{where}.timezone")
        return
    raise AppError(
        f"{target}: name a column, a list of columns, or an object with 'column'.", field=where
    )


def _zone(name: str, *, field_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise AppError(f"Unknown time zone {name!r}.", field=field_name) from None


# --- reading a record -------------------------------------------------------------------------


class FieldError(Exception):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass
class Mapped:
    values: dict
    errors: list[dict]

    @property
    def ok(self) -> bool:
        return not self.errors


def lookup(data: dict, column: str):
    """A record's value by column name (exact, then ignoring case and surrounding blanks), or
    by a dotted path into nested objects and lists."""
    if column in data:
        return data[column]
    folded = column.strip().casefold()
    for key, value in data.items():
        if isinstance(key, str) and key.strip().casefold() == folded:
            return value
    if "." in column:
        value = data
        for part in column.split("."):
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _extract(data: dict, spec):
    if isinstance(spec, str):
        return lookup(data, spec)
    if isinstance(spec, list):
        for column in spec:
            value = lookup(data, column)
            if not _blank(value):
                return value
        return None
    if "value" in spec:
        return spec["value"]
    if "columns" in spec:
        parts = [lookup(data, column) for column in spec["columns"]]
        parts = [str(p).strip() for p in parts if not _blank(p)]
        return spec.get("join", "\n\n").join(parts) if parts else None
    return _extract(data, spec["column"])


def columns_of(spec) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return list(spec)
    if "columns" in spec:
        return list(spec["columns"])
    if "column" in spec:
        return columns_of(spec["column"])
    return []


def map_record(mapping: Mapping, data: dict, *, default_timezone: str = "UTC") -> Mapped:
    """The item's values from one record, or the errors that keep it out: [{field, reason}]."""
    values: dict = {"kind": mapping.kind, "source": mapping.source}
    errors: list[dict] = []
    tz_name = mapping.timezone or default_timezone
    specs = {target: {"value": value} for target, value in mapping.defaults.items()}
    specs.update(mapping.fields)
    for target, spec in specs.items():
        options = spec if isinstance(spec, dict) else {}
        try:
            raw = _extract(data, spec)
            if _blank(raw) and target in mapping.defaults:
                raw = mapping.defaults[target]  # the row has none: the mapping's default
            if _blank(raw):
                if target in REQUIRED:
                    named = ", ".join(repr(c) for c in columns_of(spec)) or "the default"
                    raise FieldError(target, f"missing (no value in {named})")
                continue
            values[target] = PARSERS[target](raw, options, mapping, tz_name)
        except FieldError as error:
            errors.append({"field": error.field, "reason": error.reason})
        except AppError as error:
            errors.append({"field": target, "reason": error.message.rstrip(".")})
    if "rating" in values and isinstance(values["rating"], tuple):
        values["rating"], scale = values["rating"]
        values.setdefault("rating_scale", scale)
    if values.get("rating") is not None:
        values.setdefault("rating_scale", mapping.rating_scale)
    if values.get("rating") is not None and values["rating"] > values["rating_scale"]:
        errors.append(
            {
                "field": "rating",
                "reason": f"{values['rating']} is above the scale's top ({values['rating_scale']})",
            }
        )
    if not errors and not values.get("text") and values.get("rating") is None:
        if values.get("title"):
            values["text"] = ""
        else:
            errors.append({"field": "text", "reason": "empty: no text, title or rating"})
    return Mapped(values, errors)


# --- parsers: (raw value, options, mapping, time zone name) -> value, or FieldError ------------


def _text(limit: int | None = None):
    def parse(raw, options, mapping, tz):
        if isinstance(raw, dict | list):
            raise FieldError(options.get("_field", "text"), "a nested object, not text")
        text = str(raw).strip()
        if options.get("html"):
            text = html.unescape(_TAGS.sub(" ", text)).strip()
        if options.get("google_original"):
            match = _GOOGLE_TRANSLATED.match(text)
            if match:
                text = match.group("original").strip()
        return text[:limit] if limit else text

    return parse


def parse_text(raw, options, mapping, tz):
    if isinstance(raw, list):  # a chat transcript: [{author, text, time}, ...]
        return _transcript(raw)
    text = _text()(raw, {**options, "_field": "text"}, mapping, tz)
    if len(text) > MAX_TEXT:
        raise FieldError("text", f"longer than {MAX_TEXT} characters")
    return text


def _transcript(messages: list) -> str:
    lines = []
    for message in messages:
        if isinstance(message, str):
            lines.append(message.strip())
            continue
        if not isinstance(message, dict):
            raise FieldError("text", "a transcript is a list of messages")
        who = next(
            (
                str(message[k]).strip()
                for k in ("author", "sender", "from", "name", "role")
                if not _blank(message.get(k)) and not isinstance(message.get(k), dict)
            ),
            "",
        )
        said = next(
            (
                str(message[k]).strip()
                for k in ("text", "message", "body", "content")
                if not _blank(message.get(k))
            ),
            "",
        )
        if said:
            lines.append(f"{who}: {said}" if who else said)
    text = "\n".join(lines)
    if len(text) > MAX_TEXT:
        raise FieldError("text", f"longer than {MAX_TEXT} characters")
    return text


def parse_external_id(raw, options, mapping, tz):
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    value = str(raw).strip()
    if len(value) > 128:
        raise FieldError("external_id", "longer than 128 characters")
    return value


def parse_datetime(raw, options, mapping, tz_name) -> datetime:
    zone = _zone(options.get("timezone") or tz_name, field_name="timezone")
    moment = _to_datetime(raw, options)
    if moment is None:
        raise FieldError("occurred_at", f"{str(raw)[:60]!r} is not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment > datetime.now(UTC) + FUTURE_SLACK:
        raise FieldError("occurred_at", f"{moment.isoformat()} is in the future")
    if moment < EARLIEST:
        raise FieldError("occurred_at", f"{moment.isoformat()} is before 1990")
    return moment


def _to_datetime(raw, options) -> datetime | None:
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float) or (isinstance(raw, str) and re.fullmatch(r"\d{9,13}", raw)):
        number = float(raw)
        if number > 1e11:  # milliseconds
            number /= 1000
        try:
            return datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(raw, dict):  # {"timestamp": 1690000000} (Instagram), {"$date": ...}
        for key in ("timestamp", "$date", "date", "value"):
            if key in raw:
                return _to_datetime(raw[key], options)
        return None
    text = str(raw).strip()
    if not text:
        return None
    if options.get("format"):
        try:
            return datetime.strptime(text, options["format"])
        except ValueError:
            return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    if re.match(r"^[A-Za-z]{3}, ", text) or re.search(r"[+-]\d{4}$", text):
        try:
            return parsedate_to_datetime(text)  # RFC 2822, e-mail Date headers
        except (TypeError, ValueError, IndexError):
            pass
    try:
        # X's "Wed Oct 10 20:19:24 +0000 2018", "05/03/2024 14:22", "5 March 2024"...
        return date_parser.parse(text, dayfirst=bool(options.get("dayfirst", True)))
    except (ValueError, OverflowError, TypeError):
        return None


def parse_rating(raw, options, mapping, tz):
    """A rating and its scale: 4 -> (4, scale); "4/5" -> (4, 5); "★★★★☆" -> (4, 5); FOUR -> 4."""
    scale = options.get("scale") or mapping.rating_scale
    if options.get("map"):
        table = {str(k).strip().casefold(): v for k, v in options["map"].items()}
        key = str(raw).strip().casefold()
        if key not in table:
            raise FieldError(
                "rating", f"{str(raw)[:40]!r} is not one of {', '.join(map(str, table))}"
            )
        if table[key] is None:
            return None
        raw = table[key]
    if isinstance(raw, bool):
        raise FieldError("rating", f"{raw!r} is not a rating")
    text = str(raw).strip()
    stars = text.count("★")
    if stars and set(text) <= {"★", "☆", " "}:
        return _rating(Decimal(stars), len(text.replace(" ", "")), options)
    word = text.casefold().replace("_", " ").removesuffix(" stars").removesuffix(" star")
    if word in _WORDS:
        return _rating(Decimal(_WORDS[word]), scale, options)
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(?:/|out of|of|von|sur|su|de)\s*(\d+)", text, re.I)
    if match:
        value = Decimal(match.group(1).replace(",", "."))
        return _rating(value, int(match.group(2)), options)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise FieldError("rating", f"{text[:40]!r} is not a rating") from None
    return _rating(value, scale, options)


def _rating(value: Decimal, scale: int, options) -> tuple[Decimal, int]:
    if not value.is_finite():
        raise FieldError("rating", f"{value} is not a rating")
    if not 1 <= scale <= 100:
        raise FieldError("rating", f"a scale of {scale} is not one of 1 to 100")
    low = options.get("min", 1 if scale == 5 else 0)
    if value < low or value > scale:
        raise FieldError("rating", f"{value} is outside the scale {low}–{scale}")
    return value.quantize(Decimal("0.01")), scale


def parse_scale(raw, options, mapping, tz):
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise FieldError("rating_scale", f"{str(raw)[:20]!r} is not a whole number") from None
    if not 1 <= value <= 100:
        raise FieldError("rating_scale", f"{value} is not from 1 to 100")
    return value


def parse_email(raw, options, mapping, tz):
    return normalise_email(str(raw))


def parse_phone(raw, options, mapping, tz):
    return normalise_phone(str(raw))


def parse_handle(raw, options, mapping, tz):
    handle = str(raw).strip().lstrip("@").lower()
    if len(handle) > 200 or not handle:
        raise FieldError("handle", "not a handle")
    return handle


def parse_language(raw, options, mapping, tz):
    code = str(raw).strip().lower().replace("_", "-")
    if not _LANGUAGE.fullmatch(code) or len(code) > 8:
        raise FieldError("language", f"{str(raw)[:20]!r} is not a language code")
    return code


def parse_url(raw, options, mapping, tz):
    url = str(raw).strip()
    try:
        _url(url)
    except ValidationError:
        raise FieldError("url", f"{url[:60]!r} is not a web address") from None
    if len(url) > 200:
        raise FieldError("url", "longer than 200 characters")
    return url


def parse_kind(raw, options, mapping, tz):
    kind = str(raw).strip().lower()
    if kind not in FeedbackItem.Kind.values:
        raise FieldError("kind", f"{kind!r} is not one of {', '.join(FeedbackItem.Kind.values)}")
    return kind


def parse_lookup(target):
    def parse(raw, options, mapping, tz):
        value = str(raw).strip()
        if len(value) > 200:
            raise FieldError(target, "longer than 200 characters")
        return value

    return parse


PARSERS = {
    "external_id": parse_external_id,
    "occurred_at": parse_datetime,
    "author": lambda raw, o, m, tz: _text(200)(raw, {**o, "_field": "author"}, m, tz),
    "email": parse_email,
    "phone": parse_phone,
    "handle": parse_handle,
    "rating": parse_rating,
    "rating_scale": parse_scale,
    "title": lambda raw, o, m, tz: _text(300)(raw, {**o, "_field": "title"}, m, tz),
    "text": parse_text,
    "language": parse_language,
    "url": parse_url,
    "location": parse_lookup("location"),
    "touchpoint": parse_lookup("touchpoint"),
    "channel": parse_lookup("channel"),
    "kind": parse_kind,
}


# --- identity and near-duplicates -------------------------------------------------------------


def normalised_text(text: str) -> str:
    """Text as compared for near-duplicates: case, accents' forms, punctuation and spacing
    do not matter."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _SPACE.sub(" ", _NOT_WORD.sub(" ", text)).strip()


def author_key(values: dict) -> str:
    for key in ("email", "phone", "handle"):
        if values.get(key):
            return f"{key}:{values[key]}"
    author = normalised_text(values.get("author", ""))
    return f"name:{author}" if author else ""


def derived_external_id(source: str, values: dict) -> str:
    """A stable id for a record that has none: the same record gives the same id, in any run."""
    moment = values.get("occurred_at")
    parts = [
        source,
        author_key(values),
        moment.astimezone(UTC).isoformat() if moment else "",
        normalised_text(values.get("title", "")),
        normalised_text(values.get("text", "")),
        str(values.get("rating") or ""),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"sha256:{digest[:40]}"


def fingerprint(values: dict) -> str:
    """Who said what, for near-duplicate detection; "" when there is no author or no text."""
    who, text = author_key(values), normalised_text(values.get("text", ""))
    if not who or not text:
        return ""
    return hashlib.sha256(f"{who}\x1f{text}".encode()).hexdigest()[:40]
