"""The location form: plain fields plus one text box per weekday for the opening hours.

Opening hours are typed as "09:00-13:00, 15:00-19:30" (empty = closed) and become the model's
JSON shape, {"0": [["09:00", "13:00"], ["15:00", "19:30"]], ...} with 0 = Monday.
"""

import re
from datetime import datetime
from zoneinfo import available_timezones

from django import forms

from .models import Location

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_FIELDS = tuple(f"hours_{day}" for day in range(7))
_INTERVAL = re.compile(r"^(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})$")
# Fields the services know; everything else in the form is presentation.
SERVICE_FIELDS = (
    "name",
    "code",
    "kind",
    "country",
    "city",
    "address",
    "timezone",
    "languages",
    "review_url",
    "is_active",
)


def parse_day(text: str, *, weekday: str) -> list[list[str]]:
    """'09:00-13:00, 15:00-19:30' -> [["09:00","13:00"], ["15:00","19:30"]]; '' -> []."""
    intervals: list[list[str]] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _INTERVAL.match(part)
        if match is None:
            raise forms.ValidationError(
                f"{weekday}: write “{part}” as two times like 09:00-13:00.", code="format"
            )
        try:
            start, end = (datetime.strptime(t, "%H:%M").time() for t in match.groups())
        except ValueError:
            raise forms.ValidationError(
                f"{weekday}: “{part}” is not a real time of day (00:00 to 23:59).", code="time"
            ) from None
        if start >= end:
            raise forms.ValidationError(
                f"{weekday}: “{part}” closes before it opens.", code="order"
            )
        intervals.append([start.strftime("%H:%M"), end.strftime("%H:%M")])
    intervals.sort()
    for before, after in zip(intervals, intervals[1:], strict=False):
        if after[0] < before[1]:
            raise forms.ValidationError(
                f"{weekday}: {before[0]}-{before[1]} and {after[0]}-{after[1]} overlap.",
                code="overlap",
            )
    return intervals


def format_day(intervals) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


def opening_hours_rows(hours: dict | None) -> list[tuple[str, str]]:
    """(weekday name, "09:00-13:00, 15:00-19:30" or "") for Monday..Sunday."""
    hours = hours or {}
    return [(name, format_day(hours.get(str(day)))) for day, name in enumerate(WEEKDAYS)]


def _timezone_choices():
    return [(name, name) for name in sorted(available_timezones())]


class LocationForm(forms.Form):
    parent = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        empty_label="— Top level (whole brand) —",
        help_text="Where the new location sits in the hierarchy.",
    )
    name = forms.CharField(max_length=200)
    code = forms.SlugField(
        max_length=64,
        required=False,
        help_text="Short code used in links and imports; made from the name when empty.",
    )
    kind = forms.ChoiceField(choices=Location.Kind.choices, initial=Location.Kind.STORE)
    country = forms.CharField(
        max_length=2, required=False, help_text="Two-letter ISO code, e.g. IT."
    )
    city = forms.CharField(max_length=120, required=False)
    address = forms.CharField(max_length=300, required=False)
    timezone = forms.ChoiceField(choices=_timezone_choices, initial="UTC", label="Time zone")
    languages = forms.CharField(
        max_length=200,
        required=False,
        help_text="Language codes separated by commas, e.g. it, en.",
    )
    review_url = forms.URLField(required=False, label="Review page address", assume_scheme="https")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, parents=None, allow_top_level=True, **kwargs):
        """`parents`: the locations the actor may place a new one under (None: no parent field)."""
        super().__init__(*args, **kwargs)
        if parents is None:
            del self.fields["parent"]
        else:
            self.fields["parent"].queryset = parents
            self.fields["parent"].required = not allow_top_level
            self.fields["parent"].label_from_instance = lambda loc: (
                "\u00a0\u00a0" * loc.depth + loc.name
            )
        for day, weekday in enumerate(WEEKDAYS):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=weekday,
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "09:00-13:00, 15:00-19:30"}),
            )

    @classmethod
    def initial_from(cls, location: Location) -> dict:
        initial = {name: getattr(location, name) for name in SERVICE_FIELDS}
        initial["languages"] = ", ".join(location.languages or [])
        for day in range(7):
            initial[f"hours_{day}"] = format_day((location.opening_hours or {}).get(str(day)))
        return initial

    def clean_country(self):
        country = self.cleaned_data["country"].strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter ISO code, e.g. IT.")
        return country

    def clean_languages(self):
        codes = [c.strip().lower() for c in re.split(r"[,\s]+", self.cleaned_data["languages"])]
        codes = [c for c in codes if c]
        bad = [c for c in codes if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", c)]
        if bad:
            raise forms.ValidationError(f"“{bad[0]}” is not a language code like it or pt-br.")
        return list(dict.fromkeys(codes))

    def clean(self):
        cleaned = super().clean()
        hours = {}
        for day, weekday in enumerate(WEEKDAYS):
            field = f"hours_{day}"
            if field not in cleaned:
                continue
            try:
                intervals = parse_day(cleaned[field], weekday=weekday)
            except forms.ValidationError as error:
                self.add_error(field, error)
                continue
            if intervals:
                hours[str(day)] = intervals
        cleaned["opening_hours"] = hours
        return cleaned

    def service_kwargs(self) -> dict:
        """The keyword arguments for location_create/location_update."""
        data = {name: self.cleaned_data[name] for name in SERVICE_FIELDS}
        if not data["code"]:
            del data["code"]  # create: made from the name; edit: unchanged
        data["opening_hours"] = self.cleaned_data["opening_hours"]
        return data

    def add_app_error(self, error) -> None:
        """Show an AppError from a service next to the field it names."""
        field = error.field if error.field in self.fields else None
        if error.field == "opening_hours":
            field = None
        self.add_error(field, error.message)
