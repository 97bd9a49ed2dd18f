"""Forms of the case pages. They check the shape of the input only: every write goes through
`cases.services`, whose AppError lands on the field it names (`platform.forms.add_app_error`),
and every choice comes from an actor-scoped selector."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils import timezone

from opencx.platform.forms import WholeNumberField

from .models import Case, CaseRule, Priority

TEXT = 5000
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_input(moment: datetime | None, zone_name: str) -> str:
    """A stored moment as a datetime-local value in the location's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(_zone(zone_name)).strftime(DATETIME_LOCAL)


class _CaseForm(forms.Form):
    """A form of the case page: its element ids start with its action (several forms share
    field names there, e.g. the reply's and the note's `body`)."""

    action = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.action}-%s")
        super().__init__(*args, **kwargs)


class TransitionForm(_CaseForm):
    action = "transition"
    to = forms.ChoiceField(choices=Case.Status.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=TEXT,
        widget=_textarea(),
        help_text="Required when resolving (how it was resolved) or closing an unresolved case.",
    )


class AssignForm(_CaseForm):
    action = "assign"

    owner = forms.ChoiceField(label="Owner", required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {str(person.pk): person for person in people}
        self.fields["owner"].choices = [("", "Nobody")] + [
            (pk, str(person)) for pk, person in self.people.items()
        ]

    def clean_owner(self):
        value = self.cleaned_data["owner"]
        return self.people[value] if value else None


class PriorityForm(_CaseForm):
    action = "priority"

    priority = forms.ChoiceField(label="Priority", choices=Priority.choices)


class RootCauseForm(_CaseForm):
    action = "root_cause"

    what_happened = forms.CharField(
        label="What happened", required=False, max_length=TEXT, widget=_textarea()
    )
    happened_at = forms.CharField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    duration = forms.CharField(label="For how long", required=False, max_length=120)
    noticed_by = forms.CharField(label="Who else noticed", required=False, max_length=300)
    why = forms.CharField(label="Why", required=False, max_length=TEXT, widget=_textarea())
    customer_reaction = forms.CharField(
        label="How the customer reacted", required=False, max_length=TEXT, widget=_textarea(2)
    )
    change_after = forms.CharField(
        label="What changed after", required=False, max_length=TEXT, widget=_textarea(2)
    )
    root_cause = forms.ChoiceField(
        label="Root-cause category",
        required=False,
        choices=[("", "Not yet known"), *Case.RootCause.choices],
    )

    def __init__(self, *args, zone_name: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone_name = zone_name
        self.fields["happened_at"].help_text = f"In the location's time zone ({zone_name})."

    @classmethod
    def initial_for(cls, case: Case) -> dict:
        initial = {name: getattr(case, name) for name in cls.base_fields}
        initial["happened_at"] = local_input(case.happened_at, case.location.timezone)
        return initial

    def clean_happened_at(self):
        text = self.cleaned_data["happened_at"].strip()
        if not text:
            return None
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError("Enter a date and time, e.g. 2025-03-14T18:30.") from None
        if naive.tzinfo is not None:
            return naive
        return timezone.make_aware(naive, _zone(self.zone_name))


class ReplyForm(_CaseForm):
    action = "reply"

    subject = forms.CharField(
        label="Subject",
        required=False,
        max_length=200,
        help_text="Empty: “About your feedback: …” with the case's title.",
    )
    body = forms.CharField(label="Message", max_length=TEXT, widget=_textarea(6))


class NoteForm(_CaseForm):
    action = "note"

    body = forms.CharField(label="Internal note", max_length=TEXT, widget=_textarea(3))


class CaseNewForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    location = forms.ChoiceField(label="Location")
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial="normal")
    email = forms.EmailField(
        label="Customer's e-mail",
        required=False,
        help_text="Optional: a customer already known to the brand.",
    )

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.locations = {str(location.pk): location for location in locations}
        self.fields["location"].choices = [
            (pk, f"{location.depth_indent}{location.name}")
            for pk, location in self.locations.items()
        ]

    def clean_location(self):
        return self.locations[self.cleaned_data["location"]]


def _choice_objects(field: forms.ChoiceField, objects, label=str, empty: str = "Any"):
    field.choices = [("", empty)] + [(str(obj.pk), label(obj)) for obj in objects]
    return {str(obj.pk): obj for obj in objects}


class CaseRuleForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    trigger = forms.ChoiceField(label="Opens a case when", choices=CaseRule.Trigger.choices)
    threshold = WholeNumberField(
        label="Threshold",
        required=False,
        min_value=-100,
        max_value=100,
        signed=True,
        help_text="NPS at most (default 6); stars at most (default 2); drop of at least "
        "(default 3). Empty: the default.",
    )
    keywords = forms.CharField(
        label="Keywords",
        required=False,
        max_length=4000,
        help_text="Separated by commas, e.g. refund, rimborso, возврат.",
    )
    location = forms.ChoiceField(label="Only at", required=False)
    touchpoint = forms.ChoiceField(label="Only for touchpoint", required=False)
    survey = forms.ChoiceField(label="Only for survey", required=False)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial="normal")
    position = WholeNumberField(
        label="Position",
        required=False,
        min_value=0,
        max_value=100000,
        help_text="Rules are tried in this order; the first that matches opens the case.",
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args, locations=(), touchpoints=(), surveys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = {
            "location": _choice_objects(
                self.fields["location"],
                locations,
                lambda loc: f"{loc.depth_indent}{loc.name}",
                "Everywhere",
            ),
            "touchpoint": _choice_objects(self.fields["touchpoint"], touchpoints),
            "survey": _choice_objects(self.fields["survey"], surveys),
        }

    @classmethod
    def initial_for(cls, rule: CaseRule) -> dict:
        return {
            "name": rule.name,
            "trigger": rule.trigger,
            "threshold": "" if rule.threshold is None else rule.threshold,
            "keywords": ", ".join(rule.keywords),
            "location": rule.location_id or "",
            "touchpoint": rule.touchpoint_id or "",
            "survey": rule.survey_id or "",
            "priority": rule.priority,
            "position": rule.position,
            "is_active": rule.is_active,
        }

    def clean(self):
        cleaned = super().clean()
        for name, objects in self.objects.items():
            if name in cleaned:
                cleaned[name] = objects.get(cleaned[name]) if cleaned[name] else None
        if "position" in cleaned and cleaned["position"] is None:
            cleaned["position"] = 0
        return cleaned


class RoutingRuleForm(forms.Form):
    location = forms.ChoiceField(label="Cases at", required=False)
    touchpoint = forms.ChoiceField(label="From touchpoint", required=False)
    topic = forms.CharField(
        label="Mentioning",
        required=False,
        max_length=80,
        help_text="A word the customer's text starts a word with; empty: any text.",
    )
    owner = forms.ChoiceField(label="Go to")
    position = WholeNumberField(label="Position", required=False, min_value=0, max_value=100000)

    def __init__(self, *args, locations=(), touchpoints=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = {
            "location": _choice_objects(
                self.fields["location"],
                locations,
                lambda loc: f"{loc.depth_indent}{loc.name}",
                "Any location",
            ),
            "touchpoint": _choice_objects(self.fields["touchpoint"], touchpoints),
            "owner": _choice_objects(self.fields["owner"], people, empty="Choose a person"),
        }

    def clean(self):
        cleaned = super().clean()
        for name, objects in self.objects.items():
            if name in cleaned:
                cleaned[name] = objects.get(cleaned[name]) if cleaned[name] else None
        if "owner" in cleaned and cleaned["owner"] is None:
            self.add_error("owner", "Choose who gets these cases.")
        if "position" in cleaned and cleaned["position"] is None:
            cleaned["position"] = 0
        return cleaned


class SlaPolicyForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices, widget=forms.HiddenInput)
    acknowledge_hours = WholeNumberField(label="Acknowledge within", min_value=1, max_value=2000)
    resolve_hours = WholeNumberField(label="Resolve within", min_value=1, max_value=2000)
