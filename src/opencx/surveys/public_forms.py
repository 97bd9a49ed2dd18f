"""Reading a respondent's posted answers: every problem becomes a message in their language.

The services check everything again; this layer exists so that a respondent sees "choose a
number from 0 to 10" in Welsh next to the right question instead of a generic error, and so that
what they already typed is shown back to them.
"""

from dataclasses import dataclass, field

from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from opencx.platform.numbers import whole_number

from .models import Question
from .services import MAX_TEXT_ANSWER, is_shown

FIELD_PREFIX = "q-"
HONEYPOT = "website"


@dataclass
class PageInput:
    answers: dict[int, object] = field(default_factory=dict)  # question id → clean value
    raw: dict[int, object] = field(default_factory=dict)  # what to show back in the form
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def field_name(question: Question) -> str:
    return f"{FIELD_PREFIX}{question.pk}"


def pages_of(questions: list[Question]) -> list[list[Question]]:
    """Questions split into pages: a page ends after the first score and after each question
    that others branch on, so the score is saved (and the follow-ups chosen) before the
    follow-ups are shown — a score given and a comment abandoned is still a response."""
    targets = {question.show_if.get("question") for question in questions if question.show_if}
    first_scored = next((question for question in questions if question.is_scaled), None)
    if first_scored is not None:
        targets.add(first_scored.key)
    pages: list[list[Question]] = [[]]
    for question in questions:
        pages[-1].append(question)
        if question.key in targets:
            pages.append([])
    return [page for page in pages if page]


def read_page(post, questions: list[Question], scores: dict[str, int]) -> PageInput:
    """Clean the posted answers to one page's shown questions; unknown fields are ignored."""
    result = PageInput()
    for question in questions:
        if not is_shown(question, scores):
            continue
        name = field_name(question)
        if question.kind == Question.Kind.MULTIPLE:
            values = [str(v)[:100] for v in post.getlist(name)][:50]
            result.raw[question.pk] = values
            value, error = _choices(question, values)
        else:
            text = str(post.get(name, ""))
            result.raw[question.pk] = text[: MAX_TEXT_ANSWER + 100]
            value, error = _one(question, text)
        if error:
            result.errors[question.pk] = error
        elif value is not None:
            result.answers[question.pk] = value
            if question.is_scaled:
                scores = {**scores, question.key: value}
    return result


def missing_required(questions: list[Question], answers: dict, scores: dict[str, int]) -> dict:
    return {
        q.pk: _("Please answer this question.")
        for q in questions
        if q.required and q.pk not in answers and is_shown(q, scores)
    }


def _one(question: Question, text: str):
    text = text.strip()
    if not text:
        return None, ""
    if question.is_scaled:
        low, high = question.scale_min, question.scale_max
        if low is None or high is None:
            low, high = 0, 10
        number = whole_number(text, signed=True)
        if number is None or not low <= number <= high:
            return None, _("Choose a whole number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
        return number, ""
    if question.kind == Question.Kind.TEXT:
        clean = strip_tags(text).strip()
        if len(clean) > MAX_TEXT_ANSWER:
            return None, _("Please keep your answer under %(limit)s characters.") % {
                "limit": MAX_TEXT_ANSWER
            }
        return (clean or None), ""
    if question.kind == Question.Kind.CONSENT:
        if text not in ("yes", "no"):
            return None, _("Please answer yes or no.")
        return text == "yes", ""
    if question.kind == Question.Kind.SINGLE:
        return _choices(question, [text])
    return None, ""


def _choices(question: Question, values: list[str]):
    allowed = [option["value"] for option in question.options]
    values = [v for v in values if v]
    if not values:
        return None, ""
    if any(v not in allowed for v in values) or (
        question.kind == Question.Kind.SINGLE and len(values) > 1
    ):
        return None, _("Please choose from the options shown.")
    chosen = [v for v in allowed if v in values]
    return (chosen[0] if question.kind == Question.Kind.SINGLE else chosen), ""
