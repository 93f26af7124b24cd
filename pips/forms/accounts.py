"""The login form: Django's, refusing a username longer than any account's before it reaches
the authentication backends (and the login-throttling records, whose columns it would not
fit), with the same message as a wrong password."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length:
            raise self.get_invalid_login_error()
        return super().clean()
