"""PII redaction before display and export: e-mail addresses, phone numbers, payment card numbers.

    redact("Call +44 20 7946 0958 or mail ana@example.com")
    -> "Call [phone] or mail [email]"

Card numbers are 13–19 digits (spaces or hyphens allowed between groups) that pass the Luhn
check; a digit run that fails it is not a card, but if it is long enough to be a phone number it
is redacted as one. Phone numbers are 7–15 digits starting with `+` or `00`, or 9–15 digits
otherwise, with spaces, dots, hyphens and brackets between them; ISO dates (2025-03-14) and
times are left alone. Redaction errs on the side of hiding: an order number of ten digits goes
too. Redacting twice changes nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["email", "phone", "card"]
PLACEHOLDERS: dict[Kind, str] = {"email": "[email]", "phone": "[phone]", "card": "[card]"}

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
# A run of digits with single separators between groups; the digit count is checked after.
_NUMBER = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[ \t.\-()/]{0,2}\d){5,22}\)?(?!\w)")
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_CARD_SEPARATORS = re.compile(r"^\d+(?:[ \-]\d+)*$")


@dataclass(frozen=True, slots=True)
class Span:
    kind: Kind
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _classify_number(raw: str) -> Kind | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    stripped = raw.strip("()")
    if 13 <= len(digits) <= 19 and _CARD_SEPARATORS.match(stripped) and luhn_valid(digits):
        return "card"
    if _DATE.match(stripped):
        return None
    international = raw.startswith(("+", "00", "(+"))
    low = 7 if international else 9
    if low <= len(digits) <= 15:
        return "phone"
    if len(digits) > 15:  # a long digit run that is not a valid card: still hide it
        return "phone"
    return None


def find_pii(
    text: str, *, emails: bool = True, phones: bool = True, cards: bool = True
) -> list[Span]:
    """Non-overlapping spans of personal data in `text`, in order."""
    spans: list[Span] = []
    if emails:
        spans.extend(Span("email", m.start(), m.end()) for m in _EMAIL.finditer(text))
    if phones or cards:
        for match in _NUMBER.finditer(text):
            if any(s.start < match.end() and match.start() < s.end for s in spans):
                continue
            kind = _classify_number(match.group())
            if kind == "card" and not cards:
                kind = "phone" if phones else None
            if kind == "phone" and not phones:
                kind = None
            if kind is not None:
                spans.append(Span(kind, match.start(), match.end()))
    spans.sort(key=lambda s: s.start)
    return spans


def redact(text: str, *, emails: bool = True, phones: bool = True, cards: bool = True) -> str:
    """`text` with each e-mail, phone and card number replaced by a placeholder."""
    spans = find_pii(text, emails=emails, phones=phones, cards=cards)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(PLACEHOLDERS[span.kind])
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
