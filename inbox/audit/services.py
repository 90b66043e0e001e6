"""Writing the audit log: the activity row every change writes, and deletes recorded with
what was deleted."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from inbox.models import (
    Activity,
    Ticket,
)


def activity_log(
    *,
    ticket: Ticket | None,
    actor: User | None,
    verb: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Activity:
    from inbox.events.services import activity_event

    row = Activity.objects.create(
        ticket=ticket,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        before=before or {},
        after=after or {},
    )
    # The outbound webhook event of this change, in the same transaction (the outbox).
    activity_event(row)
    return row


def audited_delete(*, actor: User | None, row, before: dict, verb: str) -> None:
    """Delete a settings row and write its audit entry (``before`` as it was), in one
    transaction."""
    with transaction.atomic():
        row.delete()
        activity_log(ticket=None, actor=actor, verb=verb, before=before)
