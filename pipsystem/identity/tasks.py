"""Invitation e-mails: sent by a worker after the commit, each once."""

from __future__ import annotations

from celery import shared_task

from pipsystem.identity import invitations


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_invitations(invitation_ids: list[int]) -> int:
    return invitations.send_pending(invitation_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_unsent_invitations() -> int:
    """The beat's catch-up: invitations whose e-mail could not be queued when made."""
    return invitations.send_pending(invitations.unsent_ids())
