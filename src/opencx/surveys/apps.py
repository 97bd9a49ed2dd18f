from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "opencx.surveys"
    label = "surveys"

    def ready(self):
        # Registers the event handlers (invitation.queued -> send task).
        from . import flows  # noqa: F401
