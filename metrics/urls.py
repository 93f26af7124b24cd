from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from metrics import api, views

app_name = "metrics"

urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("upload/<str:token>/map/", views.upload_map, name="upload_map"),
    path("upload/<str:token>/preview/", views.upload_preview, name="upload_preview"),
    path("loads/", views.load_list, name="loads"),
    path("loads/<int:pk>/", views.load_detail, name="load"),
    path("loads/<int:pk>/status/", views.load_status, name="load_status"),
    path("api/samples/", api.samples, name="api_samples"),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(urlconf="metrics.api_urls"),
        name="api_schema",
    ),
]
