from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "opencx.offers"
    label = "offers"

    def ready(self):
        # Registers the event handlers (response.completed -> run_playbooks task).
        from . import flows  # noqa: F401
