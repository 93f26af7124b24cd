from __future__ import annotations

from django.urls import path

from pips.roster import api, views

app_name = "roster"

urlpatterns = [
    path("", views.roster, name="roster"),
    path("upload/<str:token>/map/", views.upload_map, name="map"),
    path("upload/<str:token>/preview/", views.upload_preview, name="preview"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("invitations/", views.invitations, name="invitations"),
    path("api/roster/", api.roster, name="api_roster"),
]
