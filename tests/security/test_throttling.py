"""Accounts resist guessing: logins are throttled per username and client address (django-axes),
passwords are long and hashed with Argon2, and every login, failure, lockout and refusal is
logged without the password."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

import pipsystem.settings as project_settings
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "not-the-password-123"
HOME_IP = "10.1.1.1"
OTHER_IP = "10.2.2.2"


def attempt(client: Client, username: str, password: str, ip: str = HOME_IP):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client: Client, username: str, times: int, ip: str = HOME_IP):
    response = None
    for _ in range(times):
        response = attempt(client, username, WRONG, ip)
    return response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


class TestSettings:
    def test_axes_is_wired_in(self):
        assert "axes" in settings.INSTALLED_APPS
        assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
        assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
        assert settings.AXES_FAILURE_LIMIT == 5
        assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
        assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
        assert settings.AXES_RESET_ON_SUCCESS is True

    def test_argon2_is_the_production_hasher(self):
        # Read from the settings module itself: the test fixtures swap in a fast hasher.
        assert project_settings.PASSWORD_HASHERS[0] == (
            "django.contrib.auth.hashers.Argon2PasswordHasher"
        )
        encoded = Argon2PasswordHasher().encode("a-long-test-password-1", "saltsaltsalt")
        assert encoded.startswith("argon2$argon2id$")

    def test_passwords_need_twelve_characters(self):
        validators = [
            v["NAME"].rsplit(".", 1)[-1] for v in project_settings.AUTH_PASSWORD_VALIDATORS
        ]
        assert "MinimumLengthValidator" in validators
        assert "CommonPasswordValidator" in validators
        with pytest.raises(ValidationError, match="at least 12 characters"):
            password_validation.validate_password("Xq7#short-1")  # 11 characters
        with pytest.raises(ValidationError, match="too common"):
            password_validation.validate_password("password1234")
        password_validation.validate_password("correct horse battery staple")


class TestLockout:
    def test_five_failures_lock_the_account_from_that_address(self, client, sam):
        for _ in range(4):
            response = attempt(client, "sam", WRONG)
            assert response.status_code == 200
            assert "Please enter a correct username and password" in response.content.decode()
        response = attempt(client, "sam", WRONG)
        assert response.status_code == 429
        body = response.content.decode()
        assert "Too many failed attempts" in body
        assert "locked for 15 minutes after 5 wrong passwords" in body
        assert "/accounts/password-reset/" in body
        # Even the right password is refused now.
        response = attempt(client, "sam", PASSWORD)
        assert response.status_code == 429
        assert not logged_in(client)

    def test_counted_per_username_and_address(self, client, sam, harper):
        fail(client, "sam", 5)
        # Sam from another address, and another user from the same address, still log in.
        other = Client()
        assert attempt(other, "sam", PASSWORD, OTHER_IP).status_code == 302
        assert logged_in(other)
        colleague = Client()
        assert attempt(colleague, "harper", PASSWORD, HOME_IP).status_code == 302
        assert logged_in(colleague)

    def test_an_unknown_username_is_throttled_the_same_way(self, client, db):
        response = fail(client, "nobody-here", 5)
        assert response.status_code == 429

    def test_the_lock_lifts_after_the_cool_off(self, client, sam):
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            fail(client, "sam", 5)
        with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
            assert attempt(client, "sam", PASSWORD).status_code == 429
        with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
            assert attempt(client, "sam", PASSWORD).status_code == 302
            assert logged_in(client)

    def test_a_successful_login_resets_the_count(self, client, sam):
        fail(client, "sam", 4)
        assert attempt(client, "sam", PASSWORD).status_code == 302
        client.post("/accounts/logout/")
        response = fail(client, "sam", 4)
        assert response.status_code == 200
        assert attempt(client, "sam", PASSWORD).status_code == 302


class TestSecurityLog:
    def test_login_and_logout_are_logged(self, client, sam, caplog):
        with caplog.at_level(logging.INFO, logger="pipsystem.security"):
            attempt(client, "sam", PASSWORD)
            client.post("/accounts/logout/", REMOTE_ADDR=HOME_IP)
        messages = [r.getMessage() for r in caplog.records if r.name == "pipsystem.security"]
        assert f"login user='sam' ip={HOME_IP}" in messages
        assert f"logout user='sam' ip={HOME_IP}" in messages
        assert PASSWORD not in caplog.text

    def test_failures_and_the_lockout_are_logged_without_the_password(self, client, sam, caplog):
        with caplog.at_level(logging.INFO, logger="pipsystem.security"):
            fail(client, "sam", 5)
        records = [r for r in caplog.records if r.name == "pipsystem.security"]
        failures = [r for r in records if r.getMessage().startswith("login failed")]
        assert len(failures) == 5
        assert all(r.levelno == logging.WARNING for r in failures)
        assert failures[0].getMessage() == f"login failed user='sam' ip={HOME_IP}"
        assert any(
            r.getMessage() == f"login locked out user='sam' ip={HOME_IP} failures=5"
            for r in records
        )
        # Neither the password nor its mask reaches any log record.
        assert WRONG not in caplog.text
        assert "********" not in "".join(r.getMessage() for r in records)

    def test_a_username_cannot_forge_log_lines(self, client, db, caplog):
        with caplog.at_level(logging.INFO, logger="pipsystem.security"):
            attempt(client, "eve\nlogin user='harper' ip=1.2.3.4", WRONG)
        lines = [r.getMessage() for r in caplog.records if r.name == "pipsystem.security"]
        assert len(lines) == 1 and "\n" not in lines[0]

    def test_permission_denials_are_logged(self, client, alex, sam, harper, make_plan, caplog):
        plan = make_plan(alex, "active", hr=harper)
        client.force_login(alex.user)
        with caplog.at_level(logging.INFO, logger="pipsystem.security"):
            response = client.get(f"/pips/{plan.pk}/cancel/", REMOTE_ADDR=HOME_IP)
        assert response.status_code == 403
        assert (
            f"permission denied user='alex' ip={HOME_IP} method=GET path='/pips/{plan.pk}/cancel/'"
            in [r.getMessage() for r in caplog.records if r.name == "pipsystem.security"]
        )


class TestLongUsernames:
    """Found by the hostile-input tests: a username longer than the throttling records hold."""

    def test_login_page_answers_as_for_a_wrong_password(self, client, db):
        response = attempt(client, "x" * 20_000, WRONG)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    def test_admin_login_is_throttled_without_an_error(self, client, db):
        for _ in range(5):
            response = client.post(
                "/admin/login/", {"username": "y" * 5_000, "password": WRONG}, REMOTE_ADDR=HOME_IP
            )
        assert response.status_code == 429
        assert AccessAttempt.objects.get().username == "y" * 255
