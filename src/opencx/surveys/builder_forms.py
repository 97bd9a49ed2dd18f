"""Forms of the survey builder. They never write anything themselves.

Each form turns what the author changed into a change of the survey's definition document
(`definitions.spec_of`); the views check that document with `check_spec` and hand it to
`services.survey_import`, the one write path with all its rules. Errors from either come back
with a dotted field ("name", "intro.cy", "questions.<key>.scale", ...) that `add_app_error`
places next to the form field it belongs to.
"""

import re
from typing import Any

from django import forms
from django.conf import settings
from pydantic import ValidationError

from opencx.platform.errors import AppError
from opencx.platform.numbers import whole_number

from .definitions import KEY_PATTERN, MAX_TEXT, SurveySpec
from .models import Question, Survey

SCALED_KINDS = sorted(Question.SCALED_KINDS)
CHOICE_KINDS = sorted(Question.CHOICE_KINDS)
MAX_UPLOAD_BYTES = 512 * 1024
TEMPLATE_ORDER = ("nps", "csat-support", "ces-returns", "post-purchase", "in-store-visit")
KEY_HELP = "Lower-case letters, digits, - and _; it names the answers in exports, so keep it."

# Words in a question-level validation message, and the part of the question they are about.
_QUESTION_HINTS = (
    ("polarity", "polarity"),
    ("satisfied", "satisfied"),
    ("scale label", "scale_labels"),
    ("0–10", "scale"),
    ("scale", "scale"),
    ("option", "options"),
    ("branches on", "show_if"),
    ("no text in", "text"),
    ("used twice", "key"),
)


def _hint(message: str) -> str:
    return next((field for words, field in _QUESTION_HINTS if words in message), "")


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ").strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def check_spec(document: dict[str, Any]) -> SurveySpec:
    """The checked spec of a definition document; AppError naming the field otherwise.

    Question fields are named by the question's key, as `survey_import` names them:
    `questions.<key>.<part>`.
    """
    try:
        return SurveySpec.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        path = [str(part) for part in first["loc"]]
        message = first["msg"]
        if first["type"] == "string_pattern_mismatch" and path[-1:] in (["key"], ["value"]):
            message = f"use lower-case letters, digits, - and _ (not {first['input']!r})"
        raise AppError(_sentence(message), field=_field_of(document, path, message)) from error


def _field_of(document: dict, path: list[str], message: str) -> str | None:
    questions = document.get("questions") or []
    if path[:1] == ["questions"] and len(path) > 1 and path[1].isdigit():
        index = int(path[1])
        key = questions[index].get("key", path[1]) if index < len(questions) else path[1]
        rest = path[2:] or [_hint(message)]
        return ".".join(["questions", str(key), *[part for part in rest if part]])
    if not path:
        named = re.search(r"question (?:key )?'([^']+)'", message)
        if named:
            return f"questions.{named.group(1)}.{_hint(message)}".rstrip(".")
        if "survey needs a" in message:
            return "kind"
        return None
    return ".".join(path)


def language_choices(extra=()) -> list[tuple[str, str]]:
    """The shipped interface languages, then any other code a survey already uses."""
    known = list(settings.LANGUAGES)
    codes = {code for code, _ in known}
    return known + [(code, code) for code in extra if code not in codes]


def _language_name(code: str) -> str:
    return dict(settings.LANGUAGES).get(code, code)


class _AppErrorForm(forms.Form):
    """A form that can show an AppError from `check_spec` or `survey_import`."""

    def field_for(self, dotted: str | None) -> str | None:  # pragma: no cover - overridden
        return None

    def add_app_error(self, error: AppError) -> None:
        field = self.field_for(error.field or "")
        if field not in self.fields:
            field = None
        self.add_error(field, error.message)

    def disable(self) -> None:
        """Read-only: for members who may look but not change."""
        for field in self.fields.values():
            field.disabled = True


def _int_list(text: str) -> list[int]:
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise forms.ValidationError("Write whole numbers separated by commas, e.g. 4, 5.") from None


def _lines(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def _split(line: str) -> tuple[str, str]:
    left, sep, right = line.partition("=")
    return (left.strip(), right.strip()) if sep else ("", line.strip())


class NewSurveyForm(_AppErrorForm):
    template = forms.ChoiceField(widget=forms.RadioSelect, label="Start from")
    name = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to use the template's name."
    )

    def __init__(self, *args, templates: dict[str, SurveySpec], **kwargs):
        super().__init__(*args, **kwargs)
        order = {slug: index for index, slug in enumerate(TEMPLATE_ORDER)}
        self.fields["template"].choices = [
            (slug, f"{spec.name} — {len(spec.questions)} questions, {spec.kind.upper()}")
            for slug, spec in sorted(templates.items(), key=lambda kv: order.get(kv[0], 99))
        ]
        if "nps" in templates:
            self.fields["template"].initial = "nps"

    def field_for(self, dotted):
        return {"template": "template", "name": "name"}.get(dotted or "")


class ImportForm(_AppErrorForm):
    file = forms.FileField(
        label="Definition file",
        help_text="A survey definition in YAML (.yaml, .yml) or JSON (.json), as exported.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,.json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name or "definition"
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in {"yaml", "yml", "json"}:
            raise forms.ValidationError(f"{name}: upload a .yaml, .yml or .json file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"{name}: a definition is at most {MAX_UPLOAD_BYTES // 1024} KB."
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(f"{name}: the file is not UTF-8 text.") from None
        self.cleaned_data["text"] = text
        self.cleaned_data["format"] = "json" if extension == "json" else "yaml"
        return upload

    def field_for(self, dotted):
        return "file"

    def add_app_error(self, error: AppError) -> None:
        """On the file field, naming the file (the service's rules do not know it)."""
        name = self.cleaned_data["file"].name
        message = error.message if error.message.startswith(name) else f"{name}: {error.message}"
        self.add_error("file", message)


class SurveySettingsForm(_AppErrorForm):
    """Name, languages, texts around the questions and collection rules of one survey.

    When languages are added, the form also asks for every question's text in them (a survey
    needs every question in every one of its languages).
    """

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(
        choices=Survey.Kind.choices,
        help_text="The headline: the first question of this kind gives the survey's score.",
    )
    touchpoint = forms.ChoiceField(required=False, help_text="Where customers answer it.")
    default_language = forms.ChoiceField(
        help_text="Used when the respondent's language is not one of the survey's."
    )
    languages = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Every question needs its text in each of them.",
    )
    review_invite_min = forms.IntegerField(
        required=False,
        label="Review invitation from score",
        help_text="Respondents scoring at least this are invited to review the location "
        "publicly. Empty: never.",
    )
    reminder_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=60,
        label="Reminder after (days)",
        help_text="Remind an unanswered invitation once. Empty: no reminder.",
    )
    quota = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="Stop accepting after this many complete responses. Empty: no limit.",
    )
    is_active = forms.BooleanField(required=False, label="Active (accepting responses)")

    def __init__(self, *args, survey: Survey, touchpoints=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = list(survey.questions.order_by("position", "pk"))
        choices = language_choices(survey.all_languages)
        self.fields["languages"].choices = choices
        self.fields["default_language"].choices = choices
        self.fields["touchpoint"].choices = [("", "—")] + [
            (touchpoint.key, touchpoint.name) for touchpoint in touchpoints
        ]
        if not self.is_bound:
            self.initial = self.initial_from(survey)
        self.text_languages = self._chosen_languages(choices)
        for code in self.text_languages:
            name = _language_name(code)
            self.fields[f"intro_{code}"] = forms.CharField(
                required=False,
                max_length=MAX_TEXT,
                label=f"Introduction ({name})",
                widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
            )
            self.fields[f"thank_you_{code}"] = forms.CharField(
                required=False,
                max_length=MAX_TEXT,
                label=f"Thank-you text ({name})",
                widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
            )
        # New languages: each question's text in it, asked here so one save is enough.
        self.new_languages = [
            code
            for code in self.text_languages
            if any(code not in (question.text or {}) for question in self.questions)
        ]
        for code in self.new_languages:
            for question in self.questions:
                if code in (question.text or {}):
                    continue
                default_text = question.text_in(survey.default_language, survey.default_language)
                self.fields[self.qtext_name(question.key, code)] = forms.CharField(
                    max_length=MAX_TEXT,
                    label=f"{question.key} ({_language_name(code)})",
                    help_text=f"In {survey.default_language}: {default_text}",
                    widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
                )

    @staticmethod
    def qtext_name(key: str, code: str) -> str:
        return f"qtext_{key}__{code}"

    @staticmethod
    def initial_from(survey: Survey) -> dict:
        initial = {
            "name": survey.name,
            "kind": survey.kind,
            "touchpoint": survey.touchpoint.key if survey.touchpoint_id else "",
            "default_language": survey.default_language,
            "languages": survey.all_languages,
            "review_invite_min": survey.review_invite_min,
            "reminder_days": survey.reminder_days,
            "quota": survey.quota,
            "is_active": survey.is_active,
        }
        for code in survey.all_languages:
            initial[f"intro_{code}"] = (survey.intro or {}).get(code, "")
            initial[f"thank_you_{code}"] = (survey.thank_you or {}).get(code, "")
        return initial

    def _chosen_languages(self, choices) -> list[str]:
        """The languages the texts are asked in: the default first, as chosen in the form."""
        valid = {code for code, _ in choices}
        if self.is_bound:
            default = self.data.get("default_language", "")
            chosen = [code for code in self.data.getlist("languages") if code in valid]
        else:
            default, chosen = self.survey.default_language, self.survey.all_languages
        ordered = [default] if default in valid else []
        return ordered + [code for code in chosen if code not in ordered]

    def text_fields(self):
        """(language name, intro field, thank-you field) for the template."""
        return [
            (_language_name(code), self[f"intro_{code}"], self[f"thank_you_{code}"])
            for code in self.text_languages
        ]

    def question_text_fields(self):
        return [self[name] for name in self.fields if name.startswith("qtext_")]

    def document(self, current: dict[str, Any]) -> dict[str, Any]:
        """The survey's definition document with this form's changes applied."""
        data = self.cleaned_data
        document = dict(current)
        languages = self.text_languages
        document.update(
            name=data["name"],
            kind=data["kind"],
            default_language=data["default_language"],
            languages=languages,
            review_invite_min=data["review_invite_min"],
            reminder_days=data["reminder_days"],
            quota=data["quota"],
            is_active=data["is_active"],
            intro={c: data[f"intro_{c}"] for c in languages if data.get(f"intro_{c}")},
            thank_you={c: data[f"thank_you_{c}"] for c in languages if data.get(f"thank_you_{c}")},
        )
        if data["touchpoint"]:
            document["touchpoint"] = data["touchpoint"]
        else:
            document.pop("touchpoint", None)
        questions = []
        for item in document.get("questions", []):
            item = {**item, "text": dict(item["text"])}
            for code in self.new_languages:
                name = self.qtext_name(item["key"], code)
                if name in data:
                    item["text"][code] = data[name]
            questions.append(item)
        document["questions"] = questions
        return document

    def field_for(self, dotted):
        parts = dotted.split(".")
        head = parts[0]
        if head in ("intro", "thank_you") and len(parts) > 1:
            return f"{head}_{parts[1]}"
        if head == "languages":
            return "languages"
        if head == "questions" and len(parts) > 3 and parts[2] == "text":
            return self.qtext_name(parts[1], parts[3])
        if head == "questions":
            return None
        return head


class QuestionForm(_AppErrorForm):
    """One question: its kind, key, texts per survey language, scale or options, branching."""

    kind = forms.ChoiceField(choices=Question.Kind.choices)
    key = forms.RegexField(regex=KEY_PATTERN, max_length=40, help_text=KEY_HELP)
    required = forms.BooleanField(required=False, help_text="Unticked: the respondent may skip it.")
    scale_min = forms.IntegerField(required=False, label="Lowest point")
    scale_max = forms.IntegerField(
        required=False,
        label="Highest point",
        help_text="NPS is always 0–10; CSAT 1–3, 1–5, 1–7 or 1–10; CES 1–5 or 1–7; "
        "a rating any scale of up to 11 points.",
    )
    polarity = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *Question.Polarity.choices],
        label="Direction",
        help_text="Needed for CES: which end of the scale is the good one.",
    )
    satisfied = forms.CharField(
        required=False,
        max_length=100,
        label="Satisfied answers",
        help_text="Points counted as satisfied, e.g. 4, 5. Empty: the standard set for "
        "NPS, CSAT and CES (a rating needs them).",
    )
    show_if_question = forms.ChoiceField(
        required=False,
        label="Ask only when",
        help_text="Branching: show this question only after a score in a range on an "
        "earlier scored question.",
    )
    show_if_min = forms.IntegerField(required=False, label="scores at least")
    show_if_max = forms.IntegerField(required=False, label="and at most")

    def __init__(self, *args, survey: Survey, question: dict | None, earlier: list[dict], **kw):
        """`question`: the item being edited (None: a new one); `earlier`: the items before it."""
        super().__init__(*args, **kw)
        self.survey = survey
        self.languages = survey.all_languages
        self.original_key = question["key"] if question else None
        self.fields["show_if_question"].choices = [("", "Always")] + [
            (item["key"], f"{item['key']} ({item['kind']})")
            for item in earlier
            if item["kind"] in Question.SCALED_KINDS
        ]
        for code in self.languages:
            name = _language_name(code)
            self.fields[f"text_{code}"] = forms.CharField(
                max_length=MAX_TEXT,
                label=f"Text ({name})",
                widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
            )
            self.fields[f"labels_{code}"] = forms.CharField(
                required=False,
                label=f"Scale labels ({name})",
                help_text="One per line: point = label, e.g. 1 = Very unsatisfied.",
                widget=forms.Textarea(attrs={"rows": 3, "lang": code}),
            )
            self.fields[f"options_{code}"] = forms.CharField(
                required=False,
                label=f"Options ({name})",
                help_text="One per line: value = label, e.g. price = Price."
                if code == survey.default_language
                else "Labels in the same order (or value = label).",
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
            )
        if not self.is_bound:
            self.initial = self.initial_from(question) if question else {"kind": "text"}

    def initial_from(self, item: dict) -> dict:
        scale = item.get("scale") or [None, None]
        show_if = item.get("show_if") or {}
        initial = {
            "kind": item["kind"],
            "key": item["key"],
            "required": item.get("required", False),
            "scale_min": scale[0],
            "scale_max": scale[1],
            "polarity": item.get("polarity", ""),
            "satisfied": ", ".join(str(p) for p in item.get("satisfied") or []),
            "show_if_question": show_if.get("question", ""),
            "show_if_min": show_if.get("min"),
            "show_if_max": show_if.get("max"),
        }
        labels = item.get("scale_labels") or {}
        points = sorted(labels, key=lambda p: whole_number(p, signed=True) or 0)
        for code in self.languages:
            initial[f"text_{code}"] = item["text"].get(code, "")
            initial[f"labels_{code}"] = "\n".join(
                f"{point} = {labels[point][code]}" for point in points if code in labels[point]
            )
            initial[f"options_{code}"] = "\n".join(
                f"{option['value']} = {option['label'][code]}"
                for option in item.get("options") or []
                if code in option["label"]
            )
        return initial

    def field_groups(self):
        """Per-language fields for the template: texts, scale labels, options."""
        return {
            "texts": [self[f"text_{code}"] for code in self.languages],
            "labels": [self[f"labels_{code}"] for code in self.languages],
            "options": [self[f"options_{code}"] for code in self.languages],
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        cleaned["satisfied_points"] = []
        if kind in Question.SCALED_KINDS:  # the other parts are hidden for other kinds
            try:
                cleaned["satisfied_points"] = _int_list(cleaned.get("satisfied", ""))
            except forms.ValidationError as error:
                self.add_error("satisfied", error)
            labels: dict[str, dict[str, str]] = {}
            for code in self.languages:
                name = f"labels_{code}"
                for number, line in _lines(cleaned.get(name, "")):
                    point, label = _split(line)
                    if whole_number(point, signed=True) is None or not label:
                        self.add_error(
                            name, f"Line {number}: write a point and its label, e.g. 1 = Poor."
                        )
                        break
                    labels.setdefault(str(whole_number(point, signed=True)), {})[code] = label
            cleaned["scale_labels"] = labels
        if kind in Question.CHOICE_KINDS:
            cleaned["options"] = self._options(cleaned)
        if cleaned.get("show_if_question"):
            for name in ("show_if_min", "show_if_max"):
                if cleaned.get(name) is None:
                    self.add_error(name, "Give the range of scores that shows this question.")
        return cleaned

    def _options(self, cleaned) -> list[dict]:
        default = self.survey.default_language
        options: list[dict] = []
        for _number, line in _lines(cleaned.get(f"options_{default}", "")):
            value, label = _split(line)
            value = value or re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
            options.append({"value": value, "label": {default: label or value}})
        by_value = {option["value"]: option for option in options}
        for code in self.languages:
            if code == default:
                continue
            name = f"options_{code}"
            for index, (number, line) in enumerate(_lines(cleaned.get(name, ""))):
                value, label = _split(line)
                if value:  # value = label
                    option = by_value.get(value)
                    problem = f"“{value}” is not one of the options." if option is None else ""
                else:  # labels in the order of the default language's options
                    option = options[index] if index < len(options) else None
                    problem = f"there are only {len(options)} options." if option is None else ""
                if problem:
                    self.add_error(name, f"Line {number}: {problem}")
                    break
                if label:
                    option["label"][code] = label
        return options

    def item(self) -> dict[str, Any]:
        """The question as a definition item (only the parts its kind has)."""
        data = self.cleaned_data
        kind = data["kind"]
        item: dict[str, Any] = {
            "key": data["key"],
            "kind": kind,
            "text": {code: data[f"text_{code}"] for code in self.languages},
        }
        if data["required"]:
            item["required"] = True
        if kind in Question.SCALED_KINDS:
            if kind != "nps" and (data["scale_min"] is not None or data["scale_max"] is not None):
                item["scale"] = [data["scale_min"], data["scale_max"]]
            if data["polarity"]:
                item["polarity"] = data["polarity"]
            if data["satisfied_points"]:
                item["satisfied"] = data["satisfied_points"]
            if data.get("scale_labels"):
                item["scale_labels"] = data["scale_labels"]
        if kind in Question.CHOICE_KINDS:
            item["options"] = data.get("options", [])
        if data["show_if_question"]:
            item["show_if"] = {
                "question": data["show_if_question"],
                "min": data["show_if_min"],
                "max": data["show_if_max"],
            }
        return item

    def field_for(self, dotted):
        parts = dotted.split(".")
        if parts[0] == "kind":
            return "kind"
        if parts[0] != "questions" or len(parts) < 2:
            return None
        if parts[1] not in {self.original_key, self.data.get("key")}:
            return None
        if len(parts) == 2:  # the question itself, e.g. its removal (a renamed key)
            return "key"
        part = parts[2]
        code = parts[-1] if parts[-1] in self.languages else self.survey.default_language
        return {
            "text": f"text_{code}",
            "scale_labels": f"labels_{code}",
            "options": f"options_{code}",
            "scale": "scale_min",
            "scale_min": "scale_min",
            "scale_max": "scale_max",
            "satisfied": "satisfied",
            "satisfied_values": "satisfied",
            "show_if": "show_if_question",
        }.get(part, part)
