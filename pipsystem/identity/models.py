"""Accounts' ways in: invitations to join, SCIM clients (one bearer token per identity
provider) and what they provisioned. Knows nothing of plans."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def usable(self, now=None) -> InvitationQuerySet:
        return self.pending().filter(expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    """A single-use link to join: set a password, or sign in through the identity provider.
    The link carries an HMAC of the invitation and its nonce (`pipsystem.identity.invitations`),
    never stored; a resend revokes the earlier link and makes a new one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations"
    )
    nonce = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_via = models.CharField(max_length=16, blank=True)  # "password" or "sso"
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live invitation per person: a resend revokes the previous one first.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_pending_invitation_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.user_id} ({self.created_at:%Y-%m-%d})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class ScimClient(models.Model):
    """An identity provider allowed to provision accounts over SCIM, with its own bearer
    token (only its SHA-256 is stored; the token is shown once when created)."""

    name = models.CharField(max_length=100, unique=True)
    token_sha256 = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class ScimUser(models.Model):
    """An account as one identity provider knows it: its SCIM id is ours (the row's uuid);
    `external_id` is the provider's."""

    client = models.ForeignKey(ScimClient, on_delete=models.PROTECT, related_name="users")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scim_links"
    )
    scim_id = models.UUIDField(unique=True)
    user_name = models.CharField(max_length=255)  # the provider's userName (often an e-mail)
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "user"], name="scim_user_once_per_client"),
            # SCIM's userName is unique per provider (case-insensitively, RFC 7643 4.1).
            models.UniqueConstraint(Lower("user_name"), "client", name="scim_user_name_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.user_name} ({self.client_id})"


class ScimGroup(models.Model):
    """A group pushed by an identity provider. When its name is in IDENTITY_ROLE_GROUPS its
    members get that role."""

    client = models.ForeignKey(ScimClient, on_delete=models.PROTECT, related_name="groups")
    scim_id = models.UUIDField(unique=True)
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="scim_groups")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "display_name"], name="scim_group_name_per_client"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name
