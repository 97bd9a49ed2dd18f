from django.urls import path

from . import taxonomy_views as views

app_name = "text"
urlpatterns = [
    path("", views.taxonomy_page, name="taxonomy"),
    path("settings/", views.settings_update, name="settings"),
    path("topics/", views.topic_create, name="topic-create"),
    path("topics/<slug:topic_id>/", views.topic_edit, name="topic"),
    path("topics/<slug:topic_id>/delete/", views.topic_delete, name="topic-delete"),
    path("topics/<slug:topic_id>/move/", views.topic_move, name="topic-move"),
    path("reset/", views.taxonomy_reset, name="reset"),
    path("themes/", views.themes, name="themes"),
    path("themes/adopt/", views.theme_adopt, name="theme-adopt"),
]
