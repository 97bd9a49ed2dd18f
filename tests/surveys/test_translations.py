"""The surveys app's interface strings ship translated: every string a respondent can see has a
reviewed (non-fuzzy) translation in each interface language, the compiled catalogues match their
sources, and the hosted pages really come out in the language asked for.

After changing a respondent-facing string, run `make messages`, translate, and run it again.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation.template import templatize

import opencx.surveys
from opencx.surveys.definitions import library
from opencx.surveys.services import link_ensure, survey_import

APP = Path(opencx.surveys.__file__).parent
LOCALE = APP / "locale"
LANGUAGES = ["it", "cy", "ru", "es", "fr", "de"]

# What a respondent reads: the hosted pages (unsubscribe included), the messages their answers
# can produce, and the invitations (e-mail templates; subjects, bodies and SMS text in flows).
TEMPLATES = sorted((APP / "templates" / "surveys" / "public").glob("*.html")) + sorted(
    (APP / "templates" / "surveys" / "email").glob("*.*")
)
PYTHON = [APP / "public_forms.py", APP / "public_views.py", APP / "flows.py"]

GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
CONTEXT_CALLS = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


# ---------------------------------------------------------------- reading .po files (no polib)


def _po_entries(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def close():
        nonlocal entry, field
        if "msgid" in entry:
            entries.append(entry)
        entry, field = {}, None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            close()
        elif line.startswith("#,"):
            if "msgid" in entry:
                close()
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            if "msgid" in entry:
                close()
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(field, int):
                entry["msgstr"][field] += value
            else:
                entry[field] += value
        else:
            keyword, _space, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                field = int(keyword[7:-1]) if "[" in keyword else 0
                entry.setdefault("msgstr", {})[field] = value
            else:
                field = keyword
                entry[keyword] = value
    close()
    for item in entries:
        item.setdefault("flags", set())
        item["msgstr"] = [item["msgstr"][n] for n in sorted(item["msgstr"])]
    return entries


def _catalogue(language: str) -> dict[tuple[str | None, str], dict]:
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    return {(e.get("msgctxt"), e["msgid"]): e for e in _po_entries(path) if e["msgid"]}


# ---------------------------------------------------------------- what the code asks for

_LITERAL = r"u?(?:'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")"
_TEMPLATE_CALL = re.compile(rf"\b(n?p?gettext)\(({_LITERAL})(?:, ({_LITERAL}))?")


def _template_messages(path: Path) -> set[tuple[str | None, str]]:
    """The msgids makemessages extracts from a template (Django's own templatize)."""
    found = set()
    for name, first, second in _TEMPLATE_CALL.findall(templatize(path.read_text())):
        first = ast.literal_eval(first)
        if name.startswith(("pgettext", "npgettext")):
            found.add((first, ast.literal_eval(second)))
        else:
            found.add((None, first))
    return found


def _python_messages(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if node.func.id in GETTEXT_CALLS and args and isinstance(args[0], str):
            found.add((None, args[0]))
        elif node.func.id in CONTEXT_CALLS and len(args) > 1 and isinstance(args[1], str):
            found.add((args[0], args[1]))
    return found


def _respondent_messages() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in TEMPLATES:
        found |= _template_messages(path)
    for path in PYTHON:
        found |= _python_messages(path)
    return found


def test_the_extraction_finds_the_strings_of_the_pages_and_the_forms():
    messages = {msgid for _ctx, msgid in _respondent_messages()}
    assert {"Next", "Send", "Step %(number)s of %(count)s", "Close"} <= messages
    assert "Choose a whole number from %(low)s to %(high)s." in messages
    assert {"Unsubscribe", "Answer the survey", "Reminder: {subject}"} <= messages
    assert (
        "Would you share your experience at %(place)s in a public review? It helps others "
        "find us." in messages
    )


# ---------------------------------------------------------------- the catalogues


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_respondent_string_has_a_reviewed_translation(language):
    catalogue = _catalogue(language)
    problems = []
    for key in sorted(_respondent_messages(), key=str):
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
            if text:
                assert sorted(PLACEHOLDER.findall(text)) == expected, (language, msgid, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    directory = LOCALE / language / "LC_MESSAGES"
    with (directory / "django.mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    expected = {}
    for (context, msgid), entry in _catalogue(language).items():
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"]):
            continue  # msgfmt leaves these out
        key = msgid if context is None else f"{context}\x04{msgid}"
        if "msgid_plural" in entry:
            expected.update({(key, n): text for n, text in enumerate(entry["msgstr"])})
        else:
            expected[key] = entry["msgstr"][0]
    compiled_entries = {k: v for k, v in translations._catalog.items() if k != ""}
    assert compiled_entries == expected, f"{language}: run `make messages` to recompile"
    assert translations.info()["language"] == language


def test_russian_has_three_plural_forms():
    with (LOCALE / "ru" / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        plural = gettext.GNUTranslations(compiled).plural
    assert [plural(n) for n in (1, 2, 4, 5, 11, 12, 21, 22, 25, 111)] == [
        0, 1, 1, 2, 2, 2, 0, 1, 2, 2,
    ]  # fmt: skip


# ---------------------------------------------------------------- the pages, as served

NEXT = {
    "it": "Avanti",
    "cy": "Nesaf",
    "ru": "Далее",
    "es": "Siguiente",
    "fr": "Suivant",
    "de": "Weiter",
}
WHOLE_NUMBER = {
    "it": "Scegli un numero intero da 0 a 10.",
    "cy": "Dewiswch rif cyfan o 0 i 10.",
    "ru": "Выберите целое число от 0 до 10.",
    "es": "Elija un número entero entre 0 y 10.",
    "fr": "Choisissez un nombre entier de 0 à 10.",
    "de": "Wählen Sie eine ganze Zahl von 0 bis 10.",
}


@pytest.fixture
def link(owner_actor, store):
    survey = survey_import(actor=owner_actor, spec=library()["nps"])
    return link_ensure(actor=owner_actor, survey=survey, location=store)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hosted_page_speaks_the_language_asked_for(client, link, language):
    url = reverse("survey_public:start", kwargs={"token": link.token})
    page = client.get(f"{url}?lang={language}")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in body
    assert f'<button type="submit">{NEXT[language]}</button>' in body
    assert ">Next</button>" not in body
    footer = _catalogue(language)[(None, "Your answers are used only to improve our service.")]
    assert escape(footer["msgstr"][0]) in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invalid_answer_is_explained_in_the_respondents_language(client, link, language):
    url = reverse("survey_public:start", kwargs={"token": link.token})
    field = f"q-{link.survey.questions.get(key='nps').pk}"
    page = client.post(f"{url}?lang={language}", {field: "42"})
    assert page.status_code == 422
    assert escape(WHOLE_NUMBER[language]) in page.content.decode()
