from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from pips.forms.accounts import LoginForm
from pips.views.accounts import PasswordResetView
from pipsystem import health
from pipsystem.identity import views as identity_views

urlpatterns = [
    # For load balancers and orchestrators: no login, GET only, never cached.
    path("health/live/", health.live, name="health_live"),
    path("health/ready/", health.ready, name="health_ready"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    # Logs out of the identity provider too when the session came from single sign-on.
    path("accounts/logout/", identity_views.logout, name="logout"),
    # Password reset by e-mail (Django's views; templates in templates/registration/).
    path(
        "accounts/password-reset/",
        # The e-mail goes from a task (pips.tasks.send_password_reset).
        PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The translations the scripts use (gettext() in static/js), in the reader's language.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("pipsystem.identity.urls")),
    path("metrics/", include("metrics.urls")),
    path("people/", include("pips.roster.urls")),
    path("", include("pips.urls")),
]
