"""Invitation e-mails: sent by a worker after the commit, each once."""

from __future__ import annotations

from celery import shared_task

from pipsystem.identity import invitations

# Defined beside the invitations it sends (which queue it), under this module's name.
send_invitations = invitations.send_invitations_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_unsent_invitations() -> int:
    """The beat's catch-up: invitations whose e-mail could not be queued when made."""
    return invitations.send_pending(invitations.unsent_ids())
