from django.urls import path

from . import distribution_views, views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/links/", distribution_views.survey_links, name="links"),
]
