"""The demo brand's shape: places, people, channels, surveys and the facts under them."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import Count, F, Max, Q, Sum

from opencx.contacts.models import Contact, Identity, Order, WebEvent
from opencx.demo import catalogue
from opencx.demo.clock import Calendar
from opencx.feedback.models import FeedbackItem
from opencx.inbox.canned import check_placeholders, placeholders_in
from opencx.inbox.models import (
    AgentStatus,
    CannedReply,
    Conversation,
    ConversationEvent,
    EmailChannel,
    Inbox,
    Message,
    SavedView,
    SlaPolicy,
    SmsChannel,
    Team,
)
from opencx.inbox.sla import conversations_check_sla
from opencx.insights import inbox_report
from opencx.insights.models import ResponseRollup
from opencx.platform.models import Channel, Location, Membership, Touchpoint, User
from opencx.platform.selectors import actor_for
from opencx.surveys.models import Answer, Question, Response
from tests.demo.conftest import END_DATE

pytestmark = pytest.mark.django_db

ALL_TEXTS = {
    text: (topic, language)
    for topic, by_language in catalogue.COMMENTS.items()
    for language, texts in by_language.items()
    for text in texts
}


def test_brand_speaks_seven_languages_and_has_the_touchpoint_catalogue(demo):
    assert demo.name == "Bottega Aurora"
    assert sorted(demo.languages) == sorted(["it", "cy", "ru", "en", "es", "de", "fr"])
    assert Touchpoint.objects.filter(brand=demo).count() >= 9


def test_stores_sit_under_regions_across_six_countries_plus_an_online_shop(demo):
    stores = Location.objects.filter(brand=demo, kind="store").select_related("parent")
    assert stores.count() >= 12
    assert {s.country for s in stores} >= {"IT", "GB", "RU", "ES", "DE", "FR"}
    for store in stores:
        assert store.parent.kind == "region"
        assert store.path.startswith(store.parent.path)
        assert store.city and store.timezone != "UTC" and store.languages and store.opening_hours
    online = Location.objects.get(brand=demo, kind="online")
    assert len(online.languages) == 7
    assert Location.objects.get(brand=demo, code="cardiff").languages == ["cy", "en"]


def test_every_demo_login_has_its_role_and_the_demo_password(demo):
    expected = {
        "owner@demo.opencx.org": ("owner", None),
        "cx@demo.opencx.org": ("cx_manager", None),
        "manager.cardiff@demo.opencx.org": ("location_manager", "cardiff"),
        "agent@demo.opencx.org": ("agent", None),
        "viewer@demo.opencx.org": ("viewer", None),
    }
    for email, (role, code) in expected.items():
        user = User.objects.get(email=email)
        assert user.check_password(settings.OPENCX_DEMO_PASSWORD)
        membership = Membership.objects.select_related("location").get(user=user, brand=demo)
        assert membership.role == role
        assert (membership.location.code if membership.location else None) == code


def test_channels_cover_messages_social_and_review_sites(demo):
    kinds = set(Channel.objects.filter(brand=demo).values_list("kind", flat=True))
    assert kinds >= {"email", "sms", "web_chat", "facebook", "instagram", "google", "trustpilot"}
    stores = Location.objects.filter(brand=demo, kind="store").count()
    assert Channel.objects.filter(brand=demo, kind="google").count() == stores


def test_surveys_store_their_scales_and_satisfied_sets(demo):
    headline = {
        q.survey.kind: q
        for q in Question.objects.filter(survey__brand=demo, position=0).select_related("survey")
    }
    assert (headline["nps"].kind, headline["nps"].scale_min, headline["nps"].scale_max) == (
        "nps",
        0,
        10,
    )
    assert (headline["csat"].scale_min, headline["csat"].scale_max) == (1, 5)
    assert headline["csat"].satisfied_values == [4, 5]
    assert (headline["ces"].scale_min, headline["ces"].scale_max) == (1, 7)
    assert headline["ces"].satisfied_values == [5, 6, 7]
    assert headline["ces"].polarity == Question.Polarity.HIGHER_IS_BETTER
    for question in headline.values():
        assert set(question.text) == set(catalogue.LANGUAGES)


def test_contacts_have_demographics_identities_and_consent(demo):
    contacts = Contact.objects.filter(brand=demo)
    assert contacts.filter(referred_by__isnull=True).count() == 400  # and the friends referred
    assert not contacts.filter(home_location__isnull=True).exists()
    assert contacts.filter(birth_year__isnull=False, gender="female").exists()
    assert contacts.filter(consent_email=True).exists()
    assert contacts.filter(consent_email=False).exists()
    assert set(contacts.values_list("language", flat=True)) == set(catalogue.LANGUAGES)
    # One person, many identities: some contacts have two e-mail addresses.
    two_emails = contacts.annotate(
        emails=Count("identities", filter=Q(identities__kind=Identity.Kind.EMAIL))
    ).filter(emails=2)
    assert two_emails.exists()
    assert not contacts.annotate(n=Count("identities")).filter(n=0).exists()


def test_responses_carry_their_headline_answer_and_comments_in_the_response_language(demo):
    # The CSAT answers after support conversations come on top, through their invitations.
    responses = Response.objects.filter(brand=demo, invitation__isnull=True)
    assert responses.count() == 6000
    assert set(responses.values_list("survey__kind", flat=True)) == {"nps", "csat", "ces"}
    mismatched = Answer.objects.filter(response__brand=demo, question__position=0).exclude(
        score=F("response__score")
    )
    assert not mismatched.exists()
    headlines = Answer.objects.filter(response__in=responses, question__position=0)
    assert headlines.count() == 6000
    commented = responses.exclude(comment="")
    assert commented.count() > 1500
    for comment, language in commented.values_list("comment", "language")[:500]:
        assert ALL_TEXTS[comment][1] == language
    text_answers = Answer.objects.filter(response__brand=demo, question__position=1)
    assert text_answers.count() == commented.count()


def test_store_responses_fall_inside_the_store_opening_hours(demo):
    # Answers to invitations (the CSAT after support) come whenever the customer reads them.
    visits = Response.objects.filter(brand=demo, location__kind="store", invitation__isnull=True)
    rows = visits.values_list("created_at", "location__timezone", "location__opening_hours")[:300]
    for created_at, tz, hours in rows:
        local = created_at.astimezone(ZoneInfo(tz))
        minute = local.hour * 60 + local.minute
        intervals = hours[str(local.weekday())]
        assert any(_minutes(a) <= minute <= _minutes(b) for a, b in intervals), local


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def test_orders_repeat_and_some_customers_stop_buying(demo):
    orders = Order.objects.filter(brand=demo)
    per_contact = orders.values("contact").annotate(n=Count("id"))
    assert max(row["n"] for row in per_contact) >= 5
    assert orders.filter(location__kind="online", promised_at__isnull=False).exists()
    end = datetime.fromisoformat("2026-07-15T00:00:00+00:00")
    assert not orders.filter(placed_at__gte=end).exists()
    # Churn: customers whose last order is more than half a year before the end.
    lapsed = (
        orders.values("contact")
        .annotate(last=Max("placed_at"))
        .filter(last__lt=datetime.fromisoformat("2026-01-15T00:00:00+00:00"))
    )
    assert lapsed.count() > 10


def test_reviews_and_mentions_come_from_their_sites(demo):
    reviews = FeedbackItem.objects.filter(brand=demo, kind="review")
    assert set(reviews.values_list("source", flat=True)) == {"google", "trustpilot"}
    assert set(reviews.values_list("rating", flat=True)) == {1, 2, 3, 4, 5}
    assert not reviews.filter(location__kind="store", source="trustpilot").exists()
    mentions = FeedbackItem.objects.filter(brand=demo, kind="mention")
    assert set(mentions.values_list("source", flat=True)) == {"facebook", "instagram", "x"}


def test_conversations_have_replies_resolutions_and_some_left_unanswered(demo):
    conversations = Conversation.objects.filter(brand=demo)
    assert conversations.count() == 200
    resolved = conversations.filter(status="resolved")
    assert resolved.count() > 100
    assert not resolved.filter(
        Q(first_reply_at__isnull=True) | Q(resolved_at__isnull=True)
    ).exists()
    unanswered = conversations.filter(status="open", first_reply_at__isnull=True)
    assert unanswered.exists()
    assert not unanswered.filter(waiting_since__isnull=True).exists()
    assert not conversations.filter(first_reply_at__lt=F("created_at")).exists()
    messages = Message.objects.filter(conversation__brand=demo)
    assert messages.filter(direction="in", sender_kind="contact").exists()
    assert messages.filter(direction="out", sender_kind="agent", sender__isnull=False).exists()
    assert not Message.objects.filter(conversation__in=unanswered, direction="out").exists()


def test_web_sessions_search_with_real_queries_and_some_purchase(demo):
    events = WebEvent.objects.filter(brand=demo)
    assert events.values("session_id").distinct().count() == 1500
    assert set(events.values_list("location__kind", flat=True)) == {"online"}
    queries = set(events.filter(kind="search").values_list("query", flat=True))
    known = {q for texts in catalogue.SEARCH_QUERIES.values() for q in texts}
    assert queries and queries <= known
    assert set(events.values_list("kind", flat=True)) == {
        "page_view",
        "search",
        "add_to_cart",
        "checkout",
        "purchase",
    }


def test_every_conversation_sits_in_the_inbox_of_its_channel(demo):
    conversations = Conversation.objects.filter(brand=demo)
    assert not conversations.filter(inbox__isnull=True).exists()
    assert not conversations.exclude(inbox__channel=F("channel")).exists()
    assert (
        not Message.objects.filter(conversation__brand=demo)
        .exclude(inbox=F("conversation__inbox"))
        .exists()
    )
    kinds = set(Inbox.objects.filter(brand=demo).values_list("kind", flat=True))
    assert kinds == {"email", "web_chat", "sms", "facebook", "instagram", "google_reviews"}
    # Placeholder settings only: the mailbox is switched off, providers are this machine.
    email = EmailChannel.objects.get(inbox__brand=demo)
    assert not email.inbox.is_active and email.imap_host == "127.0.0.1"
    assert SmsChannel.objects.get(inbox__brand=demo).api_base_url.startswith("http://127.0.0.1")
    # A policy for every inbox and priority.
    inboxes = Inbox.objects.filter(brand=demo).count()
    policies = SlaPolicy.objects.filter(inbox__brand=demo)
    assert policies.count() == inboxes * len(Conversation.Priority.values)


def test_teams_labels_canned_replies_views_and_agents_are_set_up(demo):
    teams = {t.name: t for t in Team.objects.filter(brand=demo)}
    assert set(teams) == {"Online support", "Stores"}
    assert teams["Online support"].members.filter(email="agent@demo.opencx.org").exists()
    assert teams["Stores"].members.filter(email="manager.cardiff@demo.opencx.org").exists()
    assert Conversation.objects.filter(brand=demo, team=teams["Online support"]).exists()
    labelled = Conversation.objects.filter(brand=demo, labels__name="refund").distinct()
    assert 0 < labelled.count() < Conversation.objects.filter(brand=demo).count()
    canned = CannedReply.objects.filter(brand=demo)
    assert 4 <= canned.count() <= 6
    for reply in canned:
        check_placeholders(reply.body)
        assert placeholders_in(reply.body)
    assert SavedView.objects.filter(brand=demo).count() == 2
    assert AgentStatus.objects.filter(brand=demo, available=True).count() >= 2


def test_service_levels_follow_the_conversation_timestamps(demo):
    conversations = Conversation.objects.filter(brand=demo)
    assert not conversations.filter(sla_policy__isnull=True).exists()
    assert not conversations.filter(first_response_due_at__lte=F("created_at")).exists()
    late = conversations.filter(first_response_breached_at__isnull=False)
    assert late.exists()
    assert not late.filter(first_reply_at__lte=F("first_response_due_at")).exists()
    assert not conversations.filter(
        first_response_breached_at__isnull=True, first_reply_at__gt=F("first_response_due_at")
    ).exists()
    # Nothing is left for the minutely check to mark at the demo's end.
    end = Calendar(date.fromisoformat(END_DATE)).end_utc
    assert conversations_check_sla(now=end) == []


def test_every_conversation_has_its_reporting_facts(demo):
    conversations = Conversation.objects.filter(brand=demo)
    facts = ConversationEvent.objects.filter(brand=demo)
    assert facts.filter(kind="created").count() == conversations.count()
    answered = conversations.filter(first_reply_at__isnull=False)
    first = facts.filter(kind="first_response")
    assert first.count() == answered.count()
    assert not first.filter(Q(seconds__lt=0) | Q(business_seconds__lt=0)).exists()
    assert not first.exclude(at=F("conversation__first_reply_at")).exists()
    assert not first.filter(business_seconds__gt=F("seconds") + 1).exists()
    assert set(first.values_list("detail", flat=True)) == {"met", "missed"}
    resolved = facts.filter(kind="resolved")
    assert resolved.count() == conversations.filter(status="resolved").count()
    breaches = facts.filter(kind="sla_breach")
    assert (
        breaches.filter(detail="first_response").count()
        == conversations.filter(first_response_breached_at__isnull=False).count()
    )
    assert (
        facts.filter(kind="assigned").count()
        == conversations.filter(assignee__isnull=False).count()
    )


def test_the_inbox_report_reads_sensible_figures_from_the_demo(demo):
    owner = User.objects.get(email="owner@demo.opencx.org")
    actor = actor_for(user=owner, brand_slug=demo.slug)
    end = datetime.fromisoformat(f"{END_DATE}T00:00:00+00:00")
    rows = inbox_report.conversation_facts(
        actor, location=None, start=end - timedelta(days=600), end=end, now=end
    )
    assert len(rows) == Conversation.objects.filter(brand=demo).count()
    everyone = inbox_report.figures(rows, basis="business")
    assert 0 < everyone.first_response.median.value < 24
    assert 60 < everyone.sla["first_response"].value < 99
    assert 60 < everyone.sla["resolution"].value < 99
    assert everyone.csat.n > 0
    agents = inbox_report.grouped(rows, by="agent", basis="business")
    assert {"Chiara Conti", "Marta López"} <= {g.label for g in agents}
    assert any(g.csat.n for g in agents)
    csat = Response.objects.filter(brand=demo, invitation__isnull=False)
    assert csat.exists()
    assert not csat.exclude(survey__kind="csat").exists()
    # The rollups count them too (they were built before the CSAT step).
    answers = Answer.objects.filter(response__brand=demo, question__kind="csat").count()
    rolled = ResponseRollup.objects.filter(brand=demo, question__kind="csat")
    assert rolled.aggregate(n=Sum("n"))["n"] == answers
    linked = Conversation.objects.filter(brand=demo, csat_invitation__isnull=False)
    assert not linked.exclude(status="resolved").exists()
    assert not linked.filter(csat_invitation__created_at__lt=F("resolved_at")).exists()
