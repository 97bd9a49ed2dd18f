"""The e-mail channel against real servers: dovecot for IMAP, aiosmtpd (`smtp_server`) for SMTP."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from opencx.inbox import flows, services
from opencx.inbox.channels import adapter_for
from opencx.inbox.channels.email import parse_email, text_of_html
from opencx.inbox.models import Conversation, EmailChannel, Message

pytestmark = pytest.mark.django_db


def _mail(
    *,
    body="My parcel has not arrived.",
    subject="Order 1042",
    sender="Marta Bianchi <marta@customer.test>",
    message_id=None,
    in_reply_to="",
    references="",
    html=None,
) -> tuple[str, bytes]:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@bottega.test"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail["Message-ID"], mail.as_bytes()


@pytest.fixture
def mailbox_inbox(email_inbox, imap_server, smtp_server, settings):
    """The e-mail inbox reading the dovecot mailbox and sending through the SMTP server (the
    `smtp_server` fixture points Django's mail settings at its port)."""
    EmailChannel.objects.filter(inbox=email_inbox).update(
        imap_port=imap_server.port, imap_user=imap_server.user, smtp_port=settings.EMAIL_PORT
    )
    email_inbox.refresh_from_db()
    return email_inbox


def test_mail_becomes_a_conversation_and_the_reply_threads_back(
    mailbox_inbox,
    imap_server,
    smtp_server,
    owner_actor,
    immediate_tasks,
    django_capture_on_commit_callbacks,
):
    root_id, raw = _mail()
    imap_server.deliver(raw)

    call_command("fetch_mail")

    conversation = Conversation.objects.get()
    first = conversation.messages.get()
    assert conversation.inbox == mailbox_inbox and conversation.subject == "Order 1042"
    assert conversation.external_thread == root_id
    assert first.provider_message_id == root_id and first.body == "My parcel has not arrived."
    assert conversation.contact.name == "Marta Bianchi"
    assert first.headers["from"] == "marta@customer.test" and first.sent_at is not None
    mailbox_inbox.email.refresh_from_db()
    assert mailbox_inbox.email.last_uid == 1 and mailbox_inbox.email.uid_validity
    assert mailbox_inbox.email.last_error == ""

    with django_capture_on_commit_callbacks(execute=True):
        reply = services.message_send(
            actor=owner_actor, conversation=conversation, body="It left today."
        )
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT, reply.delivery_error
    [sent] = smtp_server.messages
    assert sent["To"] == "marta@customer.test"
    assert sent["From"] == "Bottega <support@bottega.test>"
    assert sent["Subject"] == "Re: Order 1042"
    assert sent["Message-ID"] == reply.provider_message_id
    assert sent["In-Reply-To"] == root_id
    assert sent["References"] == root_id
    assert sent.get_content().strip() == "It left today."
    assert reply.headers["in_reply_to"] == root_id

    # Fetching again stores nothing twice.
    assert flows.mail_fetch()[mailbox_inbox.pk].stored == 0
    assert Message.objects.filter(direction="in").count() == 1

    # The customer answers our reply: same conversation, open and waiting again.
    services.conversation_transition(actor=owner_actor, conversation=conversation, to="resolved")
    answer_id, answer = _mail(
        body="Thanks, got it!",
        subject="Re: Order 1042",
        in_reply_to=reply.provider_message_id,
        references=f"{root_id} {reply.provider_message_id}",
    )
    imap_server.deliver(answer)
    result = flows.mail_fetch()[mailbox_inbox.pk]
    assert (result.stored, result.already_stored) == (1, 0)
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.waiting_since is not None
    assert list(conversation.messages.values_list("provider_message_id", flat=True)) == [
        root_id,
        reply.provider_message_id,
        answer_id,
    ]

    # The second reply names the whole thread.
    with django_capture_on_commit_callbacks(execute=True):
        second = services.message_send(actor=owner_actor, conversation=conversation, body="Enjoy")
    last = smtp_server.messages[-1]
    assert last["In-Reply-To"] == answer_id
    assert last["References"].split() == [root_id, reply.provider_message_id, answer_id]
    assert last["Message-ID"] == second.provider_message_id


def test_a_new_uidvalidity_rereads_without_duplicates(mailbox_inbox, imap_server):
    imap_server.deliver(_mail()[1])
    imap_server.deliver(_mail(sender="luca@customer.test", subject="Other")[1])
    assert flows.mail_fetch()[mailbox_inbox.pk].stored == 2
    EmailChannel.objects.filter(inbox=mailbox_inbox).update(uid_validity=1, last_uid=99)
    result = flows.mail_fetch()[mailbox_inbox.pk]
    assert (result.stored, result.already_stored) == (0, 2)
    assert Conversation.objects.count() == 2


def test_fetching_reads_only_new_mail_in_batches(mailbox_inbox, imap_server):
    for n in range(3):
        imap_server.deliver(_mail(sender=f"c{n}@customer.test")[1])
    assert flows.mail_fetch()[mailbox_inbox.pk].stored == 3
    imap_server.deliver(_mail(sender="late@customer.test")[1])
    adapter = adapter_for(mailbox_inbox)
    result = adapter.fetch(batch=10)
    assert (result.stored, result.already_stored) == (1, 0)  # not the first three again
    assert adapter.config.last_uid == 4


def test_our_own_copies_and_senderless_mail_are_skipped(mailbox_inbox, imap_server):
    imap_server.deliver(_mail(sender="Bottega <support@bottega.test>")[1])
    imap_server.deliver(_mail(sender="undisclosed-recipients:;")[1])
    result = flows.mail_fetch()[mailbox_inbox.pk]
    assert (result.stored, result.skipped) == (0, 2)
    assert not Conversation.objects.exists()
    mailbox_inbox.email.refresh_from_db()
    assert mailbox_inbox.email.last_uid == 2  # nothing left to block the next fetch


def test_a_wrong_password_is_recorded_not_raised(mailbox_inbox, imap_server):
    EmailChannel.objects.filter(inbox=mailbox_inbox).update(imap_password="wrong")
    mailbox_inbox.email.refresh_from_db()
    result = flows.mail_fetch()[mailbox_inbox.pk]
    assert result.errors and result.stored == 0
    mailbox_inbox.email.refresh_from_db()
    assert mailbox_inbox.email.last_error.startswith("IMAP:")


# --- Parsing (no server needed) ------------------------------------------------------------


def test_html_only_mail_is_read_as_text():
    _, raw = _mail(body="", html="<p>Hello&nbsp;<b>team</b></p><style>p{}</style><p>Bye</p>")
    mail = EmailMessage()
    mail["From"] = "a@customer.test"
    mail["Message-ID"] = "<h@customer.test>"
    mail.set_content("<div>Hello <i>team</i></div><div>Bye</div>", subtype="html")
    parsed = parse_email(mail.as_bytes())
    assert parsed.body == "Hello team\n\nBye"
    assert parse_email(raw).body == ""  # text part preferred, even empty


def test_threading_headers_and_a_missing_message_id():
    raw = (
        b"From: Marta <marta@customer.test>\r\nSubject: =?utf-8?q?Ordine_=C3=A8?=\r\n"
        b"In-Reply-To: <b@x>\r\nReferences: <a@x>\r\n <b@x>\r\n"
        b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nCiao \xe8\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.message_id.startswith("<sha256-") and parse_email(raw) == parsed
    assert (parsed.in_reply_to, parsed.references) == ("<b@x>", ("<a@x>", "<b@x>"))
    assert parsed.subject == "Ordine è" and parsed.body.startswith("Ciao")
    assert parsed.from_address == "marta@customer.test" and parsed.from_name == "Marta"


@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_crashing(raw):
    parsed = parse_email(raw)
    assert parsed.message_id


@given(st.text(max_size=300))
def test_html_to_text_never_crashes(html):
    assert isinstance(text_of_html(html), str)
