from django.urls import path

from . import correction_views

app_name = "labels"
urlpatterns = [
    path("accuracy/", correction_views.label_accuracy, name="accuracy"),
    path("retrain/", correction_views.label_retrain, name="retrain"),
    path("<int:pk>/", correction_views.label_panel, name="panel"),
]
