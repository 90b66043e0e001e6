"""Sending a queued reply exactly once.

States: queued → sending → sent | failed. The switch to ``sending`` is committed *before* the
platform is called. So if a worker dies during the call, the redelivered task finds ``sending``
and does not know whether the first attempt reached the platform: it asks the connector to look
for it (``find_sent``) before posting again. A reply is posted twice only if a platform both
loses our post from its own listing and accepts it again — which no connector may claim.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from channels import health
from channels.base import (
    AccountRestricted,
    AuthError,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    RecipientRateLimited,
    RecipientRefused,
    SendResult,
    TemporaryError,
)
from inbox.customers.linking import identity_link_same_person
from inbox.engines.sla import Calendars, Targets, business_durations_set, sla_apply
from inbox.events.services import activity_event
from inbox.media.outbound import outbound_attachments
from inbox.models import Activity, DeliveryState, Direction, Message, PrivateReply, Ticket

log = logging.getLogger(__name__)


class RetryLater(Exception):  # noqa: N818 - it is an instruction, not an error
    def __init__(self, reason: str, countdown: int | None = None) -> None:
        super().__init__(reason)
        self.countdown = countdown


def outbound_reply(message: Message) -> OutboundReply:
    ticket = message.ticket
    last_inbound = (
        ticket.messages.filter(direction=Direction.INBOUND)
        .exclude(external_id=None)
        .order_by("-sent_at", "-id")
        .select_related("author_identity")
        .first()
    )
    return OutboundReply(
        message_id=message.pk,
        idempotency_key=message.idempotency_key or f"msg-{message.pk}",
        text=message.text,
        mode=message.reply_mode or "public",
        thread_key=ticket.thread_key,
        ticket_kind=ticket.kind,
        in_reply_to=(last_inbound.external_id or "") if last_inbound else "",
        in_reply_to_parent=last_inbound.parent_external_id if last_inbound else "",
        recipient_id=(
            last_inbound.author_identity.platform_user_id
            if last_inbound and last_inbound.author_identity
            else ""
        ),
        options=dict(message.send_options or {}),
        created_at=message.created_at,
        # The files the agent attached, in the media storage (inbox.media.outbound).
        attachments=outbound_attachments(message.pk) if message.attachment_count else (),
    )


def message_deliver(*, message_id: int) -> str:
    """Send one outbound message. Idempotent: returns quietly when there is nothing to do."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("ticket", "channel")
            .filter(pk=message_id, direction=Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return "gone"
        if message.delivery_state not in (DeliveryState.QUEUED, DeliveryState.SENDING):
            return f"nothing to do ({message.delivery_state or 'not outbound'})"
        resumed = message.delivery_state == DeliveryState.SENDING
        if resumed:
            # Another attempt started this send. Only once it is certainly over (killed by the
            # hard time limit at the latest) may we look for its post and decide; until then a
            # duplicate task (a redelivery, the sweep) waits instead of racing it.
            over_at = (message.delivery_changed_at or message.created_at) + attempt_bound()
            if timezone.now() < over_at:
                wait = int((over_at - timezone.now()).total_seconds()) + 1
                raise RetryLater("an earlier attempt may still be running", wait)
        message.delivery_state = DeliveryState.SENDING
        message.delivery_changed_at = timezone.now()
        message.attempts = F("attempts") + 1
        message.save(update_fields=["delivery_state", "delivery_changed_at", "attempts"])
    message.refresh_from_db(fields=["attempts"])
    connector = message.channel.connector()
    reply = outbound_reply(message)

    if resumed:
        # An earlier attempt was cut off after it may have reached the platform.
        try:
            found = connector.find_sent(reply)
        except OutcomeUnknown as exc:
            message_fail(
                message_id=message_id,
                reason=(
                    "An earlier attempt may have been posted and the platform cannot confirm it "
                    f"({exc.message}). Check the platform before retrying."
                ),
            )
            return "failed: outcome unknown"
        except (TemporaryError, RateLimited) as exc:
            raise RetryLater(exc.message, _countdown(exc)) from exc
        if found is not None:
            message_mark_sent(message_id=message_id, result=found)
            return "sent (found earlier attempt)"

    try:
        result = connector.send(reply)
    except OutcomeUnknown as exc:
        # Stay in "sending", so the retry looks on the platform first. This attempt is over
        # (the platform call returned), so the retry need not wait for the time limit.
        Message.objects.filter(pk=message_id, delivery_state=DeliveryState.SENDING).update(
            delivery_changed_at=timezone.now() - attempt_bound()
        )
        raise RetryLater(exc.message) from exc
    except (TemporaryError, RateLimited) as exc:
        Message.objects.filter(pk=message_id, delivery_state=DeliveryState.SENDING).update(
            delivery_state=DeliveryState.QUEUED,
            delivery_changed_at=timezone.now(),
            failure_reason=exc.message,
        )
        # A limit on this one recipient (WhatsApp's pair rate limit) is no news about the channel.
        if isinstance(exc, RateLimited) and not isinstance(exc, RecipientRateLimited):
            health.record_send_rate_limit(message.channel_id, exc)
        raise RetryLater(exc.message, _countdown(exc)) from exc
    except (PermanentError, AuthError) as exc:
        message_fail(message_id=message_id, reason=exc.message)
        # Refused for good, so not sent: its comment may be answered privately again (the
        # claim of inbox.replies.private). An unknown outcome keeps the claim: the reply may
        # have reached the customer.
        PrivateReply.objects.filter(message_id=message_id).delete()
        if isinstance(exc, AuthError):
            # Dead credentials (Meta 190, X 401): every other reply would fail the same way,
            # so the channel shows "needs reconnect" now rather than at its next poll.
            health.record_send_auth_failure(message.channel_id, exc)
        elif isinstance(exc, AccountRestricted):
            # The platform restricted the account: every reply fails until that ends.
            health.record_policy_enforcement(message.channel_id, "block", exc.message)
        elif isinstance(exc, RecipientRefused):
            health.record_send_refusal(message.channel_id, exc)
        return "failed"
    except Exception as exc:
        log.exception("send of message %s failed unexpectedly", message_id)
        message_fail(message_id=message_id, reason=f"Unexpected error: {exc!r}")
        return "failed"
    message_mark_sent(message_id=message_id, result=result)
    _identity_hints_store(message.channel.platform, result)
    return "sent"


def _identity_hints_store(platform: str, result: SendResult) -> None:
    """Link the ids the send taught us are one person (a Facebook private reply's PSID). The
    reply is sent and stored whatever happens here: a failed link is logged, not retried."""
    for hint in result.identity_hints:
        try:
            identity_link_same_person(
                platform=platform, known_uid=hint.known_uid, other_uid=hint.other_uid
            )
        except Exception:  # noqa: BLE001 - the reply is out; the link is a convenience
            log.exception("linking %s to %s failed", hint.other_uid, hint.known_uid)


# The send task is named, not imported: it lives with the connectors (channels.tasks) and
# calls delivery back through inbox.ingest.entry. Importing it here would make inbox and
# channels one import cycle (the "no cycles" contract in .importlinter).
SEND_TASK = "channels.tasks.send_message"


def dispatch_send(message_id: int) -> None:
    """Queue the send of a stored reply; if the broker is unreachable, leave it to the sweep.

    Called after commit from web requests: the reply is safe in the database as "queued", so
    a broker outage must not turn an agent's click into an error.
    """
    from celery import current_app

    task = current_app.tasks[SEND_TASK]  # a missing task is a deploy error: let it raise
    try:
        task.apply_async((message_id,), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure; redeliver_stalled_replies retries
        log.warning("broker unreachable; reply %s waits for the sweep", message_id, exc_info=True)


def attempt_bound() -> dt.timedelta:
    """How long after it started an attempt is certainly over."""
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 10)


def _countdown(exc: Exception) -> int | None:
    if isinstance(exc, RateLimited) and exc.until:
        return max(1, int((exc.until - timezone.now()).total_seconds()) + 1)
    return None


def message_mark_sent(*, message_id: int, result: SendResult) -> None:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        if message.delivery_state == DeliveryState.SENT:
            return
        # A poll may have stored the platform's echo of this very reply before we learnt its id:
        # that row is the same message; ours (with its author) is the one to keep.
        Message.objects.filter(
            channel_id=message.channel_id, external_id=result.external_id, author_user=None
        ).exclude(pk=message.pk).delete()
        message.delivery_state = DeliveryState.SENT
        message.delivery_changed_at = now
        message.external_id = result.external_id
        message.url = result.url or message.url
        message.failure_reason = ""
        message.sent_at = now
        try:
            with transaction.atomic():
                message.save(
                    update_fields=[
                        "delivery_state",
                        "delivery_changed_at",
                        "external_id",
                        "url",
                        "failure_reason",
                        "sent_at",
                    ]
                )
        except IntegrityError:
            # Another of our own messages already carries this platform id: nothing to post.
            message.external_id = None
            message.failure_reason = "Duplicate of an earlier reply; not posted again."
            message.save(
                update_fields=[
                    "delivery_state",
                    "delivery_changed_at",
                    "external_id",
                    "failure_reason",
                    "sent_at",
                ]
            )
        # An out-of-hours acknowledgement (inbox.engines.sla) is not an answer: the SLA clock runs
        # on.
        if message.reply_mode != "note" and not (message.send_options or {}).get("auto_ack"):
            ticket = message.ticket
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                business_durations_set(ticket)
                Ticket.objects.filter(pk=ticket.pk, first_response_at=None).update(
                    first_response_at=now,
                    first_response_business_seconds=ticket.first_response_business_seconds,
                )
            Ticket.objects.filter(pk=message.ticket_id).update(
                last_response_at=now, updated_at=now, version=F("version") + 1
            )
        activity_event(
            Activity.objects.create(
                ticket_id=message.ticket_id,
                actor_id=message.author_user_id,
                verb="reply_sent",
                after={"message": message.pk, "external_id": result.external_id},
                created_at=now,
            )
        )
    if message.reply_mode != "note":
        # Platforms that bill per post (X) have a monthly post budget; see channels.health.
        health.record_post(message.channel_id)


def message_fail(*, message_id: int, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
        if message.delivery_state == DeliveryState.SENT:
            return
        message.delivery_state = DeliveryState.FAILED
        message.delivery_changed_at = now
        message.failure_reason = reason[:2000]
        message.save(update_fields=["delivery_state", "delivery_changed_at", "failure_reason"])
        ticket = message.ticket
        # The customer still waits: the clock runs again from their last message.
        if (
            ticket.waiting_since is None
            and ticket.last_inbound_at
            and (
                ticket.last_response_at is None or ticket.last_response_at < ticket.last_inbound_at
            )
        ):
            ticket.waiting_since = ticket.last_inbound_at
            # Due again, from the customer's message, as if the answer never happened.
            sla_apply(
                tickets=[ticket],
                calendars=Calendars([ticket.team_id]),
                targets=Targets([ticket.channel_id]),
            )
        ticket.updated_at = now
        ticket.version += 1
        ticket.save(
            update_fields=[
                "waiting_since",
                "due_at",
                "first_response_due_at",
                "updated_at",
                "version",
            ]
        )
        activity_event(
            Activity.objects.create(
                ticket_id=ticket.pk,
                actor_id=None,
                verb="reply_failed",
                after={"message": message.pk, "reason": reason[:500]},
                created_at=now,
            )
        )
