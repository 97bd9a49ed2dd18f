from django.urls import path

from . import builder_views, distribution_views, invitation_list_views, views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/links/", distribution_views.survey_links, name="links"),
    path("<int:pk>/invitations/", invitation_list_views.survey_invitations, name="invitations"),
    # The builder (builder_views.py)
    path("new/", builder_views.survey_new, name="new"),
    path("import/", builder_views.survey_upload, name="import"),
    path("<int:pk>/edit/", builder_views.survey_edit, name="edit"),
    path("<int:pk>/question/", builder_views.question_edit, name="question"),
    path("<int:pk>/questions/", builder_views.question_action, name="question-action"),
    path("<int:pk>/export/", builder_views.survey_export, name="export"),
    path("responses/", views.response_list, name="responses"),
    path("responses/<int:pk>/", views.response_detail, name="response-detail"),
]
