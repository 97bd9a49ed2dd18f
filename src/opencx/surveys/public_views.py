"""The hosted survey pages that customers answer: public, light, translated, hostile-input-proof.

A respondent arrives by a public link (survey × location × touchpoint × channel) or by a personal
invitation. Questions are split into pages at each score that follow-ups branch on; each page is
saved when posted, so a score given and a comment abandoned is still a (partial) response. The
pages work without JavaScript; `public.js` only makes one tap on a score move on.
"""

import io
import json
from dataclasses import dataclass

import qrcode
import qrcode.image.pure
import qrcode.image.svg
from django.conf import settings
from django.core import signing
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from opencx.contacts.models import Contact
from opencx.platform.errors import AppError, Conflict, NotFound
from opencx.platform.memo import Recent
from opencx.platform.models import Channel, Location, Touchpoint
from opencx.platform.numbers import whole_number
from opencx.platform.ratelimit import allow, client_ip

from . import public_forms
from .models import Invitation, Question, Response, Survey, SurveyLink
from .services import (
    invitation_from_token,
    invitation_opened,
    ordered_questions,
    quota_reached,
    response_record,
    response_review_clicked,
    response_update,
    scores_by_key,
    stored_answers,
)

RESPONSE_SALT = "opencx.surveys.response"
RESPONSE_REF_MAX_AGE = 7 * 24 * 3600  # a respondent may come back to finish within a week
INTERFACE_LANGUAGES = {code for code, _name in settings.LANGUAGES}


@dataclass
class Placement:
    """Where a response comes from: the survey, its place, and the link or invitation."""

    survey: Survey
    location: Location
    touchpoint: Touchpoint | None
    channel: Channel | None
    link: SurveyLink | None = None
    invitation: Invitation | None = None
    contact: Contact | None = None

    @property
    def limit_key(self) -> tuple[str, str, int]:
        if self.invitation is not None:
            return "invitation", str(self.invitation.pk), settings.SURVEY_RATE_PER_INVITATION
        assert self.link is not None
        return "link", self.link.token, settings.SURVEY_RATE_PER_LINK


def _survey_queryset():
    return Survey.objects.select_related("brand").prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "pk"))
    )


# A busy counter's QR code is read many times a minute: each process keeps what a public link
# points to for a few seconds instead of asking the database on every answer. A change to the
# survey (paused, edited) reaches respondents within PLACEMENT_TTL seconds; the quota and
# everything in `response_record` are still checked on every answer.
PLACEMENT_TTL = 10.0
_placements: Recent[Placement] = Recent(seconds=PLACEMENT_TTL, size=2048)


def _placement_of_link(token: str) -> Placement:
    if (cached := _placements.get(token)) is not None:
        return cached
    link = (
        SurveyLink.objects.select_related("location", "touchpoint", "channel")
        .filter(token=token, is_active=True)
        .first()
    )
    if link is None:
        _placements.forget(token)
        raise Http404("No such survey link.")
    survey = _survey_queryset().get(pk=link.survey_id)
    placement = Placement(survey, link.location, link.touchpoint, link.channel, link=link)
    _placements.put(token, placement)
    return placement


def _placement_of_invitation(token: str) -> Placement:
    try:
        invitation = invitation_from_token(token)
    except NotFound as error:
        raise Http404(error.message) from error
    survey = _survey_queryset().get(pk=invitation.survey_id)
    return Placement(
        survey,
        invitation.location,
        invitation.touchpoint,
        invitation.channel,
        invitation=invitation,
        contact=invitation.contact,
    )


def choose_language(request, survey: Survey, hint: str = "") -> str:
    """The link's language, then the browser's, then the brand's default, then the survey's —
    among the languages the survey's texts exist in."""
    offered = survey.all_languages
    for candidate in (request.GET.get("lang", ""), hint):
        if candidate in offered:
            return candidate
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:500]
    for code, _quality in translation.trans_real.parse_accept_lang_header(header):
        base = code.split("-")[0].lower()
        if base in offered:
            return base
    brand_default = survey.brand.default_language
    return brand_default if brand_default in offered else survey.default_language


def _sign(response: Response) -> str:
    return signing.dumps(response.pk, salt=RESPONSE_SALT, compress=False)


def _response_of(ref: str) -> Response:
    try:
        pk = signing.loads(ref, salt=RESPONSE_SALT, max_age=RESPONSE_REF_MAX_AGE)
    except signing.BadSignature as error:
        raise Http404("No such response.") from error
    response = (
        Response.objects.select_related("location", "survey__brand", "invitation")
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise Http404("No such response.")
    return response


def _question_view(question: Question, language: str, survey: Survey, raw, error: str) -> dict:
    fallback = survey.default_language
    item = {
        "question": question,
        "name": public_forms.field_name(question),
        "text": question.text_in(language, fallback),
        "error": error,
        "value": "" if raw is None else raw,
        "required": question.required,
    }
    if question.is_scaled:
        low = question.scale_min if question.scale_min is not None else 0
        high = question.scale_max if question.scale_max is not None else 10
        labels = question.scale_labels or {}
        item["points"] = [
            {
                "value": point,
                "label": _label(labels.get(str(point)), language, fallback),
                "checked": str(raw) == str(point),
            }
            for point in range(low, high + 1)
        ]
        item["low_label"] = _label(labels.get(str(low)), language, fallback)
        item["high_label"] = _label(labels.get(str(high)), language, fallback)
        item["wide"] = high - low > 6
    if question.kind in Question.CHOICE_KINDS:
        chosen = raw if isinstance(raw, list) else ([raw] if raw else [])
        item["options"] = [
            {
                "value": option["value"],
                "label": _label(option.get("label"), language, fallback),
                "checked": option["value"] in chosen,
            }
            for option in question.options
        ]
    if question.kind == Question.Kind.CONSENT:
        item["consent"] = {"yes": raw in ("yes", True), "no": raw in ("no", False)}
    return item


def _label(texts, language: str, fallback: str) -> str:
    if not texts:
        return ""
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


def _render(request, template: str, context: dict, *, language: str, status: int = 200):
    survey = context.get("survey")
    with translation.override(language if language in INTERFACE_LANGUAGES else "en"):
        response = render(
            request,
            f"surveys/public/{template}",
            {"language": language, "brand": survey.brand if survey else None, **context},
            status=status,
        )
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    return response


def _page_context(
    placement: Placement,
    *,
    language: str,
    page_index: int,
    pages: list[list[Question]],
    known: dict[int, object],
    form: public_forms.PageInput | None,
    action: str,
) -> dict:
    survey = placement.survey
    questions = [q for page in pages for q in page]
    scores = scores_by_key(questions, known)
    raw = {**known, **(form.raw if form else {})}
    errors = form.errors if form else {}
    items = []
    for question in pages[page_index]:
        if not public_forms.is_shown(question, scores):
            continue
        items.append(
            _question_view(
                question,
                language,
                survey,
                raw.get(question.pk),
                errors.get(question.pk, ""),
            )
        )
    return {
        "survey": survey,
        "location": placement.location,
        "intro": _label(survey.intro, language, survey.default_language) if page_index == 0 else "",
        "items": items,
        "errors": errors,
        "page_number": page_index + 1,
        "page_count": len(pages),
        "is_last": page_index == len(pages) - 1,
        "action": action,
        "honeypot": public_forms.HONEYPOT,
        "languages": [(code, _language_name(code)) for code in survey.all_languages],
    }


def _language_name(code: str) -> str:
    return dict(settings.LANGUAGES).get(code, code)


def _limited(request, placement: Placement) -> bool:
    scope, key, limit = placement.limit_key
    return not (
        allow("survey-ip", client_ip(request), limit=settings.SURVEY_RATE_PER_IP)
        and allow(f"survey-{scope}", key, limit=limit)
    )


def _too_many(request, survey: Survey, language: str):
    message = _("Too many answers from here. Please wait a minute.")
    return _render(
        request,
        "message.html",
        {"survey": survey, "message": message},
        language=language,
        status=429,
    )


def _closed_reason(survey: Survey) -> str:
    if not survey.is_active:
        return _("This survey is closed.")
    if quota_reached(survey):
        return _("This survey has all the answers it needs. Thank you!")
    return ""


def _start(request, placement: Placement, *, action: str):
    """First page of a survey: shown on GET, saved as a (partial) response on POST."""
    survey = placement.survey
    invitation = placement.invitation
    language = choose_language(request, survey, hint=invitation.language if invitation else "")
    if invitation is not None:
        existing = Response.objects.filter(invitation=invitation).first()
        if existing is not None:
            if existing.is_partial:
                return _redirect_to_next(existing, 1)
            return _render(
                request,
                "message.html",
                {"survey": survey, "message": _("You have already answered. Thank you!")},
                language=language,
                status=410,
            )
        if invitation.opened_at is None:
            invitation_opened(invitation=invitation)
    with translation.override(language if language in INTERFACE_LANGUAGES else "en"):
        closed = _closed_reason(survey)
    if closed:
        return _render(
            request,
            "message.html",
            {"survey": survey, "message": closed},
            language=language,
            status=410,
        )
    questions = ordered_questions(survey)
    pages = public_forms.pages_of(questions)
    if request.method == "GET":
        known = {}
        headline = next((q for q in questions if q.kind == survey.kind), None)
        if headline is not None and whole_number(request.GET.get("score", "")) is not None:
            known[headline.pk] = request.GET["score"]  # a tap in an e-mail or embed preselects
        context = _page_context(
            placement,
            language=language,
            page_index=0,
            pages=pages,
            known=known,
            form=None,
            action=action,
        )
        return _render(request, "page.html", context, language=language)
    if request.POST.get(public_forms.HONEYPOT):
        # A bot filled the hidden field: thank it and store nothing.
        return _render(request, "done.html", {"survey": survey}, language=language)
    with translation.override(language if language in INTERFACE_LANGUAGES else "en"):
        if _limited(request, placement):
            return _too_many(request, survey, language)
        form = public_forms.read_page(request.POST, pages[0], {})
        scores = scores_by_key(questions, form.answers)
        is_last = len(pages) == 1
        if form.is_valid:
            missing = public_forms.missing_required(pages[0], form.answers, scores)
            if not form.answers and not missing:
                missing = {pages[0][0].pk: _("Please answer at least one question.")}
            form.errors.update(missing)
        if not form.is_valid:
            context = _page_context(
                placement,
                language=language,
                page_index=0,
                pages=pages,
                known={},
                form=form,
                action=action,
            )
            return _render(request, "page.html", context, language=language, status=422)
        try:
            response = response_record(
                survey=survey,
                location=placement.location,
                touchpoint=placement.touchpoint,
                channel=placement.channel,
                contact=placement.contact,
                answers=form.answers,
                language=language,
                is_partial=not is_last,
                link=placement.link,
                invitation=invitation,
            )
        except Conflict:
            return _render(
                request,
                "message.html",
                {"survey": survey, "message": _("You have already answered. Thank you!")},
                language=language,
                status=409,
            )
        except AppError:
            form.errors[pages[0][0].pk] = _("Something in this answer is not valid. Please check.")
            context = _page_context(
                placement,
                language=language,
                page_index=0,
                pages=pages,
                known={},
                form=form,
                action=action,
            )
            return _render(request, "page.html", context, language=language, status=422)
    return _redirect_to_next(response, 1, stored=form.answers)


def _redirect_to_next(
    response: Response, page_index: int, *, stored: dict[int, object] | None = None
) -> HttpResponseRedirect:
    """To the next page with a shown question, or to the thanks; `stored` saves re-reading
    the answers when the caller has just written them."""
    ref = _sign(response)
    questions = ordered_questions(response.survey)
    pages = public_forms.pages_of(questions)
    if stored is None:
        stored = stored_answers(response, questions)
    scores = scores_by_key(questions, stored)
    for index in range(page_index, len(pages)):
        if any(public_forms.is_shown(q, scores) for q in pages[index]):
            target = reverse("survey_public:step", kwargs={"ref": ref, "page": index + 1})
            return HttpResponseRedirect(target, status=303)
    return HttpResponseRedirect(reverse("survey_public:done", kwargs={"ref": ref}), status=303)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_start(request, token: str):
    placement = _placement_of_link(token)
    return _start(request, placement, action=request.path)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_start(request, token: str):
    placement = _placement_of_invitation(token)
    return _start(request, placement, action=request.path)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def step(request, ref: str, page: int):
    """A later page (follow-ups): each post adds its answers to the response."""
    response = _response_of(ref)
    survey = response.survey
    language = response.language
    if not response.is_partial:
        return HttpResponseRedirect(reverse("survey_public:done", kwargs={"ref": ref}), status=303)
    questions = ordered_questions(survey)
    pages = public_forms.pages_of(questions)
    if not 1 <= page - 1 < len(pages):
        raise Http404("No such page.")
    page_index = page - 1
    stored = stored_answers(response, questions)
    placement = Placement(
        survey, response.location, None, None, link=response.link, invitation=response.invitation
    )
    if placement.link is None and placement.invitation is None:
        raise Http404("No such response.")
    action = request.path
    if request.method != "POST":
        context = _page_context(
            placement,
            language=language,
            page_index=page_index,
            pages=pages,
            known=stored,
            form=None,
            action=action,
        )
        return _render(request, "page.html", context, language=language)
    if request.POST.get(public_forms.HONEYPOT):
        return _render(request, "done.html", {"survey": survey}, language=language)
    with translation.override(language if language in INTERFACE_LANGUAGES else "en"):
        if _limited(request, placement):
            return _too_many(request, survey, language)
        scores = scores_by_key(questions, stored)
        form = public_forms.read_page(request.POST, pages[page_index], scores)
        merged_scores = scores_by_key(questions, {**stored, **form.answers})
        if form.is_valid:
            form.errors.update(
                public_forms.missing_required(
                    pages[page_index], {**stored, **form.answers}, merged_scores
                )
            )
        if not form.is_valid:
            context = _page_context(
                placement,
                language=language,
                page_index=page_index,
                pages=pages,
                known=stored,
                form=form,
                action=action,
            )
            return _render(request, "page.html", context, language=language, status=422)
        # Every page after this one that still has a shown question keeps the response open.
        later = [
            q
            for later_page in pages[page_index + 1 :]
            for q in later_page
            if public_forms.is_shown(q, merged_scores)
        ]
        cleared = {
            q.pk: ""
            for q in pages[page_index]
            if q.pk in stored and q.pk not in form.answers and q.kind == Question.Kind.TEXT
        }
        try:
            response = response_update(
                response=response, answers={**cleared, **form.answers}, complete=not later
            )
        except (AppError, Conflict):
            return HttpResponseRedirect(
                reverse("survey_public:done", kwargs={"ref": ref}), status=303
            )
    return _redirect_to_next(response, page_index + 1)


@never_cache
@require_safe
def done(request, ref: str):
    response = _response_of(ref)
    survey = response.survey
    language = response.language
    review_url = ""
    threshold = survey.review_invite_min
    if (
        threshold is not None
        and response.score is not None
        and response.score >= threshold
        and response.location.review_url
    ):
        review_url = reverse("survey_public:review", kwargs={"ref": ref})
    return _render(
        request,
        "done.html",
        {
            "survey": survey,
            "thank_you": _label(survey.thank_you, language, survey.default_language),
            "review_url": review_url,
            "location": response.location,
        },
        language=language,
    )


@require_safe
def review(request, ref: str):
    """Records that a promoter followed the invitation to review, then sends them there."""
    response = _response_of(ref)
    if not response.location.review_url:
        raise Http404("No review page.")
    response_review_clicked(response=response)
    return HttpResponseRedirect(response.location.review_url)


@require_safe
def qr_code(request, token: str, fmt: str):
    """A printable QR code of a public link, as SVG or PNG."""
    link = SurveyLink.objects.filter(token=token, is_active=True).first()
    if link is None or fmt not in ("svg", "png"):
        raise Http404("No such survey link.")
    url = request.build_absolute_uri(reverse("survey_public:start", kwargs={"token": token}))
    if fmt == "svg":
        image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
        return HttpResponse(image.to_string(), content_type="image/svg+xml")
    size = request.GET.get("size", "")
    box_size = min(whole_number(size) or 10, 40)
    buffer = io.BytesIO()
    qr = qrcode.QRCode(box_size=box_size, border=2)
    qr.add_data(url)
    qr.make_image(image_factory=qrcode.image.pure.PyPNGImage).save(buffer)
    return HttpResponse(buffer.getvalue(), content_type="image/png")


@require_safe
def embed_script(request, token: str):
    """A small script for a website intercept: a card with the score question whose buttons
    open the hosted page with the score preselected (nothing is stored until the respondent
    posts it there)."""
    placement = _placement_of_link(token)
    survey = placement.survey
    headline = next((q for q in ordered_questions(survey) if q.kind == survey.kind), None)
    if headline is None or not headline.is_scaled:
        raise Http404("This survey has no score question to embed.")
    texts = {
        code: {
            "question": headline.text_in(code, survey.default_language),
            "close": _closing_word(code),
        }
        for code in survey.all_languages
    }
    config = {
        "url": request.build_absolute_uri(reverse("survey_public:start", kwargs={"token": token})),
        "low": headline.scale_min if headline.scale_min is not None else 0,
        "high": headline.scale_max if headline.scale_max is not None else 10,
        "default": survey.default_language,
        "texts": texts,
    }
    body = render(
        request,
        "surveys/public/embed.js",
        {"config": json.dumps(config, ensure_ascii=True).replace("</", "<\\/")},
    ).content
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _closing_word(code: str) -> str:
    with translation.override(code if code in INTERFACE_LANGUAGES else "en"):
        return _("Close")
