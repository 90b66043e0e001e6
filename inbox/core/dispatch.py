"""Queueing a stored reply's send, by the task's name.

Below every area: replies (an agent's answer, an approved reply, a retry) and the engines (the
out-of-hours acknowledgement) queue sends, and neither may import the other's side of it.
"""

from __future__ import annotations

import logging

from celery import current_app

log = logging.getLogger(__name__)

# The send task is named, not imported: it lives with the connectors (channels.tasks) and
# calls delivery back through inbox.ingest.entry. Importing it here would make inbox and
# channels one import cycle (the "no cycles" contract in .importlinter).
SEND_TASK = "channels.tasks.send_message"


def dispatch_send(message_id: int, countdown: int | None = None) -> None:
    """Queue the send of a stored reply (in ``countdown`` seconds); if the broker is
    unreachable, leave it to the sweep.

    Called after commit from web requests: the reply is safe in the database as "queued", so
    a broker outage must not turn an agent's click into an error.
    """
    task = current_app.tasks[SEND_TASK]  # a missing task is a deploy error: let it raise
    try:
        task.apply_async((message_id,), countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - any broker failure; redeliver_stalled_replies retries
        log.warning("broker unreachable; reply %s waits for the sweep", message_id, exc_info=True)
