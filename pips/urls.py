from django.urls import path

from pips.views import home

app_name = "pips"

urlpatterns = [
    path("", home.home, name="home"),
]
