"""The links in playbook e-mails: tracked review redirect, referral page, unsubscribe.

Each is reached by the run's random token (144 bits; unknown tokens are 404). The referral form
is CSRF-protected, rate-limited per address and per link, and has a honeypot field; what the
friend types is checked by `services.referral_complete` (a clear error per field, nothing half
stored).

Every page speaks the customer's language: the link's `?lang=` if the interface is translated
into it, else the contact's, the response's, the brand's default, English (the strings are in
`locale/`; `make messages` updates them).
"""

from django import forms
from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from opencx.contacts.services import normalise_email
from opencx.platform.errors import AppError
from opencx.platform.forms import add_app_error
from opencx.platform.ratelimit import allow, client_ip
from opencx.surveys.models import SurveyOptOut
from opencx.surveys.services import survey_opt_out

from . import services
from .models import Action, PlaybookRun

INTERFACE_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _run(token: str, *, action: str | None = None) -> PlaybookRun:
    if not token.isascii() or len(token) > 32:
        raise Http404("No such link.")
    qs = PlaybookRun.objects.select_related("location__brand", "contact", "response").filter(
        token=token, status=PlaybookRun.Status.SENT
    )
    if action is not None:
        qs = qs.filter(action=action)
    run = qs.first()
    if run is None:
        raise Http404("No such link.")
    return run


def _language(request, run: PlaybookRun) -> str:
    for language in (
        request.GET.get("lang", ""),
        run.contact.language if run.contact_id else "",
        run.response.language,
        run.location.brand.default_language,
    ):
        if language in INTERFACE_LANGUAGES:
            return language
    return "en"


def _render(request, run: PlaybookRun, template: str, context: dict, status: int = 200):
    language = _language(request, run)
    context = {
        "brand": run.location.brand,
        "location": run.location,
        "language": language,
        **context,
    }
    with translation.override(language):
        response = render(request, f"offers/public/{template}", context, status=status)
    response["Content-Language"] = language
    return response


@require_safe
def review(request, token: str):
    """Records the first click of a promoter's review invitation and sends them to the
    location's review page."""
    run = _run(token, action=Action.REVIEW)
    if not run.location.review_url:
        raise Http404("No review page.")
    services.run_clicked(run=run)
    return HttpResponseRedirect(run.location.review_url)


class ReferralForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    email = forms.CharField(
        label=gettext_lazy("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    consent = forms.BooleanField(required=False)
    # Left empty by people; bots fill every field.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1"}))

    def clean_email(self) -> str:
        # Checked here too, so that the friend reads the message in the page's language.
        try:
            return normalise_email(self.cleaned_data["email"], field="email")
        except AppError as error:
            raise forms.ValidationError(_("That is not an e-mail address.")) from error


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def referral(request, token: str):
    """A promoter's friend leaves their name and e-mail address to hear from the brand."""
    run = _run(token, action=Action.REFERRAL)
    # Django's own form messages too are in the page's language.
    with translation.override(_language(request, run)):
        return _referral(request, run)


def _referral(request, run: PlaybookRun):
    if run.completed_at is not None:
        return _render(request, run, "referral.html", {"done": True})
    if request.method != "POST":
        services.run_clicked(run=run)
        return _render(request, run, "referral.html", {"form": ReferralForm()})
    limited = not (
        allow("offers-referral-ip", client_ip(request), limit=settings.OFFERS_RATE_PER_IP)
        and allow("offers-referral-link", run.token, limit=settings.OFFERS_RATE_PER_LINK)
    )
    if limited:
        message = _("Too many tries from here. Please wait a minute.")
        return _render(request, run, "message.html", {"message": message}, status=429)
    form = ReferralForm(request.POST)
    if not form.is_valid():
        return _render(request, run, "referral.html", {"form": form}, status=400)
    if form.cleaned_data["website"]:
        # A bot: answer as if it worked, store nothing.
        return _render(request, run, "referral.html", {"done": True})
    try:
        services.referral_complete(
            run=run,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            consent=form.cleaned_data["consent"],
        )
    except AppError as error:
        add_app_error(form, error)
        return _render(request, run, "referral.html", {"form": form}, status=400)
    return _render(request, run, "referral.html", {"done": True})


def _csrf_refusal(request):
    """The 403 response CsrfViewMiddleware would give this POST, or None if it passes."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})


@never_cache
@csrf_exempt  # checked below, except for the RFC 8058 one-click POST of mail providers
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET asks (mail scanners that follow links unsubscribe nobody); POST opts the contact
    out of the brand's surveys and the e-mails that follow them."""
    run = _run(token)
    if run.contact_id is None:
        raise Http404("No such link.")
    done = False
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            refusal = _csrf_refusal(request)
            if refusal is not None:
                return refusal
        survey_opt_out(contact=run.contact)
        done = True
    already = not done and SurveyOptOut.objects.filter(contact_id=run.contact_id).exists()
    return _render(request, run, "unsubscribe.html", {"done": done, "already": already})
