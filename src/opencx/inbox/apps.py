from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "opencx.inbox"
    label = "inbox"

    def ready(self):
        # Registers the event handlers (reply queued -> delivery, new conversation -> assign).
        from . import (
            flows,  # noqa: F401
            sla_flows,  # noqa: F401  (missed SLA -> e-mail, resolved -> CSAT)
        )
