"""The unsubscribe page of a personal invitation: public, reached by the signed token.

GET shows a confirmation (mail scanners that follow links unsubscribe nobody); POST opts the
contact out of every survey of the brand. The form is CSRF-protected; the one exception is the
RFC 8058 one-click POST (`List-Unsubscribe=One-Click`) that mail providers send on the user's
behalf from the List-Unsubscribe header, where the signed token alone authorises the request.
"""

from django.conf import settings
from django.http import Http404
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from opencx.platform.errors import NotFound

from .models import SurveyOptOut
from .services import invitation_from_token, survey_opt_out

INTERFACE_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _csrf_refusal(request):
    """The 403 response CsrfViewMiddleware would give this POST, or None if it passes."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})


@never_cache
@csrf_exempt  # checked below, except for the one-click POST
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    try:
        invitation = invitation_from_token(token)
    except NotFound as error:
        raise Http404(error.message) from error
    language = invitation.language if invitation.language in INTERFACE_LANGUAGES else "en"
    done = False
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") != "One-Click":
            refusal = _csrf_refusal(request)
            if refusal is not None:
                return refusal
        survey_opt_out(contact=invitation.contact)
        done = True
    context = {
        "language": language,
        "brand": invitation.survey.brand,
        "location": invitation.location,
        "done": done,
        "already": not done and SurveyOptOut.objects.filter(contact=invitation.contact).exists(),
    }
    with translation.override(language):
        response = render(request, "surveys/public/unsubscribe.html", context)
    response["Content-Language"] = language
    return response
