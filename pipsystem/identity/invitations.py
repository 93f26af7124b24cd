"""Invitations to join: a single-use link that expires, where the person sets a password or
signs in through the company's identity provider.

The link is `/accounts/invitation/<id>/<token>/`, the token an HMAC (keyed by SECRET_KEY) of
the invitation's id, nonce and user: nothing in the database is enough to forge one, and the
e-mail task can rebuild it from the invitation. A resend revokes the earlier link.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from pipsystem.identity import directory
from pipsystem.identity.models import Invitation

logger = logging.getLogger(__name__)

_SALT = "pipsystem.identity.invitation"
SEND_CHUNK = 200  # invitations per e-mail task (one SMTP connection each)


class InvitationError(Exception):
    """The link cannot be used; `reason` is "invalid", "expired" or "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_for(invitation: Invitation) -> str:
    return salted_hmac(
        _SALT, f"{invitation.pk}:{invitation.nonce}:{invitation.user_id}", algorithm="sha256"
    ).hexdigest()


def link_for(invitation: Invitation) -> str:
    path = reverse("identity:invitation", args=[invitation.pk, token_for(invitation)])
    return f"{settings.SITE_URL}{path}"


def has_joined(user) -> bool:
    """Whether the person can sign in already: a password of their own, or a past sign-in
    (through single sign-on, say)."""
    return user.is_active and (user.last_login is not None or user.has_usable_password())


def sso_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


def _expiry(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=settings.INVITATION_VALID_DAYS)


def invitations_send(*, actor, users: Iterable) -> list[Invitation]:
    """Invite (or invite again) each person who has not joined and has an e-mail address;
    earlier links of theirs stop working. The e-mails go out after the commit. Who may invite
    whom is the caller's rule (HR anyone, a supervisor their own people: the roster's
    `people_invite`)."""
    users = [u for u in users if u.is_active and u.email and not has_joined(u)]
    if not users:
        return []
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.pending().filter(user__in=users).update(revoked_at=now)
        invitations = Invitation.objects.bulk_create(
            Invitation(
                user=user,
                nonce=secrets.token_urlsafe(24),
                created_by=actor,
                created_at=now,
                expires_at=_expiry(now),
            )
            for user in users
        )
        if not all(i.pk for i in invitations):  # only PostgreSQL returns bulk keys
            invitations = list(Invitation.objects.pending().filter(user__in=users, created_at=now))
        ids = [i.pk for i in invitations]
        transaction.on_commit(lambda: _queue(ids))
    return invitations


@shared_task(
    name="pipsystem.identity.tasks.send_invitations", acks_late=True, reject_on_worker_lost=True
)
def send_invitations_task(invitation_ids: list[int]) -> int:
    """The e-mails of these invitations, each once (pipsystem.identity.tasks names it)."""
    return send_pending(invitation_ids)


def _queue(ids: list[int]) -> None:
    for start in range(0, len(ids), SEND_CHUNK):
        chunk = ids[start : start + SEND_CHUNK]
        try:
            send_invitations_task.delay(chunk)
        except Exception:
            # The invitations stay unsent (sent_at empty): the list shows them, and a resend
            # or the next sweep sends them.
            logger.exception("Could not queue invitation e-mails %r", chunk)


def send_pending(ids: list[int]) -> int:
    """Send the e-mails of these invitations, each once (claimed by a conditional UPDATE)."""
    sent = 0
    connection = get_connection()
    with connection:
        for invitation in Invitation.objects.usable().filter(pk__in=ids, sent_at__isnull=True):
            claimed = Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(
                sent_at=timezone.now()
            )
            if not claimed:
                continue
            _email(invitation, connection)
            sent += 1
    return sent


def unsent_ids() -> list[int]:
    return list(
        Invitation.objects.usable().filter(sent_at__isnull=True).values_list("pk", flat=True)
    )


def _email(invitation: Invitation, connection) -> None:
    """The invitation e-mail, in the language the invitee reads (IDENTITY_LANGUAGE_OF: their
    profile's, else the roster's), whoever sent it and in whichever language."""
    user = invitation.user
    with translation.override(directory.language_of(user)):
        _email_in_language(invitation, user, connection)


def _email_in_language(invitation: Invitation, user, connection) -> None:
    context = {
        "user": user,
        "url": link_for(invitation),
        "expires_at": invitation.expires_at,
        "username": user.get_username(),
        "sso": sso_enabled(),
        "site_url": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
    }
    subject = " ".join(render_to_string("emails/invitation-subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject,
        render_to_string("emails/invitation-body.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
        connection=connection,
    )
    message.attach_alternative(
        render_to_string("emails/invitation-body.html", context), "text/html"
    )
    message.send()


def invitation_check(invitation_id: int, token: str) -> Invitation:
    """The invitation a link names, if the link is right and still usable."""
    invitation = Invitation.objects.select_related("user").filter(pk=invitation_id).first()
    if invitation is None or not constant_time_compare(token, token_for(invitation)):
        raise InvitationError("invalid")
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationError("used")
    if invitation.expires_at <= timezone.now() or not invitation.user.is_active:
        raise InvitationError("expired")
    return invitation


@dataclass
class Accepted:
    user: object
    invitation: Invitation


def invitation_accept(*, invitation_id: int, token: str, password: str) -> Accepted:
    """Set the person's password through their invitation; the link then stops working."""
    if not settings.LOCAL_PASSWORDS:
        raise PermissionDenied(
            gettext("Passwords are switched off: sign in through single sign-on.")
        )
    with transaction.atomic():
        invitation = invitation_check(invitation_id, token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_usable():
            raise InvitationError("used")
        user = invitation.user
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password1": exc.messages}) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        invitation.accepted_at = timezone.now()
        invitation.accepted_via = "password"
        invitation.save(update_fields=["accepted_at", "accepted_via"])
    return Accepted(user=user, invitation=invitation)


def accept_by_sso(user) -> None:
    """Someone with a pending invitation signed in through the identity provider: they have
    joined, and their link is used up."""
    Invitation.objects.pending().filter(user=user).update(
        accepted_at=timezone.now(), accepted_via="sso"
    )


def revoke_for(users: Iterable) -> int:
    """Links of people who left stop working."""
    return (
        Invitation.objects.pending().filter(user__in=list(users)).update(revoked_at=timezone.now())
    )
