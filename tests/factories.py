"""Factories for every model the tests need. Build data here, never by hand in a test."""

from datetime import UTC, datetime, timedelta

import factory
from django.utils import timezone

from opencx.contacts.models import Contact, Identity
from opencx.feedback.models import FeedbackItem, FeedbackTopic
from opencx.inbox.models import Conversation, Message
from opencx.platform.models import Brand, Channel, Location, Membership, Touchpoint, User
from opencx.platform.roles import Role
from opencx.platform.services import _next_path
from opencx.surveys.models import Question, Response, Survey

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    languages = ["en"]


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    brand = factory.SubFactory(BrandFactory)
    parent = None
    name = factory.Sequence(lambda n: f"Store {n}")
    code = factory.Sequence(lambda n: f"store-{n}")
    country = "IT"
    timezone = "Europe/Rome"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        parent = kwargs.get("parent")
        if parent is not None:
            kwargs["brand"] = parent.brand
        kwargs["path"] = _next_path(kwargs["brand"], parent)
        return super()._create(model_class, *args, **kwargs)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    brand = factory.SubFactory(BrandFactory)
    key = factory.Sequence(lambda n: f"touchpoint-{n}")
    name = factory.Sequence(lambda n: f"Touchpoint {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    brand = factory.SubFactory(BrandFactory)
    kind = Channel.Kind.EMAIL
    name = "Support e-mail"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Role.OWNER
    location = None


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    brand = factory.SubFactory(BrandFactory)
    name = factory.Faker("name")
    language = "en"


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    contact = factory.SubFactory(ContactFactory)
    brand = factory.SelfAttribute("contact.brand")
    kind = Identity.Kind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.test")


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    brand = factory.SubFactory(BrandFactory)
    name = "Store visit NPS"
    slug = factory.Sequence(lambda n: f"survey-{n}")
    kind = Survey.Kind.NPS


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    survey = factory.SubFactory(SurveyFactory)
    key = factory.Sequence(lambda n: f"q{n}")
    kind = Question.Kind.NPS
    text = {"en": "How likely are you to recommend us to a friend or colleague?"}
    scale_min = 0
    scale_max = 10


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)
    brand = factory.SelfAttribute("survey.brand")
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..brand"))
    score = 9
    language = "en"
    created_at = factory.LazyFunction(timezone.now)


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    brand = factory.SubFactory(BrandFactory)
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..brand"))
    kind = FeedbackItem.Kind.REVIEW
    source = "google"
    external_id = factory.Sequence(lambda n: f"review-{n}")
    author = factory.Faker("name")
    rating = 4
    rating_scale = 5
    text = "Friendly staff, quick checkout."
    occurred_at = factory.LazyFunction(lambda: datetime(2026, 5, 1, 12, tzinfo=UTC))


class FeedbackTopicFactory(factory.django.DjangoModelFactory):
    """A topic found in an item (as text analytics would store it)."""

    class Meta:
        model = FeedbackTopic

    item = factory.SubFactory(FeedbackItemFactory)
    brand = factory.SelfAttribute("item.brand")
    topic = "waiting_time"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    brand = factory.SubFactory(BrandFactory)
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..brand"))
    channel = factory.SubFactory(ChannelFactory, brand=factory.SelfAttribute("..brand"))
    subject = "Where is my order?"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    direction = Message.Direction.INCOMING
    sender_kind = Message.Sender.CONTACT
    body = "Hello, my parcel has not arrived."


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator app (TOTP); its codes come from django_otp.oath.totp(bin_key)."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Order"

    brand = factory.SubFactory(BrandFactory)
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..brand"))
    contact = None
    external_id = factory.Sequence(lambda n: f"order-{n}")
    placed_at = factory.LazyFunction(timezone.now)
    total = factory.Faker("pydecimal", left_digits=3, right_digits=2, positive=True)
    currency = "EUR"
    items = 1


HEADLINE_SCALES = {  # survey kind: (scale_min, scale_max, satisfied values)
    Survey.Kind.NPS: (0, 10, [9, 10]),
    Survey.Kind.CSAT: (1, 5, [4, 5]),
    Survey.Kind.CES: (1, 7, [5, 6, 7]),
}


def headline_question_for(survey: Survey) -> Question:
    """The survey's headline question (the first of its kind), created if it has none."""
    existing = survey.questions.filter(kind=survey.kind).order_by("position", "pk").first()
    if existing is not None:
        return existing
    low, high, satisfied = HEADLINE_SCALES[survey.kind]
    return QuestionFactory(
        survey=survey, kind=survey.kind, scale_min=low, scale_max=high, satisfied_values=satisfied
    )


class RecordedResponseFactory(factory.Factory):
    """A response written through `surveys.services.response_record` (so the rollups count it):
    `score` answers the survey's headline question, created on first use."""

    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..survey.brand"))
    score = 9
    language = "en"
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *, survey, score, **kwargs):
        from opencx.surveys.services import response_record

        question = headline_question_for(survey)
        return response_record(survey=survey, answers={question.pk: score}, **kwargs)


class WebEventFactory(factory.django.DjangoModelFactory):
    """One event of a web session in an online shop (a page view unless told otherwise)."""

    class Meta:
        model = "contacts.WebEvent"

    brand = factory.SubFactory(BrandFactory)
    location = factory.SubFactory(
        LocationFactory, brand=factory.SelfAttribute("..brand"), kind="online"
    )
    session_id = factory.Sequence(lambda n: f"session-{n}")
    kind = "page_view"
    path = "/"
    occurred_at = factory.LazyFunction(timezone.now)


class CaseRuleFactory(factory.django.DjangoModelFactory):
    """A rule that opens a case for NPS answers of 6 or less, unless told otherwise."""

    class Meta:
        model = "cases.CaseRule"

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = "nps_at_most"
    threshold = 6


class CaseFactory(factory.django.DjangoModelFactory):
    """An open case (new) at a store, due in two days, acknowledge-by in four hours."""

    class Meta:
        model = "cases.Case"

    brand = factory.SubFactory(BrandFactory)
    location = factory.SubFactory(LocationFactory, brand=factory.SelfAttribute("..brand"))
    title = factory.Sequence(lambda n: f"Unhappy customer {n}")
    opened_at = factory.LazyFunction(timezone.now)
    acknowledge_due_at = factory.LazyAttribute(lambda o: o.opened_at + timedelta(hours=4))
    due_at = factory.LazyAttribute(lambda o: o.opened_at + timedelta(days=2))
