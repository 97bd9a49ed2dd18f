"""A demo brand built once per test module (a few seconds), removed when the module ends."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from opencx.demo.build import delete_demo, demo_brand
from opencx.platform.models import User

END_DATE = "2026-07-15"  # fixed, so the checks see the same months on any day
SMALL = [
    "--contacts=400",
    "--responses=6000",
    "--sessions=1500",
    "--reviews=200",
    "--mentions=80",
    "--conversations=200",
    f"--end-date={END_DATE}",
]
TINY = [
    "--contacts=120",
    "--responses=600",
    "--sessions=200",
    "--reviews=40",
    "--mentions=20",
    "--conversations=40",
    f"--end-date={END_DATE}",
]
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo brand at SMALL size, committed for the module's tests to read."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        call_command("demo", *SMALL, verbosity=0)
        brand = demo_brand()
        try:
            yield brand
        finally:
            delete_demo(brand)
            User.objects.filter(email__endswith="@demo.opencx.org").delete()
