"""NPS-segment playbooks: what happens after a promoter, passive or detractor answers.

A `Playbook` is set for the brand (location empty) or for a location's subtree; the most
specific one for the response's location wins. Each response to an NPS survey runs at most one
playbook (`PlaybookRun`, one per response, enforced by the database); a passive's coupon is drawn
from a `CouponPool` (one coupon per response, enforced by the database).
"""

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from opencx.contacts.models import Contact
from opencx.platform.models import Brand, Location
from opencx.surveys.models import Response


class Segment(models.TextChoices):
    PROMOTER = "promoter", "Promoters (9–10)"
    PASSIVE = "passive", "Passives (7–8)"
    DETRACTOR = "detractor", "Detractors (0–6)"


class Action(models.TextChoices):
    REVIEW = "review", "Invite to review the location publicly"
    REFERRAL = "referral", "Invite to refer a friend"
    COUPON = "coupon", "Send a single-use coupon"
    CASE = "case", "Hand to cases"


# What each segment may be given: the product's NPS-segment strategy.
SEGMENT_ACTIONS: dict[str, tuple[str, ...]] = {
    Segment.PROMOTER: (Action.REVIEW, Action.REFERRAL),
    Segment.PASSIVE: (Action.COUPON,),
    Segment.DETRACTOR: (Action.CASE,),
}


def segment_of(score: int | None) -> str | None:
    """The NPS segment of a 0–10 score (0–6 detractor, 7–8 passive, 9–10 promoter)."""
    if score is None or not 0 <= score <= 10:
        return None
    if score >= 9:
        return Segment.PROMOTER
    if score >= 7:
        return Segment.PASSIVE
    return Segment.DETRACTOR


class CouponPool(models.Model):
    """Single-use codes a brand uploads or generates, handed out one per passive response."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="coupon_pools")
    name = models.CharField(max_length=120)
    offer = models.CharField(max_length=200, help_text='What the code gives, e.g. "10% off"')
    valid_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A code expires this many days after it is sent"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="coupon_pool_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    pool = models.ForeignKey(CouponPool, on_delete=models.CASCADE, related_name="coupons")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(max_length=64)
    expires_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons"
    )
    # One coupon per response, whoever asks how often: the database refuses a second.
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon"
    )
    # Where the response that earned the code was given: decides who in the brand sees it.
    issued_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    redemption_ref = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "code"], name="coupon_code_unique"),
        ]
        indexes = [models.Index(fields=["pool", "issued_at"])]

    def __str__(self) -> str:
        return self.code


class Playbook(models.Model):
    """What to do for one NPS segment, brand-wide or for a location's subtree."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="playbooks")
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="playbooks",
        help_text="Empty: the brand's default. Set: this location and everything under it.",
    )
    segment = models.CharField(max_length=10, choices=Segment.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    is_active = models.BooleanField(default=True)
    # Language code to text. Placeholders: {name} {brand} {location} {link} {code} {expires}
    email_subject = models.JSONField(default=dict, blank=True)
    email_body = models.JSONField(default=dict, blank=True)
    coupon_pool = models.ForeignKey(
        CouponPool, null=True, blank=True, on_delete=models.PROTECT, related_name="playbooks"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # "Brand default" must collide with "brand default": NULL is made 0 for the index
            # (nulls_distinct=False is not available on SQLite).
            models.UniqueConstraint(
                F("brand"),
                Coalesce(F("location"), Value(0)),
                F("segment"),
                name="one_playbook_per_place_and_segment",
            ),
            models.CheckConstraint(
                condition=Q(segment="promoter", action__in=["review", "referral"])
                | Q(segment="passive", action="coupon")
                | Q(segment="detractor", action="case"),
                name="playbook_action_fits_segment",
            ),
        ]

    def __str__(self) -> str:
        where = self.location.name if self.location_id else "brand default"
        return f"{self.get_segment_display()} · {self.get_action_display()} · {where}"


class PlaybookRun(models.Model):
    """One playbook run for one response: what was sent, and what the customer did with it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"
        HANDED = "handed", "Handed to cases"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="playbook_runs")
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="runs")
    # One run per response (so one e-mail at most), enforced by the database.
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="playbook_run")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="playbook_runs"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="playbook_runs")
    segment = models.CharField(max_length=10, choices=Segment.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    address = models.CharField(max_length=254, blank=True)
    # Random; carried by the tracked links in the e-mail.
    token = models.CharField(max_length=32, unique=True)
    coupon = models.OneToOneField(
        Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="run"
    )
    referred_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="referred_by"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "created_at"]),
            models.Index(fields=["contact", "clicked_at"]),
        ]
