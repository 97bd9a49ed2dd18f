from opencx.integrations.models import NotificationPreference
from opencx.integrations.selectors import digest_recipients, notification_wanted
from opencx.platform.roles import Role


def test_defaults_without_a_row(make_actor, brand):
    user = make_actor(Role.LOCATION_MANAGER).user
    for kind in ("case_assigned", "case_escalated", "case_overdue", "alerts"):
        assert notification_wanted(user=user, brand=brand, kind=kind)
    assert digest_recipients(brand=brand, frequency="weekly") == [user]
    assert digest_recipients(brand=brand, frequency="daily") == []


def test_choices_are_per_brand_and_only_for_members(make_actor, brand, other_brand, stranger):
    user = make_actor(Role.AGENT).user
    NotificationPreference.objects.create(
        user=user, brand=brand, email_case_overdue=False, digest="daily"
    )
    assert not notification_wanted(user=user, brand=brand, kind="case_overdue")
    assert notification_wanted(user=user, brand=brand, kind="case_assigned")
    assert digest_recipients(brand=brand, frequency="daily") == [user]
    assert not notification_wanted(user=user, brand=other_brand, kind="alerts")
    assert stranger not in digest_recipients(brand=brand, frequency="weekly")


def test_inactive_users_get_nothing(make_actor, brand):
    user = make_actor(Role.OWNER).user
    user.is_active = False
    user.save()
    assert not notification_wanted(user=user, brand=brand, kind="alerts")
    assert digest_recipients(brand=brand, frequency="weekly") == []
