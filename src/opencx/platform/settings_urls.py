from django.urls import path

from . import settings_views as views

app_name = "settings"
urlpatterns = [
    path("", views.brand_settings, name="brand"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member_edit, name="member"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("touchpoints/", views.touchpoints, name="touchpoints"),
    path("touchpoints/<int:pk>/", views.touchpoint_edit, name="touchpoint"),
    path("audit/", views.audit_log, name="audit"),
]
