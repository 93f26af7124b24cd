"""Two-factor sign-in: with TWO_FACTOR_REQUIRED, HR and administrators reach nothing until
they set up an authenticator app (receiving recovery codes) and, in later sessions, enter a code
or a recovery code. Others are not asked. (django-axes needs a request in authenticate(), so
these tests log in with force_login.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def required(settings):
    settings.TWO_FACTOR_REQUIRED = True


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def test_hr_must_set_up_an_authenticator_first(client, harper):
    client.force_login(harper)
    response = client.get("/pips/stats/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/setup/?next=/pips/stats/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(user=harper, confirmed=False)
    done = client.post(
        "/accounts/two-factor/setup/", {"code": code_for(device), "next": "/pips/stats/"}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{7}-[0-9a-f]{7})</li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/pips/stats/").status_code == 200


def _confirmed(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_a_new_session_must_enter_a_code(client, harper):
    device = _confirmed(harper)
    client.force_login(harper)
    response = client.get("/")
    assert response["Location"] == "/accounts/two-factor/?next=/"
    ok = client.post("/accounts/two-factor/", {"code": code_for(device), "next": "/"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_recovery_code_works_once(client, harper):
    from pipsystem.identity import twofactor

    _confirmed(harper)
    codes = twofactor.new_recovery_codes(harper)
    client.force_login(harper)
    assert client.post("/accounts/two-factor/", {"code": codes[0]})["Location"] == "/"
    assert client.get("/").status_code == 200
    client.logout()
    client.force_login(harper)
    page = client.post("/accounts/two-factor/", {"code": codes[0]})
    assert page.status_code == 200 and "That code is not right" in page.content.decode()
    # (After a wrong code django-otp makes the next try wait a moment.)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert client.post("/accounts/two-factor/", {"code": codes[1]}).status_code == 302


def test_new_recovery_codes_replace_the_old(client, harper):
    from pipsystem.identity import twofactor

    device = _confirmed(harper)
    old = twofactor.new_recovery_codes(harper)
    client.force_login(harper)
    client.post("/accounts/two-factor/", {"code": code_for(device)})
    page = client.post("/accounts/two-factor/recovery-codes/")
    new = re.findall(r"<li>([0-9a-f]{7}-[0-9a-f]{7})</li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client.logout()
    client.force_login(harper)
    assert client.post("/accounts/two-factor/", {"code": old[1]}).status_code == 200


def test_administrators_too_but_not_supervisors_or_agents(client, admin_user, sam, alex):
    client.force_login(admin_user)
    assert client.get("/")["Location"].startswith("/accounts/two-factor/setup/")
    client.force_login(sam)
    assert client.get("/").status_code == 200
    client.force_login(alex.user)
    assert client.get("/").status_code == 200


def test_off_by_setting(client, harper, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(harper)
    assert client.get("/").status_code == 200


def test_an_unsafe_next_is_ignored(client, harper):
    device = _confirmed(harper)
    client.force_login(harper)
    response = client.post(
        "/accounts/two-factor/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_repeated_wrong_codes_are_throttled(client, harper):
    device = _confirmed(harper)
    client.force_login(harper)
    for _ in range(3):
        client.post("/accounts/two-factor/", {"code": "000000"})
    # Even the right code is refused while throttled.
    page = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert page.status_code == 200
    assert client.get("/").status_code == 302
