from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opencx.cases"
    label = "cases"

    def ready(self):
        # Registers the event handlers (response recorded -> rules, case events -> e-mails).
        from . import flows  # noqa: F401
