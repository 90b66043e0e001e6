"""The demo's simulated WhatsApp number: Cloud API-shaped traffic through the real normaliser,
and ticks on replies through the real status path."""

import pytest
from django.contrib.auth import get_user_model

from channels.models import WhatsAppMessageStatus
from channels.polling import channel_poll
from inbox.models import Message, Ticket
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_queue
from tests.factories import make_channel

pytestmark = pytest.mark.django_db


def test_the_demo_number_brings_texts_photos_and_locations():
    channel = make_channel("whatsapp_demo", settings={"seed": 7, "per_poll": 40})
    channel_poll(channel)
    kinds = set(Message.objects.filter(channel=channel).values_list("raw__type", flat=True))
    assert {"text", "image", "location"} <= kinds
    assert all(t.startswith("wa:") for t in Ticket.objects.values_list("thread_key", flat=True))


def test_a_demo_reply_gets_sent_delivered_and_read():
    channel = make_channel("whatsapp_demo", settings={"seed": 7, "per_poll": 3})
    channel_poll(channel)
    ticket = Ticket.objects.filter(channel=channel).first()
    agent = get_user_model().objects.create_user("demo.agent", password="x")
    message = reply_queue(ticket=ticket, author=agent, text="Dank je!", mode="dm")
    assert message_deliver(message_id=message.pk) == "sent"  # statuses run in-process in tests
    message.refresh_from_db()
    assert WhatsAppMessageStatus.objects.get(wamid=message.external_id).status == "read"
