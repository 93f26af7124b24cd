"""Make a SCIM client (one per identity provider) and print its bearer token once, or give an
existing one a new token (the old one stops working)."""

from __future__ import annotations

import secrets

from django.core.management.base import BaseCommand

from pipsystem.identity.models import ScimClient


class Command(BaseCommand):
    help = "Create a SCIM client for an identity provider (or rotate its token); prints the token."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the identity provider, e.g. Okta or Entra ID")
        parser.add_argument("--rotate", action="store_true", help="give it a new token")
        parser.add_argument("--disable", action="store_true", help="stop accepting its token")

    def handle(self, *args, name: str, rotate: bool, disable: bool, **options) -> None:
        client = ScimClient.objects.filter(name=name).first()
        if disable:
            if client is None:
                self.stderr.write(f"No SCIM client named {name}.")
                raise SystemExit(1)
            client.is_active = False
            client.save(update_fields=["is_active"])
            self.stdout.write(f"{name}: its token is no longer accepted.")
            return
        if client is not None and not rotate:
            self.stderr.write(f"{name} exists; use --rotate for a new token.")
            raise SystemExit(1)
        token = secrets.token_urlsafe(32)
        if client is None:
            ScimClient.objects.create(name=name, token_sha256=ScimClient.digest(token))
        else:
            client.token_sha256 = ScimClient.digest(token)
            client.is_active = True
            client.save(update_fields=["token_sha256", "is_active"])
        self.stdout.write(token)
