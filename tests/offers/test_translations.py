"""The playbooks' customer-facing strings ship translated, as the surveys' do: every string a
customer can read (the referral and unsubscribe pages, the playbook e-mail with its default
subjects and bodies, the referral form's errors) has a reviewed (non-fuzzy) translation in each
interface language, the compiled catalogues match their sources, and the pages and e-mails really
come out in the customer's language.

After changing a customer-facing string, run `make messages`, translate, and run it again.
"""

import gettext
import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, translation

import opencx.offers
import opencx.surveys
from opencx.offers.models import Coupon, PlaybookRun
from tests.factories import ContactFactory, IdentityFactory, ResponseFactory
from tests.surveys.test_translations import (
    LANGUAGES,
    PLACEHOLDER,
    _po_entries,
    _python_messages,
    _template_messages,
)

from .factories import CouponFactory, CouponPoolFactory, PlaybookFactory, PlaybookRunFactory

APP = Path(opencx.offers.__file__).parent
LOCALE = APP / "locale"
SURVEYS_LOCALE = Path(opencx.surveys.__file__).parent / "locale"

# What a customer reads: the public pages (referral, message, unsubscribe), the playbook e-mail
# (templates; default subjects and bodies in flows), the referral form and its errors.
TEMPLATES = sorted((APP / "templates" / "offers" / "public").glob("*.html")) + sorted(
    (APP / "templates" / "offers" / "email").glob("*.*")
)
PYTHON = [APP / "public_views.py", APP / "flows.py", APP / "services.py"]


def _catalogue(language: str, locale: Path = LOCALE) -> dict[tuple[str | None, str], dict]:
    path = locale / language / "LC_MESSAGES" / "django.po"
    return {(e.get("msgctxt"), e["msgid"]): e for e in _po_entries(path) if e["msgid"]}


def _customer_messages() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in TEMPLATES:
        found |= _template_messages(path)
    for path in PYTHON:
        found |= _python_messages(path)
    return found


def _page(response) -> str:
    """The page's text with entities resolved: a translation's own quotes are not escaped by the
    template, the values in it are."""
    return unescape(response.content.decode())


def _msgstr(language: str, msgid: str) -> str:
    return _catalogue(language)[(None, msgid)]["msgstr"][0]


def test_the_extraction_finds_the_strings_of_the_pages_the_e_mail_and_the_errors():
    messages = {msgid for _ctx, msgid in _customer_messages()}
    assert {"Send", "Unsubscribe", "Your name", "Your e-mail address", "Your code:"} <= messages
    assert "A friend thinks you would like %(brand)s" in messages
    assert "Valid until %(expires)s" in messages
    assert {"{brand}: would you share your experience?", "See you soon,\n{brand}"} <= messages
    assert {"Give your name.", "That is your own address: give your friend's."} <= messages
    assert "Too many tries from here. Please wait a minute." in messages


# ---------------------------------------------------------------- the catalogues


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_customer_string_has_a_reviewed_translation(language):
    catalogue = _catalogue(language)
    problems = []
    for key in sorted(_customer_messages(), key=str):
        entry = catalogue.get(key)
        if entry is None:
            problems.append(f"missing (run `make messages`): {key[1]!r}")
        elif "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {key[1]!r}")
        elif not all(text.strip() for text in entry["msgstr"]):
            problems.append(f"untranslated: {key[1]!r}")
    assert not problems, f"{language}: " + "; ".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    for (_ctx, msgid), entry in _catalogue(language).items():
        expected = sorted(PLACEHOLDER.findall(msgid))
        for text in entry["msgstr"]:
            assert text, (language, msgid)
            assert sorted(PLACEHOLDER.findall(text)) == expected, (language, msgid, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    expected = {}
    for (context, msgid), entry in _catalogue(language).items():
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"]):
            continue  # msgfmt leaves these out
        key = msgid if context is None else f"{context}\x04{msgid}"
        expected[key] = entry["msgstr"][0]
    compiled_entries = {k: v for k, v in translations._catalog.items() if k != ""}
    assert compiled_entries == expected, f"{language}: run `make messages` to recompile"
    assert translations.info()["language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_strings_shared_with_the_surveys_are_translated_alike(language):
    # One catalogue wins at run time (the app listed first: surveys), so they must agree.
    ours, theirs = _catalogue(language), _catalogue(language, SURVEYS_LOCALE)
    shared = set(ours) & set(theirs)
    assert {(None, "Unsubscribe"), (None, "Send")} <= shared
    for key in shared:
        assert ours[key]["msgstr"] == theirs[key]["msgstr"], (language, key)


# ---------------------------------------------------------------- the pages, as served


@pytest.fixture
def referral_run(brand, store):
    def make(language: str):
        promoter = ContactFactory(brand=brand, language=language)
        IdentityFactory(contact=promoter, value="ada@example.test")
        playbook = PlaybookFactory(brand=brand, location=store, action="referral")
        return PlaybookRunFactory(
            playbook=playbook,
            response=ResponseFactory(survey__brand=brand, location=store, contact=promoter),
        )

    return make


def test_the_referral_page_speaks_italian_to_an_italian_customer(client, referral_run, brand):
    run = referral_run("it")
    page = client.get(f"/o/f/{run.token}")
    body = _page(page)
    assert page.status_code == 200 and page["Content-Language"] == "it"
    assert '<html lang="it">' in body
    assert "<title>Un invito per te" in body
    assert f"Secondo un amico, {brand.name} potrebbe piacerti" in body
    assert ">Il tuo nome</label>" in body and ">Il tuo indirizzo e-mail</label>" in body
    assert '<button type="submit">Invia</button>' in body
    for english in ("You are invited", "Your name", ">Send<", "A friend thinks"):
        assert english not in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_referral_page_and_its_errors_speak_the_customers_language(
    client, referral_run, brand, language
):
    run = referral_run(language)
    page = client.get(f"/o/f/{run.token}")
    assert page["Content-Language"] == language
    body = _page(page)
    assert f'<button type="submit">{_msgstr(language, "Send")}</button>' in body
    heading = _msgstr(language, "A friend thinks you would like %(brand)s")
    assert heading % {"brand": brand.name} in body

    for form, msgid in [
        ({"name": "<b></b>", "email": "bo@example.test"}, "Give your name."),
        (
            {"name": "Bo", "email": "ada@example.test"},
            "That is your own address: give your friend's.",
        ),
        ({"name": "Bo", "email": "not-an-address"}, "That is not an e-mail address."),
    ]:
        refused = client.post(f"/o/f/{run.token}", form)
        assert refused.status_code == 400
        assert _msgstr(language, msgid) in _page(refused), (language, msgid)
    assert PlaybookRun.objects.get(pk=run.pk).completed_at is None

    done = client.post(f"/o/f/{run.token}", {"name": "Bo", "email": "bo@example.test"})
    assert done.status_code == 200
    assert f'<h1 role="status">{_msgstr(language, "Thank you!")}</h1>' in (_page(done))


def test_the_links_lang_parameter_wins_over_the_contacts_language(client, referral_run):
    run = referral_run("it")
    page = client.get(f"/o/f/{run.token}?lang=de")
    assert page["Content-Language"] == "de"
    assert '<button type="submit">Absenden</button>' in _page(page)
    # A language the interface does not speak is ignored.
    assert client.get(f"/o/f/{run.token}?lang=xx")["Content-Language"] == "it"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_unsubscribe_page_speaks_the_customers_language(client, referral_run, language):
    run = referral_run(language)
    body = _page(client.get(f"/o/u/{run.token}"))
    assert f'<html lang="{language}">' in body
    assert f"<h1>{_msgstr(language, 'Unsubscribe?')}</h1>" in body
    done = _page(client.post(f"/o/u/{run.token}", {"List-Unsubscribe": "One-Click"}))
    assert _msgstr(language, "You are unsubscribed") in done


# ---------------------------------------------------------------- the e-mail, as sent


def _text(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message):
    return message.get_body(preferencelist=("html",)).get_content()


@pytest.mark.usefixtures("immediate_tasks")
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_e_mail_speaks_the_customers_language(
    brand, store, customer, answer, smtp_server, language
):
    store.review_url = "https://reviews.example.test/milano"
    store.save()
    PlaybookFactory(brand=brand, segment="promoter", action="review")

    answer(customer(language=language), 10)
    [message] = smtp_server.messages
    assert message["Content-Language"] == language
    subject = _msgstr(language, "{brand}: would you share your experience?")
    # The header is one line of single spaces (and the parser may keep a folding space).
    subject = " ".join(subject.replace("{brand}", brand.name).split())
    assert " ".join(message["Subject"].split()) == subject
    text, html = _text(message), unescape(_html(message))
    assert _msgstr(language, "Hello {name},").replace("{name}", "Ada") in text
    footer = _msgstr(
        language, "You received this e-mail because you answered a survey of %(brand)s."
    )
    assert footer % {"brand": brand.name} in text
    assert _msgstr(language, "Write a review") in html
    assert f'<html lang="{language}">' in html
    for english in ("Hello Ada", "You received this e-mail", "Write a review"):
        assert english not in text + html


@pytest.mark.usefixtures("immediate_tasks")
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_coupon_e_mail_gives_its_expiry_in_the_customers_language(
    brand, customer, answer, smtp_server, language
):
    pool = CouponPoolFactory(brand=brand, offer="-10%", valid_days=30)
    CouponFactory(pool=pool, code="AAA111")
    PlaybookFactory(brand=brand, segment="passive", action="coupon", coupon_pool=pool)

    answer(customer(language=language), 8)
    [message] = smtp_server.messages
    coupon = Coupon.objects.get(code="AAA111")
    # The last day the code works, in the brand's time zone, as the language writes dates.
    expires = coupon.expires_at.astimezone(ZoneInfo(brand.timezone)) - timedelta(microseconds=1)
    with translation.override(language):
        last_day = formats.date_format(expires.date(), "DATE_FORMAT")
    text = _text(message)
    line = _msgstr(language, "Valid until {expires}. It can be used once.")
    assert line.replace("{expires}", last_day) in text
    assert (
        _msgstr(language, "As a thank-you, here is {offer}, with this code:").replace(
            "{offer}", "-10%"
        )
        in text
    )
    assert "Valid until" not in text and re.search(r"\bAAA111\b", text)
