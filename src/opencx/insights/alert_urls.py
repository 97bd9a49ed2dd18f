from django.urls import path

from . import alert_views

app_name = "alerts"
urlpatterns = [
    path("", alert_views.alert_list, name="list"),
    path("<int:pk>/", alert_views.alert_detail, name="detail"),
    path("<int:pk>/acknowledge/", alert_views.alert_acknowledge, name="acknowledge"),
    path("rules/", alert_views.alert_rules, name="rules"),
    path("rules/<int:pk>/", alert_views.alert_rule_edit, name="rule"),
    path("rules/<int:pk>/delete/", alert_views.alert_rule_delete, name="rule-delete"),
]
