from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "opencx.offers"
    label = "offers"
