"""The admins' inbox settings pages (MANAGE_BRAND): every inbox in reach with a form per kind to
add one, and one inbox's page: its name, location, switches, the details to connect its
provider, and its SLA targets per priority.

Reach first (404), then the capability (403), then the form; a service's AppError is shown on
the field it names, with the page's status 400 (409 for a conflict).
"""

from dataclasses import dataclass
from datetime import UTC

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from opencx.platform.errors import AppError, Forbidden
from opencx.platform.forms import add_app_error, form_error_status
from opencx.platform.roles import Capability
from opencx.platform.selectors import locations_visible_to
from opencx.ui.brand_views import brand_page

from . import inbox_settings, services
from .channels import google_reviews, meta, sms
from .models import Conversation, Inbox
from .settings_forms import CREATE_FORMS, InboxForm, SlaRowForm

# The service each "new inbox" form calls, by the form's kind.
CREATE_SERVICES = {
    "email": services.inbox_create_email,
    "api": services.inbox_create_api,
    "sms": services.inbox_create_sms,
    "meta": services.inbox_create_meta,
    "google_reviews": services.inbox_create_google_reviews,
}


def _located(actor, form_class, *args, **kwargs):
    return form_class(
        *args,
        locations=list(locations_visible_to(actor).only("id", "name", "path")),
        brand_wide=actor.is_brand_wide,
        **kwargs,
    )


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


# --- Every inbox -----------------------------------------------------------------------------


def _list_page(request, *, bound=None, status=200):
    actor = request.actor
    create_forms = [
        bound if bound is not None and bound.kind == kind else _located(actor, form, prefix=kind)
        for kind, form in CREATE_FORMS.items()
    ]
    return render(
        request,
        "inbox/settings_inboxes.html",
        {
            "inboxes": inbox_settings.inboxes_for_settings(actor),
            "create_forms": create_forms,
            "section": "inboxes",
        },
        status=status,
    )


@brand_page
def inbox_list(request):
    """GET: every inbox in reach and the forms for new ones. POST form=<kind> creates one."""
    actor = request.actor
    actor.require(Capability.MANAGE_BRAND)
    if request.method in ("GET", "HEAD"):
        return _list_page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    kind = request.POST.get("form", "")
    if kind not in CREATE_FORMS:
        raise AppError("Unknown form.", field="form")
    form = _located(actor, CREATE_FORMS[kind], request.POST, prefix=kind)
    if not form.is_valid():
        return _list_page(request, bound=form, status=400)
    try:
        created = CREATE_SERVICES[kind](actor=actor, **form.cleaned_data)
    except AppError as error:
        if isinstance(error, Forbidden):
            raise
        add_app_error(form, error, default_field="name")
        return _list_page(request, bound=form, status=form_error_status(error))
    if kind == "api":  # its token exists only in this answer (only its digest is stored)
        response = render(
            request,
            "inbox/settings_api_token.html",
            {"inbox": created.inbox, "issued": created, "section": "inboxes"},
            status=201,
        )
        return _no_store(response)
    messages.success(request, f"Inbox “{created.name}” created. Connect its provider below.")
    return redirect("inbox:inbox-settings", actor.brand.slug, created.pk)


# --- One inbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    label: str
    value: str
    kind: str = "text"  # "text", "address" (to copy), "set" (a secret: only whether it is)
    private: bool = False  # the address carries a secret


def _set(label: str, value: str) -> Detail:
    return Detail(label, "set" if value else "not set", kind="set")


def connection_details(inbox: Inbox) -> list[Detail]:
    """What an admin needs to connect the inbox's provider; never a password or secret
    itself (only whether one is set), except where the provider needs it pasted in: Meta's
    verify token, and Google's push address, which carries the inbox's push secret.

    Addresses are the ones the channels check signatures against (on the public host,
    OPENCX_PUBLIC_HOST), as the API gives them."""
    kind = inbox.kind
    K = Inbox.Kind
    if kind == K.EMAIL and hasattr(inbox, "email"):
        mail = inbox.email
        imap = f"{mail.imap_host}:{mail.imap_port} ({'TLS' if mail.imap_ssl else 'plain'})"
        smtp = f"{mail.smtp_host}:{mail.smtp_port}{' (STARTTLS)' if mail.smtp_starttls else ''}"
        details = [
            Detail("Address", mail.address),
            Detail("IMAP server", imap),
            Detail("IMAP user", mail.imap_user),
            _set("IMAP password", mail.imap_password),
            Detail("Folder", mail.imap_folder),
            Detail("SMTP server", smtp),
            Detail("SMTP user", mail.smtp_user or "—"),
            _set("SMTP password", mail.smtp_password),
            Detail(
                "Last read",
                mail.last_fetched_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                if mail.last_fetched_at
                else "not yet",
            ),
        ]
        if mail.last_error:
            details.append(Detail("Last error", mail.last_error))
        return details
    if kind == K.API and hasattr(inbox, "api"):
        return [
            Detail("Token", f"{inbox.api.token_hint}…"),
            Detail("Webhook address", inbox.api.webhook_url or "none"),
            _set("Webhook secret", inbox.api.webhook_secret),
        ]
    if kind == K.SMS and hasattr(inbox, "sms"):
        return [
            Detail("Phone number", inbox.sms.phone_number),
            Detail("Account SID", inbox.sms.account_sid),
            _set("Auth token", inbox.sms.auth_token),
            Detail("Provider API", inbox.sms.api_base_url),
            Detail("A message comes in (webhook, HTTP POST)", sms.inbound_url(inbox), "address"),
            Detail(
                "Delivery reports (set on each reply)", sms.status_callback_url(inbox), "address"
            ),
        ]
    if kind in (K.FACEBOOK, K.INSTAGRAM) and hasattr(inbox, "meta"):
        return [
            Detail("Page id", inbox.meta.page_id),
            _set("App secret", inbox.meta.app_secret),
            _set("Page access token", inbox.meta.page_access_token),
            Detail("Callback URL (Webhooks settings)", meta.webhook_url(inbox), "address"),
            Detail("Verify token", inbox.meta.verify_token, "address"),
        ]
    if kind == K.GOOGLE_REVIEWS and hasattr(inbox, "google_reviews"):
        config = inbox.google_reviews
        return [
            Detail("Account id", config.account_id),
            Detail("Listing id", config.listing_id),
            _set("Access token", config.access_token),
            Detail(
                "Push endpoint (Pub/Sub subscription)",
                google_reviews.push_url(inbox),
                "address",
                private=True,
            ),  # fmt: skip
        ]
    return []


def _sla_forms(inbox, policies, data=None) -> list[SlaRowForm]:
    return [
        SlaRowForm(data, priority=priority, initial=SlaRowForm.initial_for(policies.get(priority)))
        for priority in Conversation.Priority.values
    ]


def _detail_page(request, inbox, *, inbox_form=None, sla_forms=None, error=None, status=200):
    actor = request.actor
    policies = inbox_settings.sla_targets_of(actor, inbox=inbox)
    sla_forms = sla_forms or _sla_forms(inbox, policies)
    response = render(
        request,
        "inbox/settings_inbox.html",
        {
            "inbox": inbox,
            "inbox_form": inbox_form
            or _located(actor, InboxForm, prefix="inbox", initial=InboxForm.initial_for(inbox)),
            "sla_forms": sla_forms,
            "sla_invalid": any(form.is_bound and form.errors for form in sla_forms),
            "details": connection_details(inbox),
            "error": error,
            "section": "inboxes",
        },
        status=status,
    )
    return _no_store(response)  # the page may show a push address with its secret


def _update_inbox(request, inbox):
    actor = request.actor
    form = _located(actor, InboxForm, request.POST, prefix="inbox")
    if not form.is_valid():
        return _detail_page(request, inbox, inbox_form=form, status=400)
    try:
        inbox_settings.inbox_update(actor=actor, inbox=inbox, **form.cleaned_data)
    except AppError as error:
        if isinstance(error, Forbidden):
            raise
        add_app_error(form, error, default_field="name")
        return _detail_page(request, inbox, inbox_form=form, status=form_error_status(error))
    messages.success(request, f"Inbox “{inbox.name}” saved.")
    return redirect("inbox:inbox-settings", actor.brand.slug, inbox.pk)


def _save_sla(request, inbox):
    actor = request.actor
    forms = _sla_forms(inbox, {}, request.POST)
    if not all(form.is_valid() for form in forms):  # the others show theirs too
        return _detail_page(request, inbox, sla_forms=forms, status=400)
    rows = [inbox_settings.SlaRow(priority=form.priority, **form.cleaned_data) for form in forms]
    try:
        done = inbox_settings.inbox_sla_save(actor=actor, inbox=inbox, rows=rows)
    except AppError as error:
        if isinstance(error, Forbidden):
            raise
        for form in forms:
            field = (error.field or "").removeprefix(f"{form.prefix}-")
            if field != error.field and field in form.fields:
                # The row is named by where the message stands: the service's own words.
                form.add_error(field, getattr(error.__cause__, "message", error.message))
                break
        else:
            return _detail_page(request, inbox, sla_forms=forms, error=error, status=error.status)
        return _detail_page(request, inbox, sla_forms=forms, status=form_error_status(error))
    if done:
        messages.success(
            request,
            "Service levels saved: they apply to new conversations, and to those whose "
            "priority changes from now.",
        )
    else:
        messages.info(request, "Nothing changed in the service levels.")
    return redirect("inbox:inbox-settings", actor.brand.slug, inbox.pk)


FORMS = {"inbox": _update_inbox, "sla": _save_sla}


@brand_page
def inbox_detail(request, pk):
    """GET: one inbox's settings. POST form=inbox (name, location, switches) or form=sla."""
    inbox = inbox_settings.inbox_settings_get(request.actor, pk=pk)
    if request.method in ("GET", "HEAD"):
        return _detail_page(request, inbox)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    handler = FORMS.get(request.POST.get("form", ""))
    if handler is None:
        raise AppError("Unknown form.", field="form")
    return handler(request, inbox)
