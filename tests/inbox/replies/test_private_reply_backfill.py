"""Private replies made before the once-per-comment claim (migration 0034) are claimed by
migration 0037, so "Move to DM" is not offered again on a comment already answered privately.

The rows below are what a private reply looked like before 0034: an outbound message with
``reply_mode`` "private" and no ``PrivateReply`` row; the comment it answered was the ticket's
latest customer comment when it went out (``inbox.replies.delivery.outbound_reply``).
"""

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from inbox.models import DeliveryState, Direction, Message, PrivateReply, Ticket
from inbox.replies.services import composer_state
from tests.channels.instagram.support import C1, channel
from tests.channels.instagram.test_send import comment_ticket

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("inbox.migrations.0037_private_reply_claims_for_earlier_replies")


def _migrate() -> None:
    # The function reads only the editor's connection (a real SQLite schema editor cannot open
    # inside the test's transaction).
    backfill.claim_earlier_private_replies(apps, SimpleNamespace(connection=connection))


def _earlier_private_reply(ticket: Ticket, *, state=DeliveryState.SENT, options=None) -> Message:
    """A private reply as stored before claims existed: no ``PrivateReply`` row."""
    sent_at = timezone.now() - dt.timedelta(minutes=5)
    return Message.objects.create(
        ticket=ticket,
        channel_id=ticket.channel_id,
        direction=Direction.OUTBOUND,
        text="Sent you the size chart!",
        reply_mode="private",
        delivery_state=state,
        delivery_changed_at=sent_at,
        sent_at=sent_at,
        send_options=options or {},
    )


def _ticket() -> Ticket:
    return comment_ticket(channel(), at=timezone.now() - dt.timedelta(hours=1))


def test_a_private_reply_sent_before_claims_existed_stops_move_to_dm_after_the_migration():
    ticket = _ticket()
    reply = _earlier_private_reply(ticket)
    assert "private" in composer_state(ticket).modes  # what the missing claim let through

    _migrate()

    state = composer_state(ticket)
    assert "private" not in state.modes
    when = f"{timezone.localtime(reply.sent_at):%Y-%m-%d %H:%M}"
    assert state.notes == (f"This comment was already answered privately on {when}.",)
    claim = PrivateReply.objects.get(message=reply)
    assert (claim.channel_id, claim.comment_id) == (ticket.channel_id, C1)


def test_running_the_migration_again_adds_nothing():
    ticket = _ticket()
    _earlier_private_reply(ticket)
    _migrate()
    _migrate()
    assert PrivateReply.objects.count() == 1


def test_of_two_earlier_private_replies_to_one_comment_only_the_sent_one_holds_the_claim():
    ticket = _ticket()
    queued = _earlier_private_reply(ticket, state=DeliveryState.QUEUED)
    sent = _earlier_private_reply(ticket)
    _migrate()
    assert list(PrivateReply.objects.values_list("message_id", flat=True)) == [sent.pk]
    assert not PrivateReply.objects.filter(message=queued).exists()


def test_a_pinned_comment_is_the_one_claimed():
    ticket = _ticket()
    reply = _earlier_private_reply(ticket, options={"comment_id": "17999999999999999"})
    _migrate()
    assert PrivateReply.objects.get(message=reply).comment_id == "17999999999999999"


def test_a_failed_private_reply_is_not_claimed_so_move_to_dm_stays_offered():
    ticket = _ticket()
    _earlier_private_reply(ticket, state=DeliveryState.FAILED)
    _migrate()
    assert not PrivateReply.objects.exists()
    assert "private" in composer_state(ticket).modes


def test_public_replies_and_dms_are_not_claimed():
    ticket = _ticket()
    Message.objects.create(
        ticket=ticket,
        channel_id=ticket.channel_id,
        direction=Direction.OUTBOUND,
        text="Yes, size M is in stock.",
        reply_mode="public",
        delivery_state=DeliveryState.SENT,
    )
    _migrate()
    assert not PrivateReply.objects.exists()
