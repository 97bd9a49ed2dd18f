from django.urls import path

from . import location_views as views

app_name = "locations"
urlpatterns = [
    path("", views.location_list, name="list"),
    path("new/", views.location_new, name="new"),
    path("<int:pk>/", views.location_detail, name="detail"),
    path("<int:pk>/edit/", views.location_edit, name="edit"),
]
