"""Survey definitions as documents (YAML or JSON), so surveys can live in version control.

`parse_definition` reads a document into a checked `SurveySpec`; every error names the file, the
line (YAML and JSON alike) and the field. `spec_of` turns a stored survey back into the same
document shape, so export → import is a round trip. Writing the spec to the database is
`services.survey_import`.
"""

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opencx.insights import facade
from opencx.platform.errors import AppError
from opencx.platform.numbers import whole_number

from .models import Survey

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
MAX_QUESTIONS = 50
MAX_TEXT = 2000
LIBRARY_DIR = Path(__file__).parent / "library"

KIND_SCALES = {"nps": [(0, 10)], "csat": [(1, 3), (1, 5), (1, 7), (1, 10)], "ces": [(1, 5), (1, 7)]}

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
Texts = dict[LanguageCode, Annotated[str, Field(max_length=MAX_TEXT)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OptionSpec(_Strict):
    value: str = Field(pattern=KEY_PATTERN, max_length=40)
    label: Texts


class ShowIfSpec(_Strict):
    question: str = Field(pattern=KEY_PATTERN, max_length=40)
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class QuestionSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN, max_length=40)
    kind: Literal["nps", "csat", "ces", "rating", "single", "multiple", "text", "consent"]
    text: Texts
    required: bool = False
    scale: tuple[int, int] | None = None
    polarity: Literal["higher_better", "lower_better"] | None = None
    satisfied: list[int] | None = None
    scale_labels: dict[str, Texts] = Field(default_factory=dict)
    options: list[OptionSpec] = Field(default_factory=list, max_length=30)
    show_if: ShowIfSpec | None = None

    @field_validator("scale_labels", mode="before")
    @classmethod
    def _points_as_text(cls, value):
        # YAML reads an unquoted `1:` key as a number; a point is a point either way.
        if isinstance(value, dict):
            return {
                str(point) if isinstance(point, int) else point: v for point, v in value.items()
            }
        return value

    @field_validator("text")
    @classmethod
    def _has_text(cls, value):
        if not value:
            raise ValueError("a question needs its text in at least one language")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        kind = self.kind
        if kind == "nps":
            if self.scale not in (None, (0, 10)):
                raise ValueError("an NPS question is always 0–10")
            self.scale = (0, 10)
        elif kind in ("csat", "ces", "rating"):
            if self.scale is None:
                raise ValueError(f"a {kind} question needs its scale, e.g. scale: [1, 5]")
            low, high = self.scale
            if kind in KIND_SCALES and (low, high) not in KIND_SCALES[kind]:
                allowed = ", ".join(f"{a}–{b}" for a, b in KIND_SCALES[kind])
                raise ValueError(f"a {kind} scale is one of {allowed}, not {low}–{high}")
            if low >= high or high - low > 10:
                raise ValueError(f"scale {low}–{high} must rise, by at most 10 points")
        elif self.scale is not None or self.satisfied is not None:
            raise ValueError(f"a {kind} question has no scale")
        if kind == "ces" and self.polarity is None:
            raise ValueError(
                "a CES question needs its polarity (higher_better or lower_better): "
                "the direction is never assumed"
            )
        if kind in ("single", "multiple"):
            if len(self.options) < 2:
                raise ValueError(f"a {kind} choice question needs at least two options")
            values = [option.value for option in self.options]
            if len(set(values)) != len(values):
                raise ValueError("option values must be unique")
        elif self.options:
            raise ValueError(f"a {kind} question has no options")
        if self.scale is not None:
            self.satisfied = self._satisfied_set()
            for point in self.scale_labels:
                low, high = self.scale
                number = whole_number(point, signed=True)
                if number is None or not low <= number <= high:
                    raise ValueError(f"scale label {point!r} is not a point of the scale")
        elif self.scale_labels:
            raise ValueError(f"a {kind} question has no scale to label")
        return self

    def _satisfied_set(self) -> list[int]:
        low, high = self.scale
        if self.satisfied is not None:
            outside = [p for p in self.satisfied if not low <= p <= high]
            if outside:
                raise ValueError(f"satisfied point(s) {outside} lie outside {low}–{high}")
            if len(set(self.satisfied)) == high - low + 1:
                raise ValueError("the satisfied set covers the whole scale")
            return sorted(set(self.satisfied))
        if self.kind == "rating":
            raise ValueError("a rating question needs its satisfied points, e.g. satisfied: [4, 5]")
        return facade.default_satisfied(
            self.kind, low, high, higher_is_better=self.polarity != "lower_better"
        )


class InvitationSpec(_Strict):
    subject: Texts = Field(default_factory=dict)
    body: Texts = Field(default_factory=dict)
    sms: Texts = Field(default_factory=dict)


class SurveySpec(_Strict):
    slug: str = Field(pattern=KEY_PATTERN, max_length=80)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["nps", "csat", "ces", "custom"]
    default_language: str = Field(pattern=r"^[a-z]{2,3}$")
    languages: list[LanguageCode] = Field(default_factory=list)
    touchpoint: str | None = Field(default=None, max_length=64)
    intro: Texts = Field(default_factory=dict)
    thank_you: Texts = Field(default_factory=dict)
    invitation: InvitationSpec = Field(default_factory=InvitationSpec)
    review_invite_min: int | None = None
    reminder_days: int | None = Field(default=None, ge=1, le=60)
    quota: int | None = Field(default=None, ge=1)
    is_active: bool = True
    questions: list[QuestionSpec] = Field(min_length=1, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _consistent(self):
        keys = [question.key for question in self.questions]
        duplicate = next((key for key in keys if keys.count(key) > 1), None)
        if duplicate:
            raise ValueError(f"question key {duplicate!r} is used twice")
        if self.default_language not in self.languages:
            self.languages = [self.default_language, *self.languages]
        scaled = {q.key: q for q in self.questions if q.scale is not None}
        for position, question in enumerate(self.questions):
            if question.show_if is None:
                continue
            target = scaled.get(question.show_if.question)
            if target is None or keys.index(target.key) >= position:
                raise ValueError(
                    f"question {question.key!r} branches on {question.show_if.question!r}, "
                    "which must be an earlier scored question"
                )
        if self.kind != "custom" and not any(q.kind == self.kind for q in self.questions):
            raise ValueError(f"a {self.kind} survey needs a {self.kind} question")
        for question in self.questions:
            missing = [code for code in self.languages if code not in question.text]
            if missing:
                raise ValueError(
                    f"question {question.key!r} has no text in {', '.join(missing)} "
                    "(every survey language needs every question's text)"
                )
        return self


def parse_definition(text: str, *, source: str = "definition", fmt: str = "") -> SurveySpec:
    """A checked spec from a YAML or JSON document; errors name source, line and field."""
    fmt = fmt or ("json" if text.lstrip().startswith("{") else "yaml")
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise AppError(f"{source}, line {error.lineno}: not valid JSON: {error.msg}.") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise AppError(f"{source}{where}: {problem}.") from error
    except (ValueError, RecursionError) as error:  # a date like 2001-13-01; nesting too deep
        raise AppError(f"{source}: not a valid {fmt.upper()} document: {error}.") from error
    if not isinstance(data, dict):
        raise AppError(f"{source}: a survey definition is a mapping of fields.")
    try:
        return SurveySpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path = [str(part) for part in first["loc"]]
        line = _line_of(text, fmt, path)
        where = f", line {line}" if line else ""
        field = ".".join(path) or "definition"
        message = first["msg"].removeprefix("Value error, ")
        raise AppError(f"{source}{where}: {field}: {message}.", field=field) from error


def _line_of(text: str, fmt: str, path: list[str]) -> int | None:
    """The 1-based line where `path` (keys and list indexes) sits in the document, if found."""
    # JSON is YAML for this purpose: the composer gives positions for both.
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == part), None)
            if match is None:
                break
            node = match
        elif (
            isinstance(node, yaml.SequenceNode)
            and (index := whole_number(part)) is not None
            and index < len(node.value)
        ):
            node = node.value[index]
        else:
            break
        line = node.start_mark.line + 1
    return line


def spec_of(survey: Survey) -> dict[str, Any]:
    """The survey as a definition document (plain data, ready for YAML or JSON)."""
    questions = []
    for question in survey.questions.order_by("position", "pk"):
        item: dict[str, Any] = {"key": question.key, "kind": question.kind, "text": question.text}
        if question.required:
            item["required"] = True
        if question.is_scaled:
            item["scale"] = [question.scale_min, question.scale_max]
            item["satisfied"] = list(question.satisfied_values)
            if question.kind in ("ces", "rating") or question.polarity != "higher_better":
                item["polarity"] = question.polarity
        if question.scale_labels:
            item["scale_labels"] = question.scale_labels
        if question.options:
            item["options"] = question.options
        if question.show_if:
            item["show_if"] = question.show_if
        questions.append(item)
    document: dict[str, Any] = {
        "slug": survey.slug,
        "name": survey.name,
        "kind": survey.kind,
        "default_language": survey.default_language,
        "languages": survey.all_languages,
    }
    if survey.touchpoint_id:
        document["touchpoint"] = survey.touchpoint.key
    for name in ("intro", "thank_you"):
        if getattr(survey, name):
            document[name] = getattr(survey, name)
    invitation = {
        key: value
        for key, value in (
            ("subject", survey.invitation_subject),
            ("body", survey.invitation_body),
            ("sms", survey.sms_body),
        )
        if value
    }
    if invitation:
        document["invitation"] = invitation
    for name in ("review_invite_min", "reminder_days", "quota"):
        if getattr(survey, name) is not None:
            document[name] = getattr(survey, name)
    if not survey.is_active:
        document["is_active"] = False
    document["questions"] = questions
    return document


def dump_definition(document: dict[str, Any], fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def library() -> dict[str, SurveySpec]:
    """The shipped templates (NPS, CSAT after support, ...), by slug."""
    specs = {}
    for path in sorted(LIBRARY_DIR.glob("*.yaml")):
        spec = parse_definition(path.read_text(encoding="utf-8"), source=path.name, fmt="yaml")
        specs[spec.slug] = spec
    return specs


def slug_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "survey"
