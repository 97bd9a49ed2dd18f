from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "opencx.feedback"
    label = "feedback"
