"""Forms of the playbook screens. They shape input; the services decide what is allowed."""

from django import forms

from opencx.platform.numbers import whole_number

from .models import Action, Segment

MAX_FILE_BYTES = 2 * 1024 * 1024


def _languages(brand) -> list[str]:
    languages = [brand.default_language, *(brand.languages or ())]
    return list(dict.fromkeys(code for code in languages if code))


class PlaybookForm(forms.Form):
    """A playbook; `locations` are those the actor may set one for, and `allow_default` offers
    the brand default ("", for brand-wide members). Subject and body per language."""

    location = forms.ChoiceField(label="Applies to")
    segment = forms.ChoiceField(choices=Segment.choices)
    action = forms.ChoiceField(choices=Action.choices)
    coupon_pool = forms.ChoiceField(
        required=False, label="Coupon pool", help_text="For coupon playbooks (passives)"
    )
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="An inactive override switches the segment off for its locations",
    )

    def __init__(self, *args, brand, locations, pools, allow_default=True, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = _languages(brand)
        choices = [("", "Brand default (all locations)")] if allow_default else []
        choices += [
            (str(location.pk), f"{location.depth_indent}{location.name}") for location in locations
        ]
        self.fields["location"].choices = choices
        self.fields["location"].required = False
        self.fields["coupon_pool"].choices = [("", "—")] + [
            (str(pool.pk), f"{pool.name} ({pool.offer})") for pool in pools
        ]
        if editing:
            for name in ("location", "segment"):
                self.fields[name].disabled = True
        for language in self.languages:
            self.fields[f"subject_{language}"] = forms.CharField(
                required=False, max_length=200, label=f"Subject ({language})"
            )
            self.fields[f"body_{language}"] = forms.CharField(
                required=False,
                max_length=5000,
                label=f"Body ({language})",
                widget=forms.Textarea(attrs={"rows": 7}),
                help_text="Empty: the standard text. Placeholders: {name} {brand} {location} "
                "{link} {code} {expires} {offer}",
            )

    @staticmethod
    def initial_for(playbook) -> dict:
        initial = {
            "location": str(playbook.location_id or ""),
            "segment": playbook.segment,
            "action": playbook.action,
            "coupon_pool": str(playbook.coupon_pool_id or ""),
            "is_active": playbook.is_active,
        }
        for language, text in (playbook.email_subject or {}).items():
            initial[f"subject_{language}"] = text
        for language, text in (playbook.email_body or {}).items():
            initial[f"body_{language}"] = text
        return initial

    def texts(self, kind: str) -> dict[str, str]:
        return {
            language: self.cleaned_data.get(f"{kind}_{language}", "") for language in self.languages
        }


class PoolForm(forms.Form):
    name = forms.CharField(max_length=120)
    offer = forms.CharField(max_length=200, help_text='e.g. "10% off your next visit"')
    valid_days = forms.CharField(
        required=False,
        max_length=4,
        label="Valid for (days)",
        help_text="From the day the code is sent; empty: no expiry",
    )

    def clean_valid_days(self):
        raw = self.cleaned_data["valid_days"].strip()
        if not raw:
            return None
        days = whole_number(raw)
        if days is None or not 1 <= days <= 3650:
            raise forms.ValidationError("A whole number of days from 1 to 3650.")
        return days


class GenerateForm(forms.Form):
    count = forms.CharField(max_length=6, label="How many codes")
    prefix = forms.CharField(required=False, max_length=13, help_text="Optional, e.g. SPRING-")

    def clean_count(self):
        count = whole_number(self.cleaned_data["count"].strip())
        if count is None:
            raise forms.ValidationError("A whole number, e.g. 500.")
        return count


class FileForm(forms.Form):
    file = forms.FileField(label="CSV or text file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("The file is not UTF-8 text.") from error
