"""The survey builder: new survey from a template, settings, questions, import and export.

Every change is made the same way: the stored survey as a definition document (`spec_of`),
the form's change applied to it, the result checked (`check_spec`) and written by
`services.survey_import`, the one write path with all its rules (answered questions keep
their meaning, branching only on an earlier scored question, ...). Members without
MANAGE_FEEDBACK see the pages read-only.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from opencx.platform.errors import AppError, NotFound
from opencx.platform.roles import Capability
from opencx.platform.selectors import touchpoints_of
from opencx.ui.brand_views import brand_page

from . import selectors
from .builder_forms import (
    ImportForm,
    NewSurveyForm,
    QuestionForm,
    SurveySettingsForm,
    check_spec,
)
from .definitions import dump_definition, library, parse_definition, spec_of
from .models import Question, Survey
from .services import survey_create_from_template, survey_import

FORMATS = {"yaml": "application/yaml; charset=utf-8", "json": "application/json"}


def _edit_url(survey: Survey, anchor: str = "") -> str:
    url = reverse("surveys:edit", args=[survey.brand.slug, survey.pk])  # brand is cached
    return f"{url}#{anchor}" if anchor else url


@brand_page
def survey_new(request):
    actor = request.actor
    actor.require(Capability.MANAGE_FEEDBACK)
    templates = library()
    form = NewSurveyForm(request.POST or None, templates=templates)
    if request.method == "POST" and form.is_valid():
        try:
            survey = survey_create_from_template(
                actor=actor, template=form.cleaned_data["template"], name=form.cleaned_data["name"]
            )
        except AppError as error:
            form.add_app_error(error)
        else:
            messages.success(request, f"Survey “{survey.name}” created from its template.")
            return redirect(_edit_url(survey))
    return render(
        request, "surveys/builder/new.html", {"form": form, "templates": templates.values()}
    )


@brand_page
def survey_upload(request):
    """Import a definition file: a new survey, or the survey with the same slug brought in line."""
    actor = request.actor
    actor.require(Capability.MANAGE_FEEDBACK)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            spec = parse_definition(data["text"], source=data["file"].name, fmt=data["format"])
            existed = selectors.surveys_visible_to(actor).filter(slug=spec.slug).exists()
            survey = survey_import(actor=actor, spec=spec)
        except AppError as error:
            form.add_app_error(error)
        else:
            verb = "updated" if existed else "created"
            messages.success(request, f"Survey “{survey.name}” {verb} from {data['file'].name}.")
            return redirect(_edit_url(survey))
    return render(request, "surveys/builder/import.html", {"form": form})


@brand_page
@require_safe
def survey_export(request, pk):
    survey = selectors.survey_get(request.actor, pk=pk)
    fmt = request.GET.get("format", "yaml")
    if fmt not in FORMATS:
        raise AppError("Export as yaml or json.", field="format")
    response = HttpResponse(dump_definition(spec_of(survey), fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{survey.slug}.{fmt}"'
    return response


def _question_rows(survey: Survey, answered: set[str]) -> list[dict]:
    questions = list(survey.questions.all())
    return [
        {
            "question": question,
            "text": question.text_in(survey.default_language, survey.default_language),
            "answered": question.key in answered,
            "first": index == 0,
            "last": index == len(questions) - 1,
        }
        for index, question in enumerate(questions)
    ]


@brand_page
def survey_edit(request, pk):
    actor = request.actor
    survey = selectors.survey_get(actor, pk=pk)
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    kwargs = {"survey": survey, "touchpoints": touchpoints_of(actor)}
    if request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        form = SurveySettingsForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                survey_import(actor=actor, spec=check_spec(form.document(spec_of(survey))))
            except AppError as error:
                form.add_app_error(error)
            else:
                messages.success(request, f"Survey “{form.cleaned_data['name']}” saved.")
                return redirect(_edit_url(survey))
    else:
        form = SurveySettingsForm(**kwargs)
    if not can_manage:
        form.disable()
    return render(
        request,
        "surveys/builder/edit.html",
        {
            "survey": survey,
            "form": form,
            "rows": _question_rows(
                survey, selectors.answered_question_keys(survey) if can_manage else set()
            ),
            "can_manage": can_manage,
        },
    )


@brand_page
def question_edit(request, pk):
    """One question: `?key=` edits it, no key adds a new one at the end."""
    actor = request.actor
    survey = selectors.survey_get(actor, pk=pk)
    can_manage = actor.can(Capability.MANAGE_FEEDBACK)
    key = request.GET.get("key", "")
    if not key or request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
    document = spec_of(survey)
    items = document["questions"]
    keys = [item["key"] for item in items]
    if key and key not in keys:
        raise NotFound("No such question.", field="key")
    index = keys.index(key) if key else len(items)
    current = items[index] if key else None
    form_kwargs = {"survey": survey, "question": current, "earlier": items[:index]}
    if request.method == "POST":
        form = QuestionForm(request.POST, **form_kwargs)
        if form.is_valid():
            changed = [*items[:index], form.item(), *items[index + 1 :]]
            try:
                survey_import(actor=actor, spec=check_spec({**document, "questions": changed}))
            except AppError as error:
                form.add_app_error(error)
            else:
                verb = "saved" if current else "added"
                messages.success(request, f"Question “{form.cleaned_data['key']}” {verb}.")
                return redirect(_edit_url(survey, "questions"))
    else:
        form = QuestionForm(**form_kwargs)
    if not can_manage:
        form.disable()
    return render(
        request,
        "surveys/builder/question.html",
        {
            "survey": survey,
            "form": form,
            "groups": form.field_groups(),
            "key": key,
            "answered": can_manage and key in selectors.answered_question_keys(survey),
            "can_manage": can_manage,
            "scaled_kinds": sorted(Question.SCALED_KINDS),
            "choice_kinds": sorted(Question.CHOICE_KINDS),
        },
    )


@brand_page
@require_POST
def question_action(request, pk):
    """Move a question up or down, or delete it (POST action=up|down|delete, key=...)."""
    actor = request.actor
    survey = selectors.survey_get(actor, pk=pk)
    actor.require(Capability.MANAGE_FEEDBACK)
    document = spec_of(survey)
    items = list(document["questions"])
    keys = [item["key"] for item in items]
    key, action = request.POST.get("key", ""), request.POST.get("action", "")
    if key not in keys:
        raise NotFound("No such question.", field="key")
    index = keys.index(key)
    if action == "delete":
        items.pop(index)
        done = f"Question “{key}” deleted."
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if not 0 <= other < len(items):
            return redirect(_edit_url(survey, "questions"))
        items[index], items[other] = items[other], items[index]
        done = f"Question “{key}” moved {action}."
    else:
        raise AppError("Choose up, down or delete.", field="action")
    try:
        survey_import(actor=actor, spec=check_spec({**document, "questions": items}))
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_edit_url(survey, "questions"))
