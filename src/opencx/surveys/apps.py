from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "opencx.surveys"
    label = "surveys"
