"""The API's routes alone, so that its OpenAPI schema describes only the API."""

from __future__ import annotations

from django.urls import path

from metrics import api

urlpatterns = [path("metrics/api/samples/", api.samples, name="api_samples")]
