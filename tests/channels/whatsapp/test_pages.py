"""What an agent and a lead see of WhatsApp: the window's time left, templates outside it with a
live preview and their pricing category, receipt marks, opt-outs, and a read receipt on open."""

import datetime as dt

import pytest
import responses
import time_machine

from channels.models import WhatsAppTemplate
from inbox.models import DeliveryState, Message, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_queue
from tests.channels.whatsapp.support import (
    MESSAGES,
    PHONE_NUMBER_ID,
    WABA_ID,
    deliver,
    graph,
    inbound,
    send_ok,
    status,
    statuses,
    templates_page,
    whatsapp_channel,
)
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(client):
    channel = whatsapp_channel(
        settings={"waba_id": WABA_ID, "phone_number_id": PHONE_NUMBER_ID, "read_receipts": False}
    )
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.IN-1"))
    return Ticket.objects.get(channel=channel)


@pytest.fixture
def agent(client):
    user = person("wendy", "agent")
    client.force_login(user)
    return user


@pytest.fixture
def templates(ticket):
    with responses.RequestsMock() as mock:
        mock.get(graph(f"{WABA_ID}/message_templates"), json=templates_page())
        from channels.whatsapp.services import templates_sync

        templates_sync(channel=ticket.channel)


def test_inside_the_window_the_composer_says_how_long_is_left(client, agent, ticket):
    page = client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert "WhatsApp window: free-form replies possible for 23 h" in page


def test_outside_the_window_the_composer_offers_approved_templates(
    client, agent, ticket, templates
):
    with time_machine.travel(ticket.last_inbound_at + dt.timedelta(hours=25)):
        page = client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert "More than 24 hours since the customer" in page
    assert f"order_shipped ({ticket.language or 'en_US'}, utility)" in page, ticket.language
    assert "winter_sale" not in page  # rejected


def test_the_template_form_previews_the_filled_variables_and_the_pricing(
    client, agent, ticket, templates
):
    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    page = client.get(
        f"/inbox/t/{ticket.pk}/whatsapp/template/",
        {"template": template.pk, "header_1": "118", "body_1": "Sanne"},
    ).content.decode()
    assert "Meta charges this as a UTILITY message." in page
    assert "Hallo Sanne, je bestelling is verzonden en komt {{2}}." in page
    assert "Order 118" in page


@responses.activate
def test_sending_a_template_from_the_composer_queues_it_once(client, agent, ticket, templates):
    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok("wamid.TPL-9"))
    client.post(
        f"/inbox/t/{ticket.pk}/whatsapp/send/",
        {"template": template.pk, "header_1": "118", "body_1": "Sanne", "body_2": "morgen"},
    )
    message = Message.objects.get(ticket=ticket, direction="out")
    assert message.delivery_state == DeliveryState.QUEUED
    assert message_deliver(message_id=message.pk) == "sent"
    message.refresh_from_db()
    assert message.external_id == "wamid.TPL-9"
    assert len(responses.calls) == 1


@responses.activate
def test_the_thread_shows_the_read_mark_of_a_reply(client, agent, ticket):
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok("wamid.OUT-7"))
    message = reply_queue(ticket=ticket, author=agent, text="Komt eraan", mode="dm")
    message_deliver(message_id=message.pk)
    deliver(client, statuses(status("wamid.OUT-7", "read")))
    page = client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert "✓✓ read" in page


def test_the_lead_sees_who_opted_out(client, ticket):
    deliver(client, inbound({"type": "text", "text": {"body": "STOP"}}, wamid="wamid.STOP"))
    client.force_login(person("lena", "lead"))
    page = client.get("/inbox/whatsapp/opt-outs/").content.decode()
    assert "+31612345678" in page


def test_an_opted_out_customers_thread_says_so(client, agent, ticket):
    deliver(client, inbound({"type": "text", "text": {"body": "afmelden"}}, wamid="wamid.STOP"))
    page = client.get(f"/inbox/t/{ticket.pk}/").content.decode()
    assert "opted out of WhatsApp messages" in page


@responses.activate
def test_the_dashboard_counts_replies_inside_and_outside_the_window(client, ticket, templates):
    lead = person("lena", "lead")
    responses.post(graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok("wamid.A"))
    message_deliver(message_id=reply_queue(ticket=ticket, author=lead, text="Hoi", mode="dm").pk)
    responses.replace(responses.POST, graph(f"{PHONE_NUMBER_ID}/messages"), json=send_ok("wamid.B"))
    from channels.whatsapp.services import template_send

    template = WhatsAppTemplate.objects.get(name="order_shipped", language="nl")
    queued = template_send(
        ticket_id=ticket.pk, user=lead, template_id=template.pk, header=["1"], body=["a", "b"]
    )
    message_deliver(message_id=queued.pk)
    client.force_login(lead)
    page = client.get("/dashboard/").content.decode()
    assert "WhatsApp replies and the 24-hour window" in page
    assert "Inside the window (free-form)</td><td>1<" in page
    assert "Outside the window (template)</td><td>1<" in page


@responses.activate
def test_the_channel_list_keeps_showing_the_numbers_quality_and_limit_tier(client, ticket):
    from channels.polling import channel_poll
    from tests.channels.whatsapp.support import number_fields

    responses.get(graph(PHONE_NUMBER_ID), json=number_fields())
    channel_poll(ticket.channel)
    client.force_login(person("adam", "admin"))
    page = client.get("/settings/channels/").content.decode()
    assert "Webwinkel Zuid (+31 20 123 4567): quality GREEN, messaging limit TIER_1K" in page
