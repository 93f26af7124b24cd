"""Walk the audit trail's hash chain and report every event that was changed, and every gap
where an event was removed. Exit status 1 when the chain is broken.

The last event's hash is printed: record it somewhere the database's administrators cannot
write (a ticket, a signed e-mail); a later run that does not reach it (`--expect-head ID:HASH`)
shows that events at the end were removed, which no chain can show by itself.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from pips.audit import GENESIS, event_hash
from pips.models import AuditEvent

BATCH = 2000


class Command(BaseCommand):
    help = "Check the audit trail's hash chain: report events changed and events missing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="ID:HASH",
            help="an event id and hash recorded from an earlier run, which must still be there",
        )

    def handle(self, *args, expect_head: str | None = None, **options):
        problems: list[str] = []
        previous, previous_id, count = GENESIS, None, 0
        seen_head = expect_head is None
        head_id, head_hash = None, None
        if expect_head:
            try:
                raw_id, head_hash = expect_head.split(":", 1)
                head_id = int(raw_id)
            except ValueError:
                raise CommandError(
                    "--expect-head takes ID:HASH, as printed by this command."
                ) from None
        events = AuditEvent.objects.order_by("pk")
        for event in events.iterator(chunk_size=BATCH):
            count += 1
            if event.prev_hash != previous:
                after = f"event {previous_id}" if previous_id else "the start"
                problems.append(
                    f"Event {event.pk} ({event.at:%Y-%m-%d %H:%M:%S}, {event.action}) does not "
                    f"follow {after}: an event between them is missing or was changed."
                )
            if event.event_hash != event_hash(event, event.prev_hash):
                problems.append(
                    f"Event {event.pk} ({event.at:%Y-%m-%d %H:%M:%S}, {event.action}) was "
                    "changed after it was written: it does not match its hash."
                )
            if head_id is not None and event.pk == head_id:
                seen_head = True
                if event.event_hash != head_hash:
                    problems.append(f"Event {head_id} no longer has the hash recorded earlier.")
            previous, previous_id = event.event_hash, event.pk
        if not seen_head:
            problems.append(
                f"Event {head_id}, recorded earlier as the last, is not in the trail: events "
                "were removed."
            )
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(
                f"The audit chain is broken: {len(problems)} problem(s) in {count} events."
            )
        self.stdout.write(
            f"The audit chain of {count} events is intact. Last event: {previous_id}:{previous}"
        )
