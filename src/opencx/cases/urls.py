from django.urls import path

from . import rule_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("dashboard/", views.case_dashboard, name="dashboard"),
    path("<int:pk>/", views.case_detail, name="detail"),
    # Settings: rules that open cases, routing to owners, SLA per priority (rule_views.py)
    path("rules/", rule_views.case_rules, name="rules"),
    path("rules/<int:pk>/", rule_views.case_rule_edit, name="rule"),
    path("rules/<int:pk>/delete/", rule_views.case_rule_delete, name="rule-delete"),
    path("routing/<int:pk>/delete/", rule_views.routing_rule_delete, name="routing-delete"),
]
