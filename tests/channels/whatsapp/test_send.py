"""Replies, templates and statuses against a double of the Cloud API: each goes out once, its
status only moves forward, and every documented error code leaves a clear state."""

import json
from urllib.parse import parse_qs

import pytest
import responses
from django.contrib.auth import get_user_model

from channels.models import Channel, HealthState, WhatsAppMessageStatus, WhatsAppTemplate
from channels.whatsapp import throughput
from channels.whatsapp.services import template_send, templates_sync
from channels.whatsapp.window import TemplateRefused
from inbox.models import DeliveryState, Ticket
from inbox.replies.delivery import RetryLater, message_deliver
from inbox.replies.services import reply_queue
from tests.channels.whatsapp.support import (
    MESSAGES,
    PHONE_NUMBER_ID,
    TOKEN,
    WA_ID,
    WABA_ID,
    deliver,
    error_body,
    failed_status,
    graph,
    inbound,
    media_fields,
    number_fields,
    send_ok,
    status,
    statuses,
    templates_page,
    whatsapp_channel,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return get_user_model().objects.create_user("wendy.agent", password="x")


@pytest.fixture
def ticket(client):
    channel = whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.IN-1"))
    return Ticket.objects.get(channel=channel)


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def sent_reply(ticket, agent, wamid="wamid.OUT-1"):
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok(wamid))
    message = reply_queue(ticket=ticket, author=agent, text="We sturen een nieuwe.", mode="dm")
    assert message_deliver(message_id=message.pk) == "sent"
    return message


@responses.activate
def test_a_reply_inside_the_window_goes_out_once_as_text(ticket, agent):
    message = sent_reply(ticket, agent)
    assert len(responses.calls) == 1
    sent = form(responses.calls[0])
    assert sent["messaging_product"] == "whatsapp"
    assert sent["to"] == WA_ID
    assert sent["type"] == "text"
    assert json.loads(sent["text"]) == {"body": "We sturen een nieuwe.", "preview_url": False}
    message.refresh_from_db()
    assert message.external_id == "wamid.OUT-1"
    assert message.delivery_state == DeliveryState.SENT
    # Delivering it again posts nothing.
    message_deliver(message_id=message.pk)
    assert len(responses.calls) == 1


@responses.activate
def test_statuses_in_any_order_end_at_the_furthest_and_never_move_back(client, ticket, agent):
    message = sent_reply(ticket, agent)
    deliver(client, statuses(status("wamid.OUT-1", "read", seconds_ago=1)))
    deliver(client, statuses(status("wamid.OUT-1", "delivered", seconds_ago=2)))
    deliver(client, statuses(status("wamid.OUT-1", "sent", seconds_ago=3)))
    mark = WhatsAppMessageStatus.objects.get(wamid="wamid.OUT-1")
    assert mark.status == "read"
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT


@responses.activate
def test_a_failed_status_fails_the_reply_with_metas_code_and_title(client, ticket, agent):
    message = sent_reply(ticket, agent)
    deliver(
        client,
        statuses(
            failed_status("wamid.OUT-1", 131026, "Message undeliverable", "Unable to deliver.")
        ),
    )
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.FAILED
    assert "131026" in message.failure_reason
    assert "Message undeliverable" in message.failure_reason
    mark = WhatsAppMessageStatus.objects.get(wamid="wamid.OUT-1")
    assert mark.error_code == 131026


@responses.activate
def test_a_delivered_after_a_failed_shows_it_arrived_after_all(client, ticket, agent):
    message = sent_reply(ticket, agent)
    deliver(client, statuses(failed_status("wamid.OUT-1", 131026, "Message undeliverable", "")))
    deliver(client, statuses(status("wamid.OUT-1", "delivered")))
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.SENT
    assert WhatsAppMessageStatus.objects.get(wamid="wamid.OUT-1").status == "delivered"


def test_a_status_before_its_send_is_stored_is_kept_for_the_message(client, ticket):
    deliver(client, statuses(status("wamid.EARLY", "delivered")))
    assert WhatsAppMessageStatus.objects.get(wamid="wamid.EARLY").status == "delivered"


@pytest.mark.parametrize(
    ("code", "state", "health_state", "words"),
    [
        (131047, DeliveryState.FAILED, HealthState.OK, "24-hour customer service window"),
        (131026, DeliveryState.FAILED, HealthState.OK, "could not deliver"),
        (131051, DeliveryState.FAILED, HealthState.OK, "does not support this message type"),
        (190, DeliveryState.FAILED, HealthState.NEEDS_RECONNECT, "Reconnect"),
        (368, DeliveryState.FAILED, HealthState.DEGRADED, "restricted"),
    ],
)
@responses.activate
def test_each_refusal_leaves_the_reply_failed_with_its_reason_and_the_channel_its_cause(
    ticket, agent, code, state, health_state, words
):
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=error_body(code), status=400)
    message = reply_queue(ticket=ticket, author=agent, text="Hallo", mode="dm")
    assert message_deliver(message_id=message.pk) == "failed"
    assert len(responses.calls) == 1  # a refusal is not retried
    message.refresh_from_db()
    assert message.delivery_state == state
    assert words in message.failure_reason
    assert str(code) in message.failure_reason
    channel = Channel.objects.get(pk=ticket.channel_id)
    assert channel.health_state == health_state
    assert str(code) in channel.last_error


@responses.activate
def test_throughput_reached_requeues_the_reply_and_pauses_the_whole_number(ticket, agent):
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=error_body(130429), status=400)
    message = reply_queue(ticket=ticket, author=agent, text="Hallo", mode="dm")
    with pytest.raises(RetryLater):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED
    assert Channel.objects.get(pk=ticket.channel_id).health_state == HealthState.RATE_LIMITED
    from django.core.cache import cache

    assert cache.get(throughput._pause_key(PHONE_NUMBER_ID))


@responses.activate
def test_the_pair_rate_limit_requeues_only_that_reply_and_leaves_the_channel_alone(ticket, agent):
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=error_body(131056), status=400)
    message = reply_queue(ticket=ticket, author=agent, text="Hallo", mode="dm")
    with pytest.raises(RetryLater) as waited:
        message_deliver(message_id=message.pk)
    assert waited.value.countdown and waited.value.countdown <= 7
    message.refresh_from_db()
    assert message.delivery_state == DeliveryState.QUEUED
    assert "131056" in message.failure_reason
    assert Channel.objects.get(pk=ticket.channel_id).health_state == HealthState.OK
    from django.core.cache import cache

    assert not cache.get(throughput._pause_key(PHONE_NUMBER_ID))


# --- templates --------------------------------------------------------------------------------
@responses.activate
def test_templates_are_synchronised_from_the_business_account(ticket):
    responses.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
    channel = Channel.objects.get(pk=ticket.channel_id)
    assert templates_sync(channel=channel) == 3
    nl = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    assert nl.category == "UTILITY" and nl.status == "APPROVED"
    assert nl.components[1]["text"].startswith("Hallo {{1}}")


@responses.activate
def test_the_customers_language_is_chosen_and_rejected_templates_are_not_offered(ticket):
    from channels.whatsapp.window import templates_for

    responses.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
    templates_sync(channel=Channel.objects.get(pk=ticket.channel_id))
    offered = templates_for(channel_id=ticket.channel_id, language="nl")
    assert [(t.name, t.language) for t in offered] == [("order_shipped", "nl")]
    english = templates_for(channel_id=ticket.channel_id, language="en")
    assert [(t.name, t.language) for t in english] == [("order_shipped", "en_US")]


@responses.activate
def test_a_template_goes_out_once_with_its_variables(ticket, agent):
    responses.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
    templates_sync(channel=Channel.objects.get(pk=ticket.channel_id))
    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok("wamid.TPL-1"))
    message = template_send(
        ticket_id=ticket.pk,
        user=agent,
        template_id=template.pk,
        header=["118"],
        body=["Sanne", "morgen"],
    )
    assert message.text == (
        "Order 118\nHallo Sanne, je bestelling is verzonden en komt morgen.\nWebwinkel Zuid"
    )
    assert message_deliver(message_id=message.pk) == "sent"
    posts = [c for c in responses.calls if c.request.method == "POST"]
    assert len(posts) == 1
    sent = form(posts[0])
    assert sent["type"] == "template"
    assert json.loads(sent["template"]) == {
        "name": "order_shipped",
        "language": {"code": "nl"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "118"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Sanne"},
                    {"type": "text", "text": "morgen"},
                ],
            },
        ],
    }
    message.refresh_from_db()
    assert message.send_options["pricing_category"] == "UTILITY"


@responses.activate
def test_an_opted_out_customer_gets_no_template_until_they_write_again(client, ticket, agent):
    responses.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
    templates_sync(channel=Channel.objects.get(pk=ticket.channel_id))
    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    deliver(client, inbound({"type": "text", "text": {"body": "STOP"}}, wamid="wamid.STOP"))
    with pytest.raises(TemplateRefused, match="opted out"):
        template_send(
            ticket_id=ticket.pk, user=agent, template_id=template.pk, header=["1"], body=["a", "b"]
        )
    deliver(client, inbound({"type": "text", "text": {"body": "Hoi"}}, wamid="wamid.HOI"))
    template_send(
        ticket_id=ticket.pk, user=agent, template_id=template.pk, header=["1"], body=["a", "b"]
    )


@responses.activate
def test_a_template_with_an_empty_variable_is_refused(ticket, agent):
    responses.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
    templates_sync(channel=Channel.objects.get(pk=ticket.channel_id))
    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    with pytest.raises(TemplateRefused, match="every variable"):
        template_send(
            ticket_id=ticket.pk, user=agent, template_id=template.pk, header=["1"], body=["a", ""]
        )


# --- the number and its media -----------------------------------------------------------------
@responses.activate
def test_test_connection_reads_the_numbers_name_quality_and_limit_tier(ticket):
    responses.get(graph(PHONE_NUMBER_ID), json=number_fields())
    info = Channel.objects.get(pk=ticket.channel_id).connector().test_connection()
    assert info.display_name == "Webwinkel Zuid"
    assert info.handle == "+31 20 123 4567"
    assert "quality GREEN" in info.detail and "TIER_1K" in info.detail


@responses.activate
def test_the_daily_check_keeps_the_numbers_standing_on_the_channel(ticket):
    from channels.polling import channel_poll

    responses.get(graph(PHONE_NUMBER_ID), json=number_fields())
    channel = Channel.objects.get(pk=ticket.channel_id)
    channel_poll(channel)
    channel.refresh_from_db()
    assert channel.cursor["number"]["quality_rating"] == "GREEN"
    assert channel.cursor["number"]["messaging_limit_tier"] == "TIER_1K"


@responses.activate
def test_a_media_id_resolves_to_metas_url_downloaded_with_the_token(ticket):
    from channels.base import InboundAttachment

    responses.get(graph("1003383421387256"), json=media_fields("1003383421387256"))
    connector = Channel.objects.get(pk=ticket.channel_id).connector()
    request = connector.media_request(InboundAttachment(kind="image", media_id="1003383421387256"))
    assert request.url.startswith("https://lookaside.fbsbx.com/whatsapp_business/attachments/")
    assert request.headers == {"Authorization": f"Bearer {TOKEN}"}


@responses.activate
def test_an_agent_opening_the_thread_sends_one_read_receipt(ticket):
    from channels.whatsapp.receipts import read_receipt_on_open

    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json={"success": True})
    assert read_receipt_on_open(ticket)
    assert not read_receipt_on_open(ticket)  # opened again: no second receipt
    assert len(responses.calls) == 1
    sent = form(responses.calls[0])
    assert sent["status"] == "read" and sent["message_id"] == "wamid.IN-1"


def test_read_receipts_can_be_switched_off(ticket):
    from channels.whatsapp.receipts import read_receipt_on_open

    Channel.objects.filter(pk=ticket.channel_id).update(
        settings={"phone_number_id": PHONE_NUMBER_ID, "read_receipts": False}
    )
    ticket.refresh_from_db()
    assert not read_receipt_on_open(ticket)
