"""Routes of the agent's tools (organise_views.py); added to the inbox's namespace in urls.py."""

from django.urls import path

from . import organise_views as views

urlpatterns = [
    path("canned/", views.canned_replies, name="canned"),
    path("canned/<int:pk>/", views.canned_reply_edit, name="canned-edit"),
    path("canned/<int:pk>/delete/", views.canned_reply_delete, name="canned-delete"),
    path("labels/", views.labels, name="labels"),
    path("labels/<int:pk>/", views.label_edit, name="label-edit"),
    path("labels/<int:pk>/delete/", views.label_delete, name="label-delete"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team_edit, name="team-edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team-delete"),
    path("views/", views.saved_view_create, name="view-create"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="view-delete"),
    path("bulk/", views.conversations_bulk, name="bulk"),
    path("<int:pk>/canned/", views.canned_reply_render, name="canned-render"),
    path("<int:pk>/labels/", views.conversation_labels, name="conversation-labels"),
    path("<int:pk>/team/", views.conversation_team, name="conversation-team"),
    path("<int:pk>/customers/", views.merge_candidates, name="merge-candidates"),
    path("<int:pk>/merge/", views.conversation_merge_contact, name="merge"),
]
