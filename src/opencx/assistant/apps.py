from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "opencx.assistant"
    label = "assistant"
