from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "opencx.insights"
    label = "insights"

    def ready(self):
        # The location pages live in platform, which may not import feature apps: the figures
        # they show are provided from here.
        from opencx.platform.location_views import register_location_figures

        from .location_figures import location_figures

        register_location_figures(location_figures)

        from . import text_analysis  # noqa: F401  (its event subscriptions)
