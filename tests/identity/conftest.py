"""A real OpenID Connect provider for the single sign-on tests: tests/oidc/provider.mjs, the
`oidc-provider` package under Node.js, started on 127.0.0.1 on a free port (installed with npm
into tests/oidc/node_modules by .ci/run, or here on first use)."""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import need_service

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "pipsystem-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_installed() -> None:
    need_service("Node.js", shutil.which("node") is not None and shutil.which("npm") is not None)
    if (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, check=True, capture_output=True
    )


@dataclass
class Provider:
    issuer: str
    client_secret: str
    accounts: dict = field(default_factory=dict)

    def settings(self, settings) -> None:
        """Point the app at this provider, as an administrator would with the OIDC_* variables."""
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = self.client_secret
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{self.issuer}/auth"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{self.issuer}/token"
        settings.OIDC_OP_USER_ENDPOINT = f"{self.issuer}/me"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{self.issuer}/jwks"
        settings.OIDC_OP_LOGOUT_ENDPOINT = f"{self.issuer}/session/end"
        settings.OIDC_RP_SCOPES = "openid email profile groups employee"
        settings.OIDC_PROVIDER_NAME = "Test IdP"
        # As settings.py does for OIDC_END_SESSION_ENDPOINT: the logout form may go there.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(self.issuer)
        settings.CONTENT_SECURITY_POLICY = policy


ACCOUNTS = {
    # Alex, matched by employee ID (his e-mail at the provider differs from ours).
    "alex.idp": {
        "password": "idp-pass-alex",
        "claims": {
            "sub": "idp-0001",
            "email": "alex.rivera@corp.example",
            "email_verified": True,
            "employee_id": "E1001",
            "given_name": "Alex",
            "family_name": "Rivera",
            "groups": ["Everyone", "CC Agents"],
        },
    },
    # Harper, matched by e-mail; her groups make her HR.
    "harper.idp": {
        "password": "idp-pass-harper",
        "claims": {
            "sub": "idp-0002",
            "email": "HARPER@example.com",
            "email_verified": True,
            "groups": ["Everyone", "PIP HR"],
        },
    },
    # Someone the app knows, whose groups give no role: refused.
    "norole.idp": {
        "password": "idp-pass-norole",
        "claims": {
            "sub": "idp-0003",
            "email": "norole@example.com",
            "email_verified": True,
            "groups": ["Everyone"],
        },
    },
    # Someone the app does not know at all.
    "stranger.idp": {
        "password": "idp-pass-stranger",
        "claims": {
            "sub": "idp-0004",
            "email": "stranger@elsewhere.example",
            "email_verified": True,
            "groups": ["PIP HR"],
        },
    },
}
ROLE_GROUPS = {"PIP HR": "hr", "PIP Supervisors": "supervisor", "CC Agents": "agent"}


@pytest.fixture
def oidc_provider():
    """Start a provider that accepts these redirect bases; stopped after the test."""
    _ensure_installed()
    processes = []

    def start(*bases: str) -> Provider:
        port = _free_port()
        secret = secrets.token_urlsafe(32)
        config = {
            "port": port,
            "client": {
                "client_id": CLIENT_ID,
                "client_secret": secret,
                "redirect_uris": [f"{b}/oidc/callback/" for b in bases],
                "post_logout_redirect_uris": [f"{b}/accounts/login/" for b in bases],
            },
            "accounts": ACCOUNTS,
        }
        process = subprocess.Popen(
            ["node", str(OIDC_DIR / "provider.mjs")],
            env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        deadline = time.monotonic() + 20
        line = process.stdout.readline()
        if not line.startswith("READY") or time.monotonic() > deadline:
            raise RuntimeError(f"the OpenID provider did not start: {line!r}")
        return Provider(issuer=f"http://127.0.0.1:{port}", client_secret=secret, accounts=ACCOUNTS)

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
