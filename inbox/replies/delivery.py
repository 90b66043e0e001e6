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
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Expression, F, Field, IntegerField, Value
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
from inbox.core.business_time import Calendars
from inbox.customers.linking import identity_link_same_person
from inbox.engines.sla import Targets, sla_apply
from inbox.events.services import activity_event
from inbox.media.outbound import outbound_attachments
from inbox.models import Activity, DeliveryState, Direction, Message, PrivateReply, Ticket
from inbox.tickets.timing import business_durations_set

log = logging.getLogger(__name__)


class RetryLater(Exception):  # noqa: N818 - it is an instruction, not an error
    def __init__(self, reason: str, countdown: int | None = None) -> None:
        super().__init__(reason)
        self.countdown = countdown


def outbound_reply(
    message: Message,
    *,
    in_reply_to: str | None = None,
    in_reply_to_parent: str = "",
    recipient_id: str = "",
) -> OutboundReply:
    """What the connector sends for ``message``. ``in_reply_to`` (with its parent) and
    ``recipient_id`` are the customer's latest message on the ticket and its author; a batch
    passes them (one query for all), otherwise they are read here."""
    ticket = message.ticket
    if in_reply_to is None:
        last_inbound = (
            ticket.messages.filter(direction=Direction.INBOUND)
            .exclude(external_id=None)
            .order_by("-sent_at", "-id")
            .select_related("author_identity")
            .first()
        )
        in_reply_to = (last_inbound.external_id or "") if last_inbound else ""
        in_reply_to_parent = last_inbound.parent_external_id if last_inbound else ""
        if last_inbound and last_inbound.author_identity:
            recipient_id = last_inbound.author_identity.platform_user_id
    return OutboundReply(
        message_id=message.pk,
        idempotency_key=message.idempotency_key or f"msg-{message.pk}",
        text=message.text,
        mode=message.reply_mode or "public",
        thread_key=ticket.thread_key,
        ticket_kind=ticket.kind,
        in_reply_to=in_reply_to,
        in_reply_to_parent=in_reply_to_parent,
        recipient_id=recipient_id,
        options=dict(message.send_options or {}),
        created_at=message.created_at,
        # The files the agent attached, in the media storage (inbox.media.outbound).
        attachments=outbound_attachments(message.pk) if message.attachment_count else (),
    )


def message_deliver(*, message_id: int) -> str:
    """Send one outbound message. Idempotent: returns quietly when there is nothing to do."""
    claimed = _claim(message_id)
    if isinstance(claimed, str):
        return claimed
    message, resumed = claimed
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
    except Exception as exc:  # noqa: BLE001 - every outcome is recorded by send_failed
        return send_failed(message, exc)
    message_mark_sent(message_id=message_id, result=result)
    _identity_hints_store(message.channel.platform, result)
    return "sent"


def _claim(message_id: int) -> tuple[Message, bool] | str:
    """Lock the reply and switch it to ``sending`` (committed before the platform is called).
    Returns the message and whether an earlier attempt had started it, or why there is
    nothing to do."""
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
    return message, resumed


def send_failed(
    message: Message, exc: Exception, *, retry: bool = True, told: set[str] | None = None
) -> str:
    """Record why the send of a ``sending`` reply did not go out: back to ``queued`` (a
    temporary error or a rate limit), still ``sending`` (the outcome is unknown: the retry looks
    on the platform first) or ``failed``; the channel's health learns what concerns the
    channel. Raises :class:`RetryLater` for the first two unless ``retry`` is false (a batch
    collects them and asks once); returns the outcome otherwise. ``told``: the causes the
    channel's health has heard already in this batch (each is recorded once)."""
    message_id = message.pk
    if isinstance(exc, OutcomeUnknown):
        # This attempt is over (the platform call returned), so the retry need not wait for
        # the time limit.
        Message.objects.filter(pk=message_id, delivery_state=DeliveryState.SENDING).update(
            delivery_changed_at=timezone.now() - attempt_bound()
        )
        if retry:
            raise RetryLater(exc.message) from exc
        return "unknown"
    if isinstance(exc, (TemporaryError, RateLimited)):
        Message.objects.filter(pk=message_id, delivery_state=DeliveryState.SENDING).update(
            delivery_state=DeliveryState.QUEUED,
            delivery_changed_at=timezone.now(),
            failure_reason=exc.message,
        )
        _health_learn(message.channel_id, exc, told)
        if retry:
            raise RetryLater(exc.message, _countdown(exc)) from exc
        return "retry"
    if isinstance(exc, (PermanentError, AuthError)):
        message_fail(message_id=message_id, reason=exc.message)
        # Refused for good, so not sent: its comment may be answered privately again (the
        # claim of inbox.replies.private). An unknown outcome keeps the claim: the reply may
        # have reached the customer.
        PrivateReply.objects.filter(message_id=message_id).delete()
        _health_learn(message.channel_id, exc, told)
        return "failed"
    log.error("send of message %s failed unexpectedly", message_id, exc_info=exc)
    message_fail(message_id=message_id, reason=f"Unexpected error: {exc!r}")
    return "failed"


def _health_learn(channel_id: int, exc: Exception, told: set[str] | None) -> None:
    """Tell the channel's health what a failed send says about the channel (once a batch)."""
    cause = type(exc).__name__
    if told is not None:
        if cause in told:
            return
        told.add(cause)
    if isinstance(exc, RecipientRateLimited):
        return  # a limit on this one recipient (WhatsApp's pair rate limit): no channel news
    if isinstance(exc, RateLimited):
        health.record_send_rate_limit(channel_id, exc)
    elif isinstance(exc, AuthError):
        # Dead credentials (Meta 190, X 401): every other reply would fail the same way,
        # so the channel shows "needs reconnect" now rather than at its next poll.
        health.record_send_auth_failure(channel_id, exc)
    elif isinstance(exc, AccountRestricted):
        # The platform restricted the account: every reply fails until that ends.
        health.record_policy_enforcement(channel_id, "block", exc.message)
    elif isinstance(exc, RecipientRefused):
        health.record_send_refusal(channel_id, exc)


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
        tickets_answered([message], now)
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


def answers(message: Message) -> bool:
    """A sent note or an out-of-hours acknowledgement (``inbox.engines.sla``) is no answer: the
    ticket's SLA clock runs on."""
    return message.reply_mode != "note" and not (message.send_options or {}).get("auto_ack")


def tickets_answered(messages: Iterable[Message], now: dt.datetime) -> None:
    """Our sent replies' effect on their tickets (in the caller's transaction): the first
    response time where there was none (with its business seconds), the last response time,
    a new version. Statements per call are fixed, however many replies."""
    tickets = {m.ticket_id: m.ticket for m in messages if answers(m)}
    if not tickets:
        return
    first = [t for t in tickets.values() if t.first_response_at is None]
    if first:
        calendars = Calendars(list({t.team_id for t in first}))
        seconds: dict[int, int | None] = {}
        for ticket in first:
            ticket.first_response_at = now
            business_durations_set(ticket, calendars)
            seconds[ticket.pk] = ticket.first_response_business_seconds
        Ticket.objects.filter(pk__in=list(seconds), first_response_at=None).update(
            first_response_at=now,
            first_response_business_seconds=per_row(seconds, IntegerField()),
        )
    Ticket.objects.filter(pk__in=list(tickets)).update(
        last_response_at=now, updated_at=now, version=F("version") + 1
    )


def per_row(values: dict[int, Any], field: Field, default: Any = None) -> Any:
    """One column's value per row (``CASE id WHEN … THEN …``): one UPDATE for the batch."""
    if not values:
        return default if default is not None else Value(None, output_field=field)
    return PerRow(values, field, default)


class PerRow(Expression):
    """``CAST(CASE <pk> WHEN %s THEN %s … ELSE <default> END AS <type>)``, written out at once.

    ``Case(When(pk=…))`` gives the same statement but builds and resolves a lookup per row,
    which was most of the CPU of recording a batch of 80 replies. The cast keeps a column of
    only NULLs the column's type (PostgreSQL reads an uncast ``CASE … THEN NULL`` as text, which
    an integer column refuses)."""

    def __init__(self, values: dict[int, Any], output_field: Field, default: Any = None) -> None:
        super().__init__(output_field=output_field)
        self.values = values
        if not hasattr(default, "resolve_expression"):
            default = Value(default, output_field=output_field)
        self.default = default
        self.pk: Any = None

    def get_source_expressions(self) -> list[Any]:
        return [self.default]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.default,) = exprs

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> PerRow:
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        resolved.pk = query.resolve_ref("pk", allow_joins=False)
        return resolved

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        pk_sql, params = compiler.compile(self.pk)
        params = list(params)
        field = self.output_field
        for pk, value in self.values.items():
            params += [pk, field.get_db_prep_value(value, connection)]
        default_sql, default_params = compiler.compile(self.default)
        whens = " ".join(["WHEN %s THEN %s"] * len(self.values))
        case = f"CASE {pk_sql} {whens} ELSE {default_sql} END"
        return f"CAST({case} AS {field.cast_db_type(connection)})", (*params, *default_params)
