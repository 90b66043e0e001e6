"""Sending a channel's queued replies in batches: claimed together, sent concurrently, recorded
together.

For a channel whose connector sends at a fixed rate shared by every worker (WhatsApp: 80
messages a second per number), one reply per task spends more on the database than on the
send: a claim, a lock, the reply's activity, the ticket's response times and the channel's
post counter, each its own statement and commit. Here a worker claims up to
``Connector.send_batch_size()`` queued replies of the channel in one statement (``SELECT …
FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint batches), sends them from a pool
of threads (each with its own connector; the connector's rate counter keeps them at the
number's rate), and records the outcomes with a fixed number of statements per batch. The
channel's post counter is counted once per batch.

The guarantees are ``inbox.replies.delivery``'s: a reply is ``sending`` (committed) before the
platform is called and marked ``sent`` only after; a worker lost mid-batch leaves its replies in
``sending`` for the stalled-reply sweep, which resumes each through ``message_deliver`` (looking
on the platform before posting again). Failures go through the same ``send_failed`` as a single
send, each cause told to the channel's health once a batch.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import IntegrityError, connection, connections, transaction
from django.db.models import CharField, F, OuterRef, Subquery
from django.utils import timezone

from channels import health
from channels.base import Connector, OutboundReply, SendResult
from channels.models import Channel
from inbox.core.dispatch import dispatch_send
from inbox.events.services import activities_events
from inbox.models import Activity, DeliveryState, Direction, Message
from inbox.replies.delivery import (
    RetryLater,
    _countdown,
    _identity_hints_store,
    attempt_bound,
    message_deliver,
    message_mark_sent,
    outbound_reply,
    per_row,
    send_failed,
    tickets_answered,
)

log = logging.getLogger(__name__)

# Threads sending one batch: enough to keep a number's rate counter full while posts wait on
# the platform's answer (80 a second at up to 0.25 s each), few enough for one worker process.
MAX_SENDERS = 20
# When a reply went back to the queue without the platform naming a wait (a temporary error).
RETRY_SECONDS = 5


def reply_deliver(*, message_id: int) -> str:
    """What the send task runs for a stored reply: on a channel that sends in batches, a batch
    of its queued replies with this one first; otherwise (or to resume a reply an earlier
    attempt left in ``sending``) ``message_deliver``."""
    found = (
        Message.objects.filter(pk=message_id, direction=Direction.OUTBOUND)
        .select_related("channel")
        .only("delivery_state", "delivery_changed_at", "created_at", "channel")
        .first()
    )
    if found is None:
        return "gone"
    if found.delivery_state not in (DeliveryState.QUEUED, DeliveryState.SENDING):
        # Sent (by a batch, most often), failed, or not to be sent: its task has nothing to do.
        return f"nothing to do ({found.delivery_state or 'not outbound'})"
    connector = found.channel.connector()
    if connector.send_batch_size() <= 1:
        return message_deliver(message_id=message_id)
    if found.delivery_state == DeliveryState.SENDING:
        started = found.delivery_changed_at or found.created_at
        if timezone.now() < started + attempt_bound():
            # A batch is sending it: its worker records the outcome; if that worker is lost,
            # the stalled-reply sweep brings the reply back here once the attempt is over.
            return "nothing to do (in a batch)"
        return message_deliver(message_id=message_id)  # resume: look on the platform first
    return replies_deliver(channel=found.channel, connector=connector, first_id=message_id)


def replies_deliver(*, channel: Channel, connector: Connector, first_id: int | None = None) -> str:
    """Claim, send and record one batch of the channel's queued replies. A reply that went back
    to the queue (a rate limit, a temporary error) is sent again by its own task after the
    platform's wait: the asking task's retry (:class:`RetryLater`) if it is ``first_id``, a new
    task for any other."""
    claimed = replies_claim(channel.pk, connector.send_batch_size(), first_id)
    if not claimed:
        return "nothing to do"
    messages = _replies_load(claimed)
    replies = [
        outbound_reply(
            m,
            # The annotations of _replies_load.
            in_reply_to=getattr(m, "last_in_id", None) or "",
            in_reply_to_parent=getattr(m, "last_in_parent", None) or "",
            recipient_id=getattr(m, "last_in_uid", None) or "",
        )
        for m in messages
    ]
    outcomes = _send_all(channel, replies)
    sent = [(m, r) for m in messages if isinstance(r := outcomes[m.pk], SendResult)]
    replies_mark_sent(channel=channel, sent=sent)
    told: set[str] = set()
    counts = {"sent": len(sent)}
    retry_first: RetryLater | None = None
    for message in messages:
        exc = outcomes[message.pk]
        if isinstance(exc, SendResult):
            continue
        outcome = send_failed(message, exc, retry=False, told=told)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "unknown":
            # Resumed at once by a task of its own: it looks on the platform before posting.
            dispatch_send(message.pk)
        elif outcome == "retry" and message.pk == first_id:
            retry_first = RetryLater(str(exc), _countdown(exc) or RETRY_SECONDS)
        elif outcome == "retry":
            dispatch_send(message.pk, _countdown(exc) or RETRY_SECONDS)
    summary = f"batch of {len(messages)}: " + ", ".join(
        f"{k} {v}" for k, v in sorted(counts.items())
    )
    if retry_first is not None:
        raise retry_first
    return summary


def replies_claim(channel_id: int, limit: int, first_id: int | None = None) -> list[int]:
    """Switch up to ``limit`` of the channel's queued replies to ``sending`` (committed before
    any is sent) and return their ids, oldest first; ``first_id`` is taken whatever its age (its
    task is the one asking). Rows another worker is claiming are skipped, not waited for."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                channel_id=channel_id,
                direction=Direction.OUTBOUND,
                delivery_state=DeliveryState.QUEUED,
            )
            .order_by("created_at")
            .values_list("pk", flat=True)[: max(1, limit - 1 if first_id else limit)]
        )
        if first_id is not None and first_id not in ids:
            ids.append(first_id)
        if not ids:
            return []
        table = Message._meta.db_table
        with connection.cursor() as cur:
            # The state is checked again by the UPDATE itself: a row claimed meanwhile (first_id,
            # or any row on SQLite, which has no row locks) is not returned, so never sent twice.
            cur.execute(
                f"UPDATE {table} SET delivery_state = %s, delivery_changed_at = %s, "  # noqa: S608
                f"attempts = attempts + 1 WHERE id IN ({', '.join(['%s'] * len(ids))}) "
                "AND delivery_state = %s AND direction = %s RETURNING id",
                [DeliveryState.SENDING, now, *ids, DeliveryState.QUEUED, Direction.OUTBOUND],
            )
            return sorted(pk for (pk,) in cur.fetchall())


def _replies_load(ids: list[int]) -> list[Message]:
    """The claimed replies with their tickets and, per ticket, the customer's latest message and
    its author (what the platform answers to): one query."""
    last_in = (
        Message.objects.filter(ticket_id=OuterRef("ticket_id"), direction=Direction.INBOUND)
        .exclude(external_id=None)
        .order_by("-sent_at", "-id")
    )
    return list(
        Message.objects.filter(pk__in=ids)
        .select_related("ticket")
        .annotate(
            last_in_id=Subquery(last_in.values("external_id")[:1]),
            last_in_parent=Subquery(last_in.values("parent_external_id")[:1]),
            last_in_uid=Subquery(last_in.values("author_identity__platform_user_id")[:1]),
        )
        .order_by("created_at", "pk")
    )


def _send_all(channel: Channel, replies: list[OutboundReply]) -> dict[int, SendResult | Exception]:
    """Each reply's result or the exception its send raised, sent from a pool of threads; each
    thread has its own connector (its own HTTP session)."""
    local = threading.local()

    def one(reply: OutboundReply) -> tuple[int, SendResult | Exception]:
        connector = getattr(local, "connector", None)
        if connector is None:
            connector = local.connector = channel.connector()
        try:
            return reply.message_id, connector.send(reply)
        except Exception as exc:  # noqa: BLE001 - recorded per reply by send_failed
            return reply.message_id, exc
        finally:
            # A connector that read the database opened this thread's own connection.
            for conn in connections.all(initialized_only=True):
                conn.close()

    senders = max(1, min(MAX_SENDERS, len(replies)))
    with ThreadPoolExecutor(max_workers=senders, thread_name_prefix="send") as pool:
        return dict(pool.map(one, replies))


def replies_mark_sent(*, channel: Channel, sent: list[tuple[Message, SendResult]]) -> None:
    """Record a batch's posted replies as sent, with their activities and their tickets'
    response times, in one transaction; the channel's post counter once."""
    if not sent:
        return
    try:
        with transaction.atomic():
            marked = _sent_rows(channel.pk, sent)
    except IntegrityError:
        # Another of our messages already carries one of these platform ids (not seen in
        # practice): record them one by one, as a single send does.
        for message, result in sent:
            message_mark_sent(message_id=message.pk, result=result)
        marked = [m for m, _r in sent]
    else:
        posts = sum(1 for m in marked if m.reply_mode != "note")
        if posts:
            health.record_post(channel.pk, posts=posts)
    for _message, result in sent:
        _identity_hints_store(channel.platform, result)


def _sent_rows(channel_id: int, sent: list[tuple[Message, SendResult]]) -> list[Message]:
    now = timezone.now()
    by_pk = {m.pk: (m, r) for m, r in sent}
    ours = list(
        Message.objects.select_for_update()
        .filter(pk__in=list(by_pk))
        .exclude(delivery_state=DeliveryState.SENT)
        .values_list("pk", flat=True)
    )
    if not ours:
        return []
    external = {pk: by_pk[pk][1].external_id for pk in ours}
    # A platform echo of one of these replies stored before we learnt its id is the same
    # message; ours (with its author) is the one to keep.
    Message.objects.filter(
        channel_id=channel_id, external_id__in=list(external.values()), author_user=None
    ).exclude(pk__in=ours).delete()
    urls = {pk: by_pk[pk][1].url for pk in ours if by_pk[pk][1].url}
    Message.objects.filter(pk__in=ours).update(
        delivery_state=DeliveryState.SENT,
        delivery_changed_at=now,
        sent_at=now,
        failure_reason="",
        external_id=per_row(external, CharField()),
        url=per_row(urls, CharField(), default=F("url")),
    )
    marked = [by_pk[pk][0] for pk in ours]
    tickets_answered(marked, now)
    activities = Activity.objects.bulk_create(
        Activity(
            ticket_id=m.ticket_id,
            actor_id=m.author_user_id,
            verb="reply_sent",
            after={"message": m.pk, "external_id": external[m.pk]},
            created_at=now,
        )
        for m in marked
    )
    activities_events(activities)
    return marked
