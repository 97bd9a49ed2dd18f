"""The API channel: other systems write in through `/api/v1/inbox-api/...` (see `inbox.api`).

Agent replies wait in the conversation for the system to list them; when the inbox has a
webhook address, each reply is also POSTed there as JSON, signed like OpenCX's other webhooks
(`OpenCX-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`).
"""

import json
import urllib.error
import urllib.request

from opencx.inbox.models import ApiChannel, Message
from opencx.integrations.signing import HEADER, sign

from . import ChannelAdapter, DeliveryError

TIMEOUT_S = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer, not a hop to follow with the signed body


def message_payload(message: Message) -> dict:
    return {
        "event": "message.created",
        "conversation_id": message.conversation_id,
        "message": {
            "id": message.pk,
            "body": message.body,
            "sender": message.sender.get_full_name() if message.sender else "",
            "created_at": message.created_at.isoformat(),
        },
    }


class ApiAdapter(ChannelAdapter):
    kind = "api"

    def send(self, message: Message) -> str:
        config: ApiChannel = self.inbox.api
        provider_id = f"ocx-{message.pk}"
        if not config.webhook_url:
            return provider_id  # the system lists the conversation's messages
        body = json.dumps(message_payload(message)).encode()
        request = urllib.request.Request(
            config.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                HEADER: sign(secret=config.webhook_secret, body=body),
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=TIMEOUT_S) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            raise DeliveryError(f"The webhook did not answer: {error}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"The webhook answered HTTP {status}.")
        return provider_id
