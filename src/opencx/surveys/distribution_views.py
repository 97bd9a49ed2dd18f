"""Distribution pages for members: a survey's public links with QR codes and the website embed."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from opencx.inbox.selectors import channels_visible_to
from opencx.platform.errors import AppError
from opencx.platform.numbers import whole_number
from opencx.platform.roles import Capability
from opencx.platform.selectors import location_get, touchpoints_of
from opencx.ui.brand_views import brand_page, location_choices

from . import selectors
from .services import link_ensure


def _optional(queryset, raw: str, field: str):
    if not raw:
        return None
    pk = whole_number(raw)
    if pk is None:
        raise AppError("Choose from the list.", field=field)
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise AppError("Choose from the list.", field=field)
    return found


@brand_page
@require_http_methods(["GET", "HEAD", "POST"])
def survey_links(request, pk):
    """Links per location × touchpoint × channel with their QR codes. Every member sees the
    links of the locations in reach; survey managers make new ones."""
    actor = request.actor
    survey = selectors.survey_get(actor, pk=pk)
    error = None
    if request.method == "POST":
        actor.require(Capability.MANAGE_FEEDBACK)
        try:
            location_pk = whole_number(request.POST.get("location", ""))
            if location_pk is None:
                raise AppError("Choose a location.", field="location")
            location = location_get(actor, pk=location_pk)
            touchpoint = _optional(
                touchpoints_of(actor),
                request.POST.get("touchpoint", ""),
                "touchpoint",
            )
            channel = _optional(
                channels_visible_to(actor),
                request.POST.get("channel", ""),
                "channel",
            )
            link = link_ensure(
                actor=actor,
                survey=survey,
                location=location,
                touchpoint=touchpoint,
                channel=channel,
            )
        except AppError as problem:
            error = problem
        else:
            messages.success(request, f"Link ready for {location.name}.")
            target = reverse("surveys:links", args=[actor.brand.slug, survey.pk])
            return redirect(f"{target}#link-{link.pk}")
    links = [
        {
            "link": link,
            "url": request.build_absolute_uri(
                reverse("survey_public:start", kwargs={"token": link.token})
            ),
            "svg": reverse("survey_public:qr", kwargs={"token": link.token, "fmt": "svg"}),
            "png": reverse("survey_public:qr", kwargs={"token": link.token, "fmt": "png"}),
            "embed": request.build_absolute_uri(
                reverse("survey_public:embed", kwargs={"token": link.token})
            ),
        }
        for link in selectors.survey_links(actor, survey=survey)
    ]
    return render(
        request,
        "surveys/links.html",
        {
            "survey": survey,
            "links": links,
            "error": error,
            "locations": location_choices(actor, request.current_location),
            "touchpoints": touchpoints_of(actor).filter(is_active=True),
            "channels": channels_visible_to(actor),
            "can_manage": actor.can(Capability.MANAGE_FEEDBACK),
        },
        status=422 if error else 200,
    )
