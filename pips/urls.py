from django.urls import path

from pips.views import home, plans

app_name = "pips"

urlpatterns = [
    path("", home.home, name="home"),
    path("pips/<int:pk>/", plans.detail, name="detail"),
    path("pips/<int:pk>/v<int:number>/", plans.detail, name="version"),
]
