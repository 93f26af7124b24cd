"""Password reset by e-mail: Django's pages, with the e-mail sent from a task
(pipsystem.passwords) so that the page answers alike for known and unknown addresses."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponseRedirect

from pips import tasks


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        email = form.cleaned_data["email"]
        transaction.on_commit(lambda: tasks.enqueue(tasks.send_password_reset, email))
        return HttpResponseRedirect(self.get_success_url())
