"""Outbound webhooks: outbox rows in the change's transaction, signed, ordered, retried."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from inbox.api import services as api_services
from inbox.api import webhooks
from inbox.models import DeliveryStatus, OutboundDelivery, WebhookSubscription
from inbox.tickets import services as ticket_services
from tests.inbox.api.receiver import Receiver
from webcare import signed_http

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    r = Receiver()
    yield r
    r.close()


def subscribe(world, receiver, events):
    sub = api_services.subscription_create(
        user=world["users"]["admin"], url=receiver.url, events=events
    )
    receiver.secret = sub.secret
    return sub


def test_a_subscription_to_a_loopback_address_is_refused_by_default(world, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValueError, match="non-public"):
        api_services.subscription_create(
            user=world["users"]["admin"], url="http://127.0.0.1:8000/x", events=["ticket.closed"]
        )


def test_a_link_local_address_is_refused_at_delivery_too(world, receiver, settings):
    sub = subscribe(world, receiver, ["ticket.closed"])
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    WebhookSubscription.objects.filter(pk=sub.pk).update(url="http://169.254.169.254/latest")
    ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
    webhooks.deliver_due()
    delivery = OutboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.error.startswith("refused")


def test_closing_a_ticket_delivers_one_signed_ticket_closed_event(world, receiver):
    subscribe(world, receiver, ["ticket.closed"])
    ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
    assert webhooks.deliver_due() == 1
    assert receiver.bad_signatures == 0
    [event] = receiver.received
    assert event["event"] == "ticket.closed" and event["ticket_id"] == world["ticket"].pk
    delivery = OutboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.response_code == 204


def test_a_change_that_rolls_back_queues_no_event(world, receiver):
    from django.db import transaction

    subscribe(world, receiver, ["ticket.closed"])
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
        raise RuntimeError
    assert not OutboundDelivery.objects.exists()


def test_a_wrong_secret_fails_verification():
    body = b'{"event":"x"}'
    header = signed_http.signature_header("right", body)
    assert signed_http.signature_valid("right", header, body)
    assert not signed_http.signature_valid("wrong", header, body)
    assert not signed_http.signature_valid("right", header, body + b" ")


def test_events_of_one_ticket_arrive_in_order_and_once(world, receiver):
    subscribe(world, receiver, ["ticket.assigned", "ticket.closed"])
    agent, pk = world["users"]["agent"], world["ticket"].pk
    ticket_services.ticket_claim(ticket_id=pk, user=agent)
    ticket_services.ticket_close(ticket_id=pk, user=agent)
    ticket_services.ticket_reopen(ticket_id=pk, user=agent)
    ticket_services.ticket_close(ticket_id=pk, user=agent)
    webhooks.deliver_due()
    webhooks.deliver_due()
    assert [e["event"] for e in receiver.received] == [
        "ticket.assigned",
        "ticket.closed",
        "ticket.closed",
    ]
    assert len(set(receiver.delivery_ids)) == 3


def test_a_failing_delivery_holds_back_later_events_of_its_ticket(world, receiver):
    subscribe(world, receiver, ["ticket.assigned", "ticket.closed"])
    agent, pk = world["users"]["agent"], world["ticket"].pk
    receiver.fail_with = 503
    ticket_services.ticket_claim(ticket_id=pk, user=agent)
    ticket_services.ticket_close(ticket_id=pk, user=agent)
    webhooks.deliver_due()
    first, second = OutboundDelivery.objects.order_by("pk")
    assert first.attempts == 1 and first.response_code == 503
    assert second.attempts == 0  # not overtaking the first
    receiver.fail_with = None
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        webhooks.deliver_due()
        webhooks.deliver_due()
    assert [e["event"] for e in receiver.received] == ["ticket.assigned", "ticket.closed"]


def test_retries_back_off_and_stop_after_a_day(world, receiver):
    subscribe(world, receiver, ["ticket.closed"])
    receiver.fail_with = 500
    ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
    start = timezone.now()
    webhooks.deliver_due()
    d = OutboundDelivery.objects.get()
    assert (d.next_attempt_at - start).total_seconds() >= webhooks.BACKOFF_BASE
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        webhooks.deliver_due()
    assert OutboundDelivery.objects.get().status == DeliveryStatus.DEAD


def test_repeated_failure_disables_the_subscription_and_tells_admins(world, receiver, settings):
    from inbox.models import Activity

    sub = subscribe(world, receiver, ["ticket.closed"])
    WebhookSubscription.objects.filter(pk=sub.pk).update(failures=webhooks.DISABLE_AFTER - 1)
    receiver.fail_with = 500
    ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
    webhooks.deliver_due()
    sub.refresh_from_db()
    assert not sub.enabled and "disabled after" in sub.disabled_reason
    assert Activity.objects.filter(verb="webhook_disabled").exists()


def test_send_again_delivers_a_copy(world, receiver):
    subscribe(world, receiver, ["ticket.closed"])
    ticket_services.ticket_close(ticket_id=world["ticket"].pk, user=world["users"]["agent"])
    webhooks.deliver_due()
    webhooks.send_again(delivery_id=OutboundDelivery.objects.get().pk)
    webhooks.deliver_due()
    assert [e["event"] for e in receiver.received] == ["ticket.closed", "ticket.closed"]


def test_ingest_emits_ticket_created_and_message_received(world, receiver):
    from tests.personas import tickets

    subscribe(world, receiver, ["ticket.created", "message.received"])
    (ticket,) = tickets(1, prefix="new")
    webhooks.deliver_due()
    assert [(e["event"], e["ticket_id"]) for e in receiver.received] == [
        ("ticket.created", ticket.pk),
        ("message.received", ticket.pk),
    ]


def test_an_sla_breach_is_sent_once(world, receiver):
    from inbox.engines.sla import sla_breaches_record

    subscribe(world, receiver, ["sla.breached"])
    Ticket = world["ticket"].__class__
    Ticket.objects.filter(pk=world["ticket"].pk).update(
        first_response_due_at=timezone.now() - dt.timedelta(minutes=1), first_response_at=None
    )
    assert sla_breaches_record() == 1
    assert sla_breaches_record() == 0
    webhooks.deliver_due()
    assert [(e["event"], e["ticket_id"]) for e in receiver.received] == [
        ("sla.breached", world["ticket"].pk)
    ]


def test_an_incident_resolved_event_is_sent(world, receiver):
    from inbox.incidents.services import incident_declare, incident_resolve

    subscribe(world, receiver, ["incident.resolved"])
    incident = incident_declare(actor=None, title="Outage", reply_template="Fixed.")
    incident_resolve(incident=incident, actor=world["users"]["lead"])
    webhooks.deliver_due()
    assert [e["event"] for e in receiver.received] == ["incident.resolved"]


def test_a_ticket_waiting_for_a_retry_does_not_starve_other_tickets(world, receiver, monkeypatch):
    from tests.personas import tickets

    # The retry stays in the future however long the queue below takes to build.
    monkeypatch.setattr(webhooks, "BACKOFF_BASE", 3600)
    subscribe(world, receiver, ["ticket.closed"])
    other = tickets(1, prefix="other")[0]
    agent = world["users"]["agent"]
    stuck = world["ticket"]
    receiver.fail_with = 500
    ticket_services.ticket_close(ticket_id=stuck.pk, user=agent)
    webhooks.deliver_due()  # the stuck ticket's first event now waits for a retry
    receiver.fail_with = None
    for _ in range(webhooks.BATCH + 5):  # a long queue behind it
        ticket_services.ticket_reopen(ticket_id=stuck.pk, user=agent)
        ticket_services.ticket_close(ticket_id=stuck.pk, user=agent)
    ticket_services.ticket_close(ticket_id=other.pk, user=agent)
    webhooks.deliver_due()
    assert [e["ticket_id"] for e in receiver.received] == [other.pk]
