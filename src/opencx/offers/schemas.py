"""API shapes of playbooks, coupon pools, coupons and outcomes.

Input fields all have defaults: what is missing or wrong is reported by the service with the
field named (and a caller without the right gets 403 before any validation).
"""

from datetime import datetime

from ninja import Field, Schema

TEXTS = (
    "Language code to text. Placeholders: {name} {brand} {location} {link} {code} {expires} {offer}"
)


class PlaybookOut(Schema):
    id: int
    location_id: int | None = Field(description="null: the brand default")
    segment: str
    action: str
    is_active: bool
    email_subject: dict[str, str]
    email_body: dict[str, str]
    coupon_pool_id: int | None
    created_at: datetime
    updated_at: datetime


class PlaybookCreate(Schema):
    segment: str = Field("", description="promoter, passive or detractor")
    action: str = Field(
        "", description="promoter: review or referral; passive: coupon; detractor: case"
    )
    location_id: int | None = Field(None, description="null: the brand default")
    is_active: bool = True
    email_subject: dict[str, str] = Field(default_factory=dict, description=TEXTS)
    email_body: dict[str, str] = Field(default_factory=dict, description=TEXTS)
    coupon_pool_id: int | None = Field(None, description="Required for the coupon action")


class PlaybookPatch(Schema):
    action: str | None = None
    is_active: bool | None = None
    email_subject: dict[str, str] | None = Field(None, description=TEXTS)
    email_body: dict[str, str] | None = Field(None, description=TEXTS)
    coupon_pool_id: int | None = None


class CouponPoolOut(Schema):
    id: int
    name: str
    offer: str
    valid_days: int | None
    created_at: datetime
    available: int = Field(description="Codes not sent yet and not expired")
    issued: int
    redeemed: int
    expired: int = Field(description="Codes past their expiry, not redeemed")


class CouponPoolCreate(Schema):
    name: str = Field("", max_length=120)
    offer: str = Field("", max_length=200, description='e.g. "10% off your next visit"')
    valid_days: int | None = Field(
        None, description="Days a code is valid from the moment it is sent; null: no expiry"
    )


class CouponGenerate(Schema):
    count: int = Field(0, description="1 to 10,000")
    prefix: str = Field("", max_length=13, description="Optional, e.g. SPRING-")
    length: int = Field(8, description="Random characters per code, 6 to 20")


class CouponGenerated(Schema):
    added: int


class CouponRedeem(Schema):
    redeemed_at: datetime | None = Field(None, description="With its offset; default: now")
    location_id: int | None = Field(None, description="Where it was used")
    reference: str = Field("", max_length=100, description="The shop's order or receipt id")


class CouponRedeemed(Schema):
    code: str
    pool_id: int
    issued_at: datetime
    expires_at: datetime | None
    redeemed_at: datetime
    redeemed_location_id: int | None
    reference: str
    newly_redeemed: bool = Field(description="false: it had been redeemed before (kept)")


class RateOut(Schema):
    count: int
    n: int = Field(description="The base of the share")
    pct: float | None = Field(description="null when n is 0")


class OutcomeOut(Schema):
    playbook_id: int
    segment: str
    action: str
    scope: str = Field(description="Where the playbook is set: Brand default or a location")
    location_id: int | None = Field(description="With by=location: the responses' location")
    location_name: str
    runs: int
    sent: int
    skipped: int
    failed: int
    handed: int = Field(description="Detractors handed to cases")
    skip_reasons: dict[str, int]
    clicked: int
    completed: int
    click_rate: RateOut = Field(description="Clicked of sent")
    conversion: RateOut = Field(description="Completed (review posted, friend referred) of sent")
    coupons_issued: int
    coupons_redeemed: int
    redemption: RateOut = Field(description="Redeemed of coupons sent")
    next_n: int = Field(description="Runs whose customer answered an NPS survey again")
    next_promoter: RateOut
    next_passive: RateOut
    next_detractor: RateOut
