from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "opencx.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # Subscribes the public events of the catalogue to the webhook fan-out.
        from . import flows  # noqa: F401
