"""The Celery app. Configuration lives in settings.py under the CELERY_ namespace. Also the two
things every task module shares: the options of light tasks and `enqueue`."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipsystem.settings")

app = Celery("pipsystem")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# Light tasks: short, safe to run again, so a message whose worker died is put back at once.
LIGHT = {"acks_late": True, "reject_on_worker_lost": True}


def enqueue(task, *args) -> bool:
    """Queue a task; if the broker cannot be reached, log it and carry on."""
    try:
        task.delay(*args)
    except Exception:
        # Nothing is lost: the sweep finds due work from the database, not from the queue.
        logger.exception("Could not queue %s%r; the next sweep will pick it up", task.name, args)
        return False
    return True
