"""Forms of the integrations pages: they validate input only; services write."""

from django import forms

from .catalogue import CATALOGUE
from .models import NotificationPreference, WebhookEndpoint


def _event_choices():
    return [(name, f"{name} — {event.description}") for name, event in CATALOGUE.items()]


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, help_text="Empty: the URL's host")
    # A CharField, so the service's checks (with their clearer messages) decide.
    url = forms.CharField(
        label="URL", max_length=2000, help_text="Where each event is POSTed (https://…)"
    )
    kind = forms.ChoiceField(choices=WebhookEndpoint.Kind.choices, initial="webhook")
    events = forms.MultipleChoiceField(
        choices=_event_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event, including ones added later.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    @classmethod
    def initial_for(cls, endpoint: WebhookEndpoint) -> dict:
        return {
            "name": endpoint.name,
            "url": endpoint.url,
            "kind": endpoint.kind,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }


class NotificationForm(forms.Form):
    email_case_assigned = forms.BooleanField(
        label="E-mail me when a case is assigned to me", required=False
    )
    email_case_escalated = forms.BooleanField(
        label="E-mail me when a case I can see is escalated", required=False
    )
    email_case_overdue = forms.BooleanField(
        label="E-mail me when a case of mine is overdue", required=False
    )
    email_alerts = forms.BooleanField(label="E-mail me alerts", required=False)
    digest = forms.ChoiceField(
        label="Summary e-mail", choices=NotificationPreference.Digest.choices
    )

    @classmethod
    def initial_for(cls, preference: NotificationPreference) -> dict:
        return {name: getattr(preference, name) for name in cls.base_fields}
