"""Forms of the inbox settings pages. They check the shape of the input only: every write goes
through the services (`services.inbox_create_*`, `inbox_settings`), whose AppError lands on
the field it names (`platform.forms.add_app_error`); location choices come from
`locations_visible_to`. Each form's fields are named as its service's arguments.

Secrets (passwords, tokens, app secrets) are password inputs that never show a value again.
"""

from django import forms

from opencx.platform.forms import WholeNumberField

from .models import Conversation, MetaChannel
from .sla import MAX_MINUTES


class ProviderURLField(forms.CharField):
    """The provider's API address, prefilled; left empty, the usual one."""

    def __init__(self, *, default: str, **kwargs):
        self.default = default
        kwargs.update(required=False, initial=default, max_length=200, widget=forms.URLInput)
        super().__init__(**kwargs)
        if not self.help_text:
            self.help_text = f"Empty: {default}"

    def to_python(self, value):
        return super().to_python(value) or self.default


def _secret(label: str, *, required: bool = True, max_length: int = 128, help_text: str = ""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        strip=True,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _port(label: str, initial: int, help_text: str = "") -> WholeNumberField:
    return WholeNumberField(
        label=label, min_value=1, max_value=65535, initial=initial, help_text=help_text
    )


class _LocatedForm(forms.Form):
    """A form with the inbox's location: a brand-wide admin may choose the whole brand; a
    location-scoped one only a location in their subtree."""

    name = forms.CharField(label="Name", max_length=120)
    location = forms.ChoiceField(label="Location", required=False)

    def __init__(self, *args, locations=(), brand_wide: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.locations = {str(location.pk): location for location in locations}
        field = self.fields["location"]
        field.choices = ([("", "The whole brand")] if brand_wide else []) + [
            (pk, f"{location.depth_indent}{location.name}")
            for pk, location in self.locations.items()
        ]
        field.required = not brand_wide
        if not brand_wide:
            field.help_text = "You manage inboxes at your locations only."

    def clean_location(self):
        value = self.cleaned_data["location"]
        return self.locations[value] if value else None


# --- New inboxes, one form per kind ---------------------------------------------------------


class EmailInboxForm(_LocatedForm):
    kind = "email"
    title = "E-mail"
    address = forms.EmailField(
        label="Address", max_length=254, help_text="The address customers write to."
    )
    imap_host = forms.CharField(label="IMAP server", max_length=255)
    imap_port = _port("IMAP port", 993)
    imap_ssl = forms.BooleanField(
        label="IMAP over TLS (off: plain, with STARTTLS if offered)", required=False, initial=True
    )
    imap_user = forms.CharField(label="IMAP user name", max_length=255)
    imap_password = _secret("IMAP password", required=False, max_length=255)
    imap_folder = forms.CharField(label="Folder", max_length=255, required=False, initial="INBOX")
    smtp_host = forms.CharField(label="SMTP server", max_length=255)
    smtp_port = _port("SMTP port", 587, help_text="465 means TLS from the start.")
    smtp_starttls = forms.BooleanField(label="SMTP with STARTTLS", required=False, initial=True)
    smtp_user = forms.CharField(label="SMTP user name", max_length=255, required=False)
    smtp_password = _secret("SMTP password", required=False, max_length=255)


class ApiInboxForm(_LocatedForm):
    kind = "api"
    title = "API"
    webhook_url = forms.CharField(
        label="Webhook address",
        max_length=200,
        required=False,
        help_text="Optional: agents' replies are POSTed here, signed.",
        widget=forms.URLInput,
    )


class SmsInboxForm(_LocatedForm):
    kind = "sms"
    title = "SMS"
    phone_number = forms.CharField(
        label="Phone number", max_length=32, help_text="The number customers text, e.g. +44…"
    )
    account_sid = forms.CharField(label="Account SID", max_length=64)
    auth_token = _secret("Auth token", help_text="Sends replies and signs the webhooks.")
    api_base_url = ProviderURLField(
        label="Provider API",
        default="https://api.twilio.com",
        help_text="Another Twilio-compatible API, if not Twilio.",
    )


class MetaInboxForm(_LocatedForm):
    kind = "meta"
    title = "Facebook or Instagram"
    platform = forms.ChoiceField(label="Platform", choices=MetaChannel.Platform.choices)
    page_id = forms.CharField(
        label="Page id", max_length=64, help_text="The page's (or Instagram account's) id."
    )
    app_secret = _secret("App secret", help_text="The Meta app's secret: signs the webhooks.")
    page_access_token = _secret("Page access token", max_length=512, help_text="Sends replies.")
    verify_token = forms.CharField(
        label="Verify token",
        max_length=128,
        required=False,
        help_text="For Meta's subscription check; empty: one is made for you.",
    )
    graph_base_url = ProviderURLField(label="Graph API", default="https://graph.facebook.com/v19.0")


class GoogleReviewsInboxForm(_LocatedForm):
    kind = "google_reviews"
    title = "Google reviews"
    account_id = forms.CharField(
        label="Account id", max_length=64, help_text="The Business Profile account's id."
    )
    listing_id = forms.CharField(
        label="Listing id", max_length=64, help_text="Google's location id of the listing."
    )
    access_token = _secret(
        "Access token",
        required=False,
        max_length=512,
        help_text="OAuth token with the business.manage scope: posts replies.",
    )
    api_base_url = ProviderURLField(
        label="Business Profile API", default="https://mybusiness.googleapis.com/v4"
    )


CREATE_FORMS = {
    form.kind: form
    for form in (EmailInboxForm, ApiInboxForm, SmsInboxForm, MetaInboxForm, GoogleReviewsInboxForm)
}


# --- One inbox -------------------------------------------------------------------------------


class InboxForm(_LocatedForm):
    is_active = forms.BooleanField(
        label="Active: takes new messages and sends replies", required=False
    )
    auto_assign = forms.BooleanField(
        label="Assign new conversations to available agents automatically", required=False
    )

    @classmethod
    def initial_for(cls, inbox) -> dict:
        return {
            "name": inbox.name,
            "location": str(inbox.location_id or ""),
            "is_active": inbox.is_active,
            "auto_assign": inbox.auto_assign,
        }


class SlaRowForm(forms.Form):
    """The targets of one priority (prefix `sla-<priority>`); all empty: no policy."""

    first_response_minutes = WholeNumberField(
        label="First response", min_value=1, max_value=MAX_MINUTES, required=False
    )
    next_response_minutes = WholeNumberField(
        label="Next response", min_value=1, max_value=MAX_MINUTES, required=False
    )
    resolution_minutes = WholeNumberField(
        label="Resolution", min_value=1, max_value=MAX_MINUTES, required=False
    )
    business_hours = forms.BooleanField(label="Business hours only", required=False)

    def __init__(self, *args, priority: str, **kwargs):
        kwargs.setdefault("prefix", f"sla-{priority}")
        super().__init__(*args, **kwargs)
        self.priority = priority
        self.priority_label = Conversation.Priority(priority).label

    @staticmethod
    def initial_for(policy) -> dict:
        if policy is None:
            return {"business_hours": True}
        return {
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "business_hours": policy.business_hours,
        }
