"""Pages of the brand's text analytics settings: topics (add, edit, move, delete, reset),
redaction and mode, and emerging themes to name and adopt.

Brand-wide members may read them (others: 404, see `insights.taxonomy`); every change and
the discovery need MANAGE_FEEDBACK, checked before the form is read.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.feedback.selectors import feedback_visible_to
from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.roles import Capability
from opencx.ui.brand_views import brand_page, page_or_partial

from . import taxonomy
from .models import TextSettings
from .text_analysis import shown_text

SESSION_KEY = "text_themes:{brand}"
DISCOVERY_DAYS = ((30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "365 days"))
DISCOVERY_LIMIT = 2000


# --- forms ------------------------------------------------------------------------------------


class TopicForm(forms.Form):
    name = forms.CharField(max_length=taxonomy.MAX_NAME)
    keywords = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One line per language: “en: parking, car park”. A word matches the start of "
        "a word (park finds parking); end it with = to match the whole word only.",
    )
    descriptions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Example sentences, one per line, in any language: comments that mean the "
        "same are found by meaning even without a keyword.",
    )

    def clean_keywords(self):
        try:
            return taxonomy.parse_keywords(self.cleaned_data.get("keywords") or "")
        except AppError as error:
            raise forms.ValidationError(error.message) from None

    def clean_descriptions(self):
        raw = self.cleaned_data.get("descriptions") or ""
        return [line.strip() for line in raw.splitlines() if line.strip()]

    @staticmethod
    def initial_for(topic: dict) -> dict:
        return {
            "name": topic["name"],
            "keywords": taxonomy.format_keywords(topic["keywords"]),
            "descriptions": "\n".join(topic["descriptions"]),
        }


class SettingsForm(forms.Form):
    redact_pii = forms.BooleanField(
        label="Hide e-mail addresses, phone and card numbers in comments shown and exported",
        required=False,
    )
    mode = forms.ChoiceField(
        label="Analysis",
        choices=TextSettings.Mode.choices,
        help_text="Changing it analyses every stored comment again in the background.",
    )


class DiscoverForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Comments of the last", choices=DISCOVERY_DAYS, coerce=int, initial=90
    )


class AdoptForm(TopicForm):
    representatives = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_representatives(self):
        raw = self.cleaned_data.get("representatives") or ""
        ids = [part for part in raw.split(",") if part.strip()]
        if not all(part.strip().isascii() and part.strip().isdigit() for part in ids):
            raise forms.ValidationError("Unknown comments.")
        return [int(part) for part in ids[: taxonomy.MAX_DESCRIPTIONS] if len(part) <= 10]


# --- the settings page ------------------------------------------------------------------------


def _page(request, *, add_form=None, settings_form=None, status=200):
    actor = request.actor
    settings = taxonomy.text_settings_get(actor)
    topics = taxonomy.taxonomy_get(actor)
    counts = taxonomy.topic_counts(actor)
    editable = taxonomy.can_edit(actor)
    if editable:
        add_form = add_form or TopicForm()
        settings_form = settings_form or SettingsForm(
            initial={"redact_pii": settings.redact_pii, "mode": settings.mode}
        )
    return render(
        request,
        "insights/taxonomy.html",
        {
            "section": "text",
            "settings": settings,
            "topics": [{**topic, "count": counts.get(topic["id"], 0)} for topic in topics],
            "own_copy": bool(settings.taxonomy),
            "can_manage": editable,
            "add_form": add_form,
            "settings_form": settings_form,
            "discover_form": DiscoverForm() if editable else None,
        },
        status=status,
    )


@brand_page
def taxonomy_page(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _page(request)


def _editor(request):
    """The actor, once allowed to change the text settings (404 / 403 otherwise)."""
    actor = request.actor
    taxonomy.text_settings_get(actor)
    actor.require(Capability.MANAGE_FEEDBACK)
    return actor


@brand_page
def settings_update(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = _editor(request)
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, settings_form=form, status=400)
    try:
        taxonomy.text_settings_update(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="mode")
        return _page(request, settings_form=form, status=form_error_status(error))
    messages.success(request, "Text analytics settings saved.")
    return redirect("text:taxonomy", actor.brand.slug)


@brand_page
def topic_create(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = _editor(request)
    form = TopicForm(request.POST)
    if not form.is_valid():
        return _page(request, add_form=form, status=400)
    try:
        topic = taxonomy.topic_create(actor=actor, **form.cleaned_data)
    except AppError as error:
        add_app_error(form, error, default_field="name")
        return _page(request, add_form=form, status=form_error_status(error))
    messages.success(request, f"Topic “{topic['name']}” added; comments are being analysed again.")
    return redirect("text:taxonomy", actor.brand.slug)


@brand_page
def topic_edit(request, topic_id):
    actor = request.actor
    topic = taxonomy.topic_get(actor, topic_id=topic_id)
    status = 200
    if request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        form = TopicForm(request.POST)
        if form.is_valid():
            try:
                taxonomy.topic_update(actor=actor, topic_id=topic_id, **form.cleaned_data)
            except AppError as error:
                add_app_error(form, error, default_field="name")
                status = form_error_status(error)
            else:
                messages.success(request, f"Topic “{form.cleaned_data['name']}” saved.")
                return redirect("text:taxonomy", actor.brand.slug)
        else:
            status = 400
    elif request.method in ("GET", "HEAD"):
        form = TopicForm(initial=TopicForm.initial_for(topic))
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "insights/taxonomy_topic.html",
        {"section": "text", "topic": topic, "form": form, "can_manage": taxonomy.can_edit(actor)},
        status=status,
    )


@brand_page
def topic_delete(request, topic_id):
    actor = request.actor
    topic = taxonomy.topic_get(actor, topic_id=topic_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    try:
        taxonomy.topic_delete(actor=actor, topic_id=topic_id)
    except taxonomy.TaxonomyInvalid as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Topic “{topic['name']}” deleted.")
    return redirect("text:taxonomy", actor.brand.slug)


@brand_page
def topic_move(request, topic_id):
    actor = request.actor
    taxonomy.topic_get(actor, topic_id=topic_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    offset = -1 if request.POST.get("direction") == "up" else 1
    taxonomy.topic_move(actor=actor, topic_id=topic_id, offset=offset)
    return redirect("text:taxonomy", actor.brand.slug)


@brand_page
def taxonomy_reset(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = _editor(request)
    taxonomy.taxonomy_reset(actor=actor)
    messages.success(request, "Topics reset to the seeded CX topics.")
    return redirect("text:taxonomy", actor.brand.slug)


# --- emerging themes --------------------------------------------------------------------------


def _theme_rows(actor, settings, discovery):
    """Each theme with its representative comments as they may be shown (redacted if asked)."""
    wanted = {pk for theme in discovery.themes for pk in theme.representative_ids}
    items = {
        item.pk: item
        for item in feedback_visible_to(actor).filter(pk__in=wanted).only("pk", "title", "text")
    }
    rows = []
    for number, theme in enumerate(discovery.themes, start=1):
        shown = [
            (pk, shown_text(settings, " ".join(p for p in (items[pk].title, items[pk].text) if p)))
            for pk in theme.representative_ids
            if pk in items
        ]
        names = [shown_text(settings, name) for name in theme.suggested_names]
        form = AdoptForm(
            prefix=f"theme{number}",
            initial={
                "name": names[0].capitalize() if names else "",
                "keywords": f"{theme.language}: {', '.join(names)}" if names else "",
                "representatives": ",".join(str(pk) for pk, _ in shown),
            },
        )
        rows.append(
            {"number": number, "theme": theme, "texts": shown, "names": names, "form": form}
        )
    return rows


def _themes_page(request, *, bound: AdoptForm | None = None, status: int = 200):
    actor = request.actor
    key = SESSION_KEY.format(brand=actor.brand.pk)
    result_id = request.session.get(key)
    state = None
    if result_id:
        try:
            state = taxonomy.themes_discovery_get(actor, result_id=result_id)
        except AppError:
            request.session.pop(key, None)
    settings = taxonomy.text_settings_get(actor)
    rows = _theme_rows(actor, settings, state.discovery) if state and state.discovery else []
    for row in rows:  # the form sent back with its errors
        if bound is not None and bound.prefix == row["form"].prefix:
            row["form"] = bound
    context = {
        "section": "text",
        "state": state,
        "rows": rows,
        "discover_form": DiscoverForm(),
        "polling": state is not None and state.status == "pending",
        "limit": DISCOVERY_LIMIT,
    }
    if status != 200:
        return render(request, "insights/taxonomy_themes.html", context, status=status)
    return page_or_partial(request, "insights/taxonomy_themes.html", context, partial="themes")


@brand_page
def themes(request):
    """GET: the latest discovery started from this session (polled while it runs); POST: start
    one."""
    actor = request.actor
    taxonomy.text_settings_get(actor)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    actor.require(Capability.MANAGE_FEEDBACK)
    if request.method == "POST":
        form = DiscoverForm(request.POST)
        days = form.cleaned_data["days"] if form.is_valid() else 90
        request.session[SESSION_KEY.format(brand=actor.brand.pk)] = taxonomy.themes_discover_start(
            actor=actor, days=days, limit=DISCOVERY_LIMIT
        )
        return redirect("text:themes", actor.brand.slug)
    return _themes_page(request)


@brand_page
def theme_adopt(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = _editor(request)
    prefix = request.POST.get("prefix", "")
    prefix = prefix if prefix.startswith("theme") and prefix[5:].isdigit() else None
    form = AdoptForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _themes_page(request, bound=form, status=400)
    items = feedback_visible_to(actor).filter(pk__in=form.cleaned_data["representatives"])
    texts = [" ".join(p for p in (item.title, item.text) if p) for item in items]
    try:
        topic = taxonomy.theme_adopt(
            actor=actor,
            name=form.cleaned_data["name"],
            keywords_by_language=form.cleaned_data["keywords"],
            description_texts=texts,
        )
    except AppError as error:
        add_app_error(form, error, default_field="name")
        return _themes_page(request, bound=form, status=form_error_status(error))
    messages.success(
        request, f"Topic “{topic['name']}” adopted; comments are being analysed again."
    )
    return redirect("text:taxonomy", actor.brand.slug)
