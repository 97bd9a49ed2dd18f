"""Customers, their identities across channels, consent, and the facts of what they do.

Orders and web events are plain fact tables: CLV, churn and journeys are computed from them.
"""

from django.db import models
from django.utils import timezone

from opencx.platform.models import Brand, Location


class Contact(models.Model):
    """One person, however many e-mail addresses, phones and handles they reach us from."""

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "", "Not given"

    # Found through the (brand, home_location) index: none of its own.
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    home_location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        help_text="The store the customer belongs to; decides who in the brand sees them.",
    )
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    country = models.CharField(max_length=2, blank=True)
    city = models.CharField(max_length=120, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=8, choices=Gender.choices, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_marketing = models.BooleanField(default=False)
    consent_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "home_location"])]

    def __str__(self) -> str:
        return self.name or f"Contact #{self.pk}"


class Identity(models.Model):
    """A way to recognise a contact on one channel: unique per brand, kind and value."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        EXTERNAL = "external", "External id"
        FACEBOOK = "facebook", "Facebook"
        INSTAGRAM = "instagram", "Instagram"
        X = "x", "X (Twitter)"
        WEB = "web", "Website visitor"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, db_index=False)  # identity_unique
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="Normalised: lower-case e-mail, E.164 phone")
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "value"], name="identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Order(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="orders")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    external_id = models.CharField(max_length=64)
    placed_at = models.DateTimeField(db_index=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    items = models.PositiveIntegerField(default=1)
    delivered_at = models.DateTimeField(null=True, blank=True)
    promised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "external_id"], name="order_external_unique")
        ]
        indexes = [models.Index(fields=["brand", "placed_at"])]


class WebEvent(models.Model):
    """One step of a web session: page views, searches, cart and checkout steps, purchases."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "Page view"
        SEARCH = "search", "Search"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        CHECKOUT = "checkout", "Checkout step"
        PURCHASE = "purchase", "Purchase"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE)
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="web_events",
        help_text="The online shop the session happened in",
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL)
    session_id = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    path = models.CharField(max_length=300, blank=True)
    query = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "occurred_at"])]
