"""Inbox services: every action changes one thing, writes its activity row, raises the version."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.customers import services as customer_services
from inbox.models import (
    Activity,
    CannedReply,
    Customer,
    DeliveryState,
    Direction,
    Message,
    Ticket,
    TicketStatus,
)
from inbox.replies import services as reply_services
from inbox.tickets import services
from tests.personas import eager_celery, person, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return person("anna")


@pytest.fixture(autouse=True)
def _eager():
    with eager_celery():
        yield


@pytest.fixture
def ticket():
    return tickets(1)[0]


def _fresh(ticket):
    ticket.refresh_from_db()
    return ticket


def test_claim_takes_an_unassigned_ticket_and_logs_it(anna, ticket):
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    t = _fresh(ticket)
    assert t.assignee == anna
    assert t.version == ticket.version  # refreshed: compare with the log instead
    assert Activity.objects.filter(ticket=t, verb="claimed", actor=anna).exists()


def test_claim_raises_the_version(anna, ticket):
    before = ticket.version
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    assert _fresh(ticket).version == before + 1


def test_the_second_claim_loses_and_learns_who_has_it(anna, ticket):
    bob = person("bob")
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    with pytest.raises(services.AlreadyClaimed) as lost:
        services.ticket_claim(ticket_id=ticket.pk, user=bob)
    assert "Anna" in lost.value.message
    assert _fresh(ticket).assignee == anna


def test_release_gives_the_ticket_back(anna, ticket):
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    services.ticket_release(ticket_id=ticket.pk, user=anna)
    assert _fresh(ticket).assignee is None
    assert Activity.objects.filter(ticket=ticket, verb="released").exists()


def test_only_the_holder_releases(anna, ticket):
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    with pytest.raises(services.ActionError):
        services.ticket_release(ticket_id=ticket.pk, user=person("bob"))
    assert _fresh(ticket).assignee == anna


def test_assign_hands_a_ticket_to_someone(anna, ticket):
    lead = person("lena", "lead")
    services.ticket_assign(ticket_id=ticket.pk, user=lead, assignee=anna)
    assert _fresh(ticket).assignee == anna
    assert Activity.objects.filter(ticket=ticket, verb="assigned", actor=lead).exists()


def test_tags_are_created_on_the_fly_and_removed(anna, ticket):
    services.ticket_tag(ticket_id=ticket.pk, user=anna, name="  Late  Delivery ")
    assert list(ticket.tags.values_list("name", flat=True)) == ["late delivery"]
    services.ticket_untag(ticket_id=ticket.pk, user=anna, name="late delivery")
    assert not ticket.tags.exists()
    assert Activity.objects.filter(ticket=ticket, verb__in=["tagged", "untagged"]).count() == 2


def test_a_note_is_stored_on_the_thread_and_never_sent(anna, ticket):
    note = services.note_add(ticket_id=ticket.pk, user=anna, text="Called them.")
    assert note.direction == Direction.NOTE and note.delivery_state == ""
    assert Activity.objects.filter(ticket=ticket, verb="note_added").exists()


def test_close_with_no_reply_needed(anna, ticket):
    services.ticket_close(ticket_id=ticket.pk, user=anna, reason="no_reply_needed")
    t = _fresh(ticket)
    assert t.status == TicketStatus.CLOSED and t.close_reason == "no_reply_needed"
    assert t.closed_at is not None


def test_reopen_clears_the_close(anna, ticket):
    services.ticket_close(ticket_id=ticket.pk, user=anna)
    services.ticket_reopen(ticket_id=ticket.pk, user=anna)
    t = _fresh(ticket)
    assert t.status == TicketStatus.OPEN and t.closed_at is None


def test_snooze_makes_it_pending_until_a_time(anna, ticket):
    until = timezone.now() + dt.timedelta(hours=3)
    services.ticket_snooze(ticket_id=ticket.pk, user=anna, until=until)
    t = _fresh(ticket)
    assert t.status == TicketStatus.PENDING and t.snoozed_until == until


def test_snooze_into_the_past_is_refused(anna, ticket):
    with pytest.raises(services.ActionError):
        services.ticket_snooze(
            ticket_id=ticket.pk, user=anna, until=timezone.now() - dt.timedelta(minutes=1)
        )
    assert _fresh(ticket).status == TicketStatus.NEW


def test_a_reply_is_queued_signed_and_sent_after_commit(
    anna, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="On its way!")
    reply.refresh_from_db()
    assert reply.text == "On its way!\n^Anna"
    assert reply.delivery_state == DeliveryState.SENT
    assert _fresh(ticket).waiting_since is None


def test_reply_and_close(anna, ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Done", close=True)
    assert _fresh(ticket).status == TicketStatus.CLOSED


def test_a_reply_over_the_channel_limit_is_refused_before_queueing(anna, ticket):
    with pytest.raises(services.ActionError):
        reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="x" * 1001)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_reply_is_blocked_when_a_message_arrived_since_the_composer_opened(anna, ticket):
    seen = ticket.messages.order_by("-pk").first().pk
    Message.objects.create(
        ticket=ticket, channel_id=ticket.channel_id, direction=Direction.INBOUND, text="Hello?"
    )
    with pytest.raises(services.Collision):
        reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Hi", seen_message_id=seen)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_reply_is_blocked_when_a_colleague_replied_since(anna, ticket):
    seen = ticket.messages.order_by("-pk").first().pk
    services.ticket_claim(ticket_id=ticket.pk, user=anna)
    services.note_add(ticket_id=ticket.pk, user=person("bob"), text="Bob here: wait for me")
    with pytest.raises(services.Collision):
        reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Hi", seen_message_id=seen)
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exclude(reply_mode="note")


def test_a_failed_reply_is_retried_with_the_same_key(
    anna, ticket, django_capture_on_commit_callbacks
):
    reply = reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Hi")
    Message.objects.filter(pk=reply.pk).update(
        delivery_state=DeliveryState.FAILED, failure_reason="Rejected"
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply_services.message_retry(message_id=reply.pk, user=anna)
    again = Message.objects.get(pk=reply.pk)
    assert again.delivery_state == DeliveryState.SENT
    assert again.idempotency_key == reply.idempotency_key
    assert again.external_id == f"sim-out-{reply.idempotency_key}"
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1


def test_only_a_failed_reply_can_be_retried(anna, ticket):
    reply = reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Hi")
    with pytest.raises(services.ActionError):
        reply_services.message_retry(message_id=reply.pk, user=anna)


def test_bulk_close_closes_each_with_its_own_log(anna):
    batch = tickets(3)
    services.tickets_bulk(ticket_ids=[t.pk for t in batch], user=anna, action="close")
    assert Ticket.objects.filter(status=TicketStatus.CLOSED).count() == 3
    assert Activity.objects.filter(verb="closed").count() == 3


def test_customers_merge_and_the_undo_restores_exactly(anna):
    first, second = tickets(2)
    customer_services.customer_merge(
        source_id=first.customer_id, target_id=second.customer_id, user=anna
    )
    assert Customer.objects.get(pk=first.customer_id).merged_into_id == second.customer_id
    customer_services.customer_unmerge(customer_id=first.customer_id, user=anna)
    assert Customer.objects.get(pk=first.customer_id).merged_into_id is None
    assert _fresh(first).customer_id != _fresh(second).customer_id
    assert Activity.objects.filter(verb__in=["customer_merged", "customer_unmerged"]).count() == 2


def test_canned_reply_variables_are_filled(anna, ticket):
    canned = CannedReply.objects.create(
        title="Thanks", body="Hi {customer_name}, thanks! {agent_first_name}"
    )
    body = reply_services.canned_fill(canned=canned, ticket=ticket, user=anna)
    assert body == f"Hi {ticket.identity.display_name}, thanks! Anna"


def test_nobody_replies_over_a_colleagues_claim(anna, ticket):
    services.ticket_claim(ticket_id=ticket.pk, user=person("bob"))
    with pytest.raises(services.ActionError) as refused:
        reply_services.reply_send(ticket_id=ticket.pk, user=anna, text="Me too")
    assert "Bob has this ticket" in refused.value.message
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_a_snoozed_ticket_opens_again_when_its_time_comes():
    (ticket,) = tickets(1)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.PENDING, snoozed_until=timezone.now() - dt.timedelta(minutes=1)
    )
    assert services.snoozed_wake() == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.snoozed_until is None
    assert Activity.objects.filter(ticket=ticket, verb="snooze_ended").exists()


def test_a_ticket_snoozed_until_later_stays_pending():
    (ticket,) = tickets(1)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.PENDING, snoozed_until=timezone.now() + dt.timedelta(hours=1)
    )
    assert services.snoozed_wake() == []
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.PENDING
