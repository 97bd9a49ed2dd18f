"""Factories of playbooks, coupon pools and coupons (the shared ones are in tests/factories.py)."""

import factory

from opencx.offers.models import Coupon, CouponPool, Playbook, PlaybookRun
from opencx.offers.services import new_token
from tests.factories import BrandFactory, ResponseFactory


class CouponPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponPool

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Come back {n}")
    offer = "10% off your next visit"
    valid_days = 30


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    pool = factory.SubFactory(CouponPoolFactory)
    brand = factory.SelfAttribute("pool.brand")
    code = factory.Sequence(lambda n: f"CODE{n:05d}")


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    brand = factory.SubFactory(BrandFactory)
    location = None
    segment = "promoter"
    action = "review"


class PlaybookRunFactory(factory.django.DjangoModelFactory):
    """A run as the flow leaves it (sent unless told otherwise), for outcome tests."""

    class Meta:
        model = PlaybookRun

    playbook = factory.SubFactory(PlaybookFactory)
    brand = factory.SelfAttribute("playbook.brand")
    response = factory.SubFactory(ResponseFactory)
    contact = factory.SelfAttribute("response.contact")
    location = factory.SelfAttribute("response.location")
    segment = factory.SelfAttribute("playbook.segment")
    action = factory.SelfAttribute("playbook.action")
    status = "sent"
    token = factory.LazyFunction(new_token)
