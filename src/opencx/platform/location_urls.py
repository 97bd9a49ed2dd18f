from django.urls import path

from . import location_views as views

app_name = "locations"
urlpatterns = [
    path("", views.location_list, name="list"),
    path("<int:pk>/", views.location_list, name="detail"),
]
