from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "opencx.inbox"
    label = "inbox"
