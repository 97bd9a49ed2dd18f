from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "opencx.insights"
    label = "insights"
