"""`make run` as documented: DEBUG off unless asked for, and the address it serves at (HOST,
PORT) is the one e-mail and PDF links are built from (SITE_URL)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def run_environment(*args: str) -> dict[str, str]:
    """The environment `make run` gives the web server and the worker (from a dry run)."""
    out = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "run", *args],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DEBUG", "PORT"}},
    ).stdout
    exports = [line for line in out.splitlines() if line.startswith("export ")]
    assert exports, out
    assert "runserver" in out
    return dict(re.findall(r'(\w+)=("[^"]*"|[^\s;]+)', exports[-1]))


def settings_under(environment: dict[str, str], expression: str) -> str:
    """Evaluate an expression about the settings in a fresh process with that environment."""
    env = {**os.environ, **{k: v.strip('"') for k, v in environment.items()}}
    env = {k: re.sub(r"\$\{\w+:-(.*)\}", r"\1", v) for k, v in env.items()}
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pipsystem.settings');"
        f"django.setup(); from django.conf import settings; print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_make_run_serves_without_the_debug_page_unless_asked():
    assert run_environment()["DEBUG"] == "false"
    assert run_environment("DEBUG=true")["DEBUG"] == "true"
    assert settings_under(run_environment(), "settings.DEBUG") == "False"


def test_e_mail_links_follow_the_port_make_run_serves_at():
    environment = run_environment("PORT=8101")
    assert environment["SITE_URL"] == "http://127.0.0.1:8101"
    link = settings_under(environment, "settings.SITE_URL + '/pips/7/'")
    assert link == "http://127.0.0.1:8101/pips/7/"
    # and on another host
    assert run_environment("HOST=localhost", "PORT=9000")["SITE_URL"] == "http://localhost:9000"


@pytest.mark.django_db
def test_an_e_mail_and_a_pdf_link_follow_the_address_make_run_serves_at(
    settings, alex, sam, harper, make_plan, django_capture_on_commit_callbacks
):
    """The SITE_URL `make run PORT=8101` gives, through a real e-mail and the PDF's verify
    link (not only the setting)."""
    from django.core import mail
    from django.utils import timezone

    from pips import services
    from pips.printing import render
    from pips.selectors import version_with_sections
    from pips.services import SignatureInput

    served = settings_under(run_environment("PORT=8101"), "settings.SITE_URL")
    assert served == "http://127.0.0.1:8101"
    settings.SITE_URL = served
    pip = make_plan(alex, "approved", hr=harper)
    alex.email = "alex@example.com"
    alex.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.pip_issue(
            actor=sam,
            pip=pip,
            meeting_held_on=timezone.localdate(),
            signature=SignatureInput(typed_name="Sam Carter", consent=True),
        )
    (message,) = mail.outbox
    link = f"http://127.0.0.1:8101/pips/{pip.pk}/"
    assert link in message.body
    assert f'href="{link}' in message.alternatives[0][0]
    assert "127.0.0.1:8000" not in message.body
    version = version_with_sections(pip.current_version_id)
    html = render.print_html(pip=pip, version=version, current_hash=version.content_sha256)
    assert "http://127.0.0.1:8101/pips/verify/" in html
