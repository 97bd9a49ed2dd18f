"""PII redaction: examples, and properties over generated e-mails, phones and card numbers."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.text.redact import find_pii, luhn_valid, redact


def _luhn_complete(body: str) -> str:
    """`body` plus the check digit that makes it Luhn-valid."""
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


cards = st.builds(
    _luhn_complete,
    st.text(alphabet=string.digits, min_size=15, max_size=15).map(lambda s: "4" + s[1:]),
)
card_layouts = cards.flatmap(
    lambda c: st.sampled_from(
        [
            c,
            " ".join(c[i : i + 4] for i in range(0, 16, 4)),
            "-".join(c[i : i + 4] for i in range(0, 16, 4)),
        ]
    )
)
emails = st.builds(
    lambda user, domain, tld: f"{user}@{domain}.{tld}",
    st.text(alphabet=string.ascii_lowercase + string.digits + "._", min_size=1, max_size=12).filter(
        lambda u: u[0].isalnum() and u[-1].isalnum()
    ),
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12),
    st.sampled_from(["com", "co.uk", "de", "cymru", "org"]),
)
phones = st.one_of(
    st.builds(
        lambda d: "+44 " + d[:4] + " " + d[4:],
        st.text(alphabet=string.digits, min_size=10, max_size=10),
    ),
    st.builds(
        lambda d: "(0" + d[:2] + ") " + d[2:6] + "-" + d[6:],
        st.text(alphabet=string.digits, min_size=9, max_size=9),
    ),
    st.builds(lambda d: "07" + d, st.text(alphabet=string.digits, min_size=9, max_size=9)),
)
prose = st.text(alphabet=string.ascii_letters + " ,.!?éßжñ", max_size=40)


def test_examples():
    assert redact("Call +44 20 7946 0958 or mail ana.b@example.co.uk now") == (
        "Call [phone] or mail [email] now"
    )
    assert redact("card 4111 1111 1111 1111 exp 12/27") == "card [card] exp 12/27"
    # fails Luhn: not a card, but 16 digits is still hidden (as a phone-like number)
    assert redact("ref 4111-1111-1111-1112") == "ref [phone]"
    assert redact("on 2025-03-14 at 10:30 I paid 12.50 for 3 items") == (
        "on 2025-03-14 at 10:30 I paid 12.50 for 3 items"
    )
    assert redact("order 12345 was late") == "order 12345 was late"
    assert redact("ring (030) 1234-5678.") == "ring [phone]."


def test_switches():
    text = "ana@example.com 4111111111111111 +44 20 7946 0958"
    assert redact(text, emails=False) == "ana@example.com [card] [phone]"
    assert redact(text, cards=False) == "[email] [phone] [phone]"
    assert redact(text, phones=False, cards=False) == "[email] 4111111111111111 +44 20 7946 0958"


def test_luhn():
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")
    assert not luhn_valid("4111a")


@settings(max_examples=150)
@given(before=prose, after=prose, card=card_layouts)
def test_any_valid_card_is_hidden(before, after, card):
    out = redact(f"{before} {card} {after}")
    assert card not in out
    digits = card.replace(" ", "").replace("-", "")
    assert digits not in out.replace(" ", "").replace("-", "")
    assert "[card]" in out


@settings(max_examples=150)
@given(before=prose, after=prose, email=emails)
def test_any_email_is_hidden(before, after, email):
    out = redact(f"{before} {email} {after}")
    assert "@" not in out.replace("[email]", "")
    assert "[email]" in out


@settings(max_examples=150)
@given(before=prose, after=prose, phone=phones)
def test_any_phone_is_hidden(before, after, phone):
    out = redact(f"{before} {phone} {after}")
    assert "[phone]" in out
    assert sum(ch.isdigit() for ch in out) == sum(ch.isdigit() for ch in before + after)


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_redaction_is_idempotent_and_only_touches_what_it_finds(text):
    once = redact(text)
    assert redact(once) == once
    if not find_pii(text):
        assert once == text


@settings(max_examples=100)
@given(st.text(alphabet=string.ascii_letters + " .,!?'", max_size=80))
def test_text_without_digits_or_at_is_unchanged(text):
    assert redact(text) == text
