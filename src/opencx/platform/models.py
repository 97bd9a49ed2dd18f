"""The tenant, its location hierarchy, people, access and the audit trail."""

import hashlib
import secrets
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone as django_timezone

from .roles import Role

PATH_STEP = 4  # characters per level in Location.path: "0001" "00010003" ...


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. The e-mail address is the login name."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    language = models.CharField(max_length=8, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Brand(models.Model):
    """The tenant: every row under it carries brand_id."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    default_language = models.CharField(max_length=8, default="en")
    languages = models.JSONField(default=list, blank=True, help_text="Language codes in use")
    timezone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return self.name


def path_lineage(path: str) -> list[str]:
    """A materialised path's ancestors and itself, from the top down ("0001", "00010003")."""
    return [path[:end] for end in range(PATH_STEP, len(path) + 1, PATH_STEP)]


class Location(models.Model):
    """A node in the brand's hierarchy (region, store, online shop), of any depth.

    `path` is a materialised path (4 characters per level), so a subtree is one prefix match
    on every database; it is maintained by `platform.services.location_create/move`.
    """

    class Kind(models.TextChoices):
        REGION = "region", "Region"
        STORE = "store", "Store"
        ONLINE = "online", "Online shop"
        OTHER = "other", "Other"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="locations")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=64, help_text="Short code used in links and imports")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STORE)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    city = models.CharField(max_length=120, blank=True)
    address = models.CharField(max_length=300, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    languages = models.JSONField(default=list, blank=True)
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text='Weekday (0=Monday) to list of ["HH:MM","HH:MM"] intervals',
    )
    review_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "code"], name="location_code_unique"),
            models.UniqueConstraint(fields=["brand", "path"], name="location_path_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return len(self.path) // PATH_STEP - 1

    @property
    def lineage_paths(self) -> list[str]:
        """The paths of every location above this one and its own, from the top down."""
        return path_lineage(self.path)

    @property
    def depth_indent(self) -> str:
        """Prefix that shows the hierarchy in flat lists (select options, tables)."""
        return " " * self.depth

    def clean(self):
        if self.timezone not in available_timezones():
            raise ValidationError({"timezone": f"Unknown time zone {self.timezone!r}"})


class Touchpoint(models.Model):
    """Where the customer meets the brand (phone, store, delivery...). Editable per brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="touchpoints")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "key"], name="touchpoint_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """A medium a customer's words arrive through (e-mail, SMS, web chat, a review site...)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        WEB_CHAT = "web_chat", "Web chat"
        WEB = "web", "Website"
        PHONE = "phone", "Phone"
        IN_STORE = "in_store", "In store"
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        X = "x", "X (Twitter)"
        LINKEDIN = "linkedin", "LinkedIn"
        PINTEREST = "pinterest", "Pinterest"
        GOOGLE = "google", "Google reviews"
        TRUSTPILOT = "trustpilot", "Trustpilot"
        API = "api", "API"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="channels")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a brand, over the whole brand or one location's subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=24, choices=Role.choices)
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        help_text="Empty: the whole brand. Set: this location and everything under it.",
    )
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="one_membership_per_brand")
        ]

    def __str__(self) -> str:
        scope = self.location.name if self.location_id else "whole brand"
        return f"{self.user} · {self.get_role_display()} · {scope}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = django_timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the secret is shown once."""

    PREFIX = "ocx_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="First characters, to recognise the token")
    created_at = models.DateTimeField(default=django_timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def new_secret(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class AuditEvent(models.Model):
    """Who changed what, when. Written by services inside the same transaction as the change."""

    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=django_timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        target = f"{self.object_type}#{self.object_id}"
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {target}"
