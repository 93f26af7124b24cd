"""The app's URLs and one more: `/bench/bare/`, a login-required view that does nothing, the
reference the page benchmarks divide by."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from pipsystem.urls import urlpatterns as app_urlpatterns


@login_required
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *app_urlpatterns]
