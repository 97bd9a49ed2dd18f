"""Forms for sign-in, personal security and brand settings. They validate input only: every
write goes through `platform.services`, and choices come from actor-scoped selectors."""

from datetime import timedelta
from zoneinfo import available_timezones

from django import forms
from django.conf.locale import LANG_INFO
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from .errors import AppError, Forbidden
from .models import Location
from .numbers import whole_number
from .roles import Role

MAX_TOKEN_DAYS = 3650


class WholeNumberField(forms.CharField):
    """A whole number typed by a person (ASCII digits only, via `whole_number`)."""

    def __init__(self, *, min_value: int, max_value: int, signed: bool = False, **kwargs):
        self.min_value, self.max_value, self.signed = min_value, max_value, signed
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        number = whole_number(text[:20], signed=self.signed)
        if number is None:
            raise forms.ValidationError("Enter a whole number.")
        if not self.min_value <= number <= self.max_value:
            raise forms.ValidationError(
                f"Enter a whole number from {self.min_value} to {self.max_value}."
            )
        return number


def language_choices() -> list[tuple[str, str]]:
    """Every language Django knows, by name: a brand's customers may speak more than the UI."""
    codes = (code for code, info in LANG_INFO.items() if "name" in info and "-" not in code)
    return sorted(
        ((code, f"{LANG_INFO[code]['name']} ({code})") for code in codes), key=lambda c: c[1]
    )


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


def form_error_status(error: AppError) -> int:
    """The page's status for a service error shown on a form. Not-found inside a form is a
    choice that was not offered: a bad request on the field. Forbidden stays 403, so that a
    refused permission is recognisable."""
    return 403 if isinstance(error, Forbidden) else 400 if error.status == 404 else error.status


def add_app_error(form: forms.Form, error: AppError, *, default_field: str | None = None) -> None:
    """Show a service's error on the field it names (or the form as a whole)."""
    field = error.field if error.field in form.fields else default_field
    form.add_error(field, error.message)


class LoginForm(AuthenticationForm):
    """E-mail and password. The field stays named `username`, as django-axes expects."""

    username = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


def _code_field(*, autofocus: bool) -> forms.CharField:
    attrs = {"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
    if autofocus:
        attrs["autofocus"] = True
    return forms.CharField(
        label="6-digit code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs=attrs),
    )


def _clean_code(value: str) -> str:
    code = value.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit()):
        raise forms.ValidationError("The code is six digits.")
    return code


class OTPCodeForm(forms.Form):
    """The second step of signing in."""

    code = _code_field(autofocus=True)

    def clean_code(self):
        return _clean_code(self.cleaned_data["code"])


class TwoFactorConfirmForm(forms.Form):
    """Proof that the authenticator app was set up; `token` matches the service's error field."""

    token = _code_field(autofocus=False)

    def clean_token(self):
        return _clean_code(self.cleaned_data["token"])


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Where the token is used, e.g. “Warehouse sync”."
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text="Leave empty for a token that does not expire.",
    )

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class BrandForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    default_language = forms.ChoiceField(label="Default language")
    languages = forms.CharField(
        label="Languages",
        max_length=200,
        help_text="Language codes your customers use, separated by commas, e.g. it, en, cy.",
    )
    timezone = forms.ChoiceField(label="Time zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_language"].choices = language_choices()
        self.fields["timezone"].choices = timezone_choices()

    @classmethod
    def initial_for(cls, brand) -> dict:
        return {
            "name": brand.name,
            "default_language": brand.default_language,
            "languages": ", ".join(brand.languages),
            "timezone": brand.timezone,
        }

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A brand needs a name.")
        return name

    def clean_languages(self):
        raw = self.cleaned_data["languages"].replace(";", ",").replace(" ", ",")
        codes: list[str] = []
        for code in (part.strip().lower() for part in raw.split(",")):
            if not code or code in codes:
                continue
            if code not in LANG_INFO or "name" not in LANG_INFO[code]:
                raise forms.ValidationError(f"Unknown language code {code!r}.")
            codes.append(code)
        return codes

    def clean(self):
        cleaned = super().clean()
        default, codes = cleaned.get("default_language"), cleaned.get("languages")
        if default and codes is not None and default not in codes:
            codes.insert(0, default)
        return cleaned


class LocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Location) -> str:
        return f"{obj.depth_indent}{obj.name}"


class MembershipForm(forms.Form):
    """Role and reach. `locations` must come from `locations_visible_to(actor)`."""

    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.VIEWER)
    location = LocationChoiceField(
        label="Location",
        queryset=Location.objects.none(),
        required=False,
        empty_label="Whole brand",
        help_text="Limit access to one location and everything under it.",
    )

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class InviteForm(MembershipForm):
    email = forms.EmailField(label="E-mail", max_length=254)

    field_order = ["email", "role", "location"]


class TouchpointForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    key = forms.SlugField(
        label="Key",
        max_length=64,
        required=False,
        help_text="Short code used in links and imports; made from the name if empty.",
    )
    description = forms.CharField(label="Description", max_length=300, required=False)


class TouchpointEditForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    description = forms.CharField(label="Description", max_length=300, required=False)
    is_active = forms.BooleanField(label="Active", required=False)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A touchpoint needs a name.")
        return name
