"""WhatsApp webhooks: the handshake, the signature per number, every message type readable,
one ticket per customer, opt-outs."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from channels.models import WebhookDelivery, WhatsAppContact
from inbox.models import Message, Ticket, TicketStatus
from tests.channels.whatsapp.support import (
    APP_SECRET,
    MESSAGES,
    NAME,
    VERIFY_TOKEN,
    WA_ID,
    deliver,
    inbound,
    whatsapp_channel,
)

pytestmark = pytest.mark.django_db


def test_the_handshake_echoes_the_challenge_for_a_channels_verify_token(client):
    whatsapp_channel()
    response = client.get(
        "/webhooks/whatsapp/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_the_handshake_with_an_unknown_verify_token_is_refused(client):
    whatsapp_channel()
    response = client.get(
        "/webhooks/whatsapp/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 403


def test_a_body_signed_with_another_secret_is_refused_and_stores_nothing(client):
    whatsapp_channel()
    response = deliver(client, inbound(MESSAGES["text"]), secret="not-the-app-secret")
    assert response.status_code == 403
    assert not WebhookDelivery.objects.exists()
    assert not Message.objects.exists()


def test_a_body_reaches_only_the_number_it_names_and_whose_secret_signed_it(client):
    ours = whatsapp_channel()
    other = whatsapp_channel(
        settings={"phone_number_id": "999000111222333"},
        credentials={"access_token": "x", "app_secret": "other-secret"},
    )
    # Signed with the other app's secret, but naming our number: reaches neither.
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.X1"), secret="other-secret")
    assert not Message.objects.exists()
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.X2"), secret=APP_SECRET)
    assert Message.objects.get().channel_id == ours.pk
    assert not Message.objects.filter(channel=other).exists()


def test_a_text_message_opens_a_ticket_with_the_customers_phone_number_and_name(client):
    channel = whatsapp_channel()
    response = deliver(client, inbound(MESSAGES["text"]))
    assert response.status_code == 200
    ticket = Ticket.objects.get(channel=channel)
    assert ticket.thread_key == f"wa:{WA_ID}"
    assert ticket.kind == "dm"
    assert ticket.identity.handle == "+31612345678"
    assert ticket.identity.display_name == NAME
    assert ticket.messages.get().text == "Mijn pakket is niet aangekomen"


def test_a_redelivered_body_stores_its_message_once(client):
    whatsapp_channel()
    body = inbound(MESSAGES["text"], wamid="wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUVC")
    deliver(client, body)
    deliver(client, body)
    assert Message.objects.count() == 1


def test_the_same_wamid_in_a_new_body_is_still_one_message(client):
    whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.SAME", timestamp="1765000000"))
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.SAME", timestamp="1765000001"))
    assert Message.objects.count() == 1


EXPECTED = {
    "text": "Mijn pakket is niet aangekomen",
    "image": "Zo kwam het aan",
    "video": "",
    "audio": "(Voice message)",
    "document": "De factuur",
    "sticker": "(Sticker)",
    "location": "Shared a location: Afhaalpunt Centraal, Damrak 1, 1012 LG Amsterdam",
    "contacts": "Shared contact card(s): Pieter Bakker +31 6 98765432 pieter@example.nl",
    "button_reply": "Chose button option: Ja, retourneren",
    "list_reply": "Chose list option: Dinsdag — 12:00 - 14:00",
    "button": "Tapped template button: Geen aanbiedingen meer",
    "reaction": "Reacted \U0001f44d to a message",
    "order": "Placed an order: 1 × sku-jas-blauw-m (89.95 EUR)\nGraag snel",
    "referral": "Is deze jas nog leverbaar?\n(Came from a click-to-WhatsApp ad: Winteruitverkoop)",
    "system": "(System) User A changed from 31612345678 to 31687654321",
    "unsupported": "The customer sent a message WhatsApp does not pass on to businesses",
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_every_message_type_lands_as_something_an_agent_can_read(client, kind):
    whatsapp_channel()
    deliver(client, inbound(MESSAGES[kind]))
    message = Message.objects.get()
    assert message.text.startswith(EXPECTED[kind])
    assert message.raw["type"] == MESSAGES[kind]["type"]
    if kind in ("video",):
        # A media message without a caption still says what it is through its attachment.
        assert message.raw["video"]["id"] == "1184965536652426"
    if kind != "video":
        assert message.text.strip()


def test_an_unsupported_message_carries_metas_reason():
    from channels.whatsapp.normalize import value_result

    item = value_result(inbound(MESSAGES["unsupported"])["entry"][0]["changes"][0]["value"]).items[
        0
    ]
    assert "131051" in item.text
    assert item.attachments[0].kind == "unsupported"


def test_media_arrive_as_attachments_with_their_media_id():
    from channels.whatsapp.normalize import value_result

    for kind, expected in (("image", "image"), ("document", "file"), ("audio", "audio")):
        value = inbound(MESSAGES[kind])["entry"][0]["changes"][0]["value"]
        attachment = value_result(value).items[0].attachments[0]
        assert attachment.kind == expected
        assert attachment.media_id == MESSAGES[kind][kind]["id"]
        assert attachment.mime_type == MESSAGES[kind][kind]["mime_type"]
    value = inbound(MESSAGES["document"])["entry"][0]["changes"][0]["value"]
    assert value_result(value).items[0].attachments[0].name == "factuur-2026-118.pdf"


def test_a_reaction_points_at_the_message_it_reacts_to():
    from channels.whatsapp.normalize import value_result

    value = inbound(MESSAGES["reaction"])["entry"][0]["changes"][0]["value"]
    assert value_result(value).items[0].parent_external_id == "wamid.OUT-earlier"


def test_a_closed_conversation_reopens_when_the_customer_writes_again(client):
    channel = whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.A"))
    ticket = Ticket.objects.get(channel=channel)
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED, closed_at=timezone.now())
    deliver(client, inbound({"type": "text", "text": {"body": "Nog iets"}}, wamid="wamid.B"))
    assert Ticket.objects.filter(channel=channel).count() == 1
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.CLOSED
    assert ticket.messages.count() == 2


def test_two_customers_get_two_tickets(client):
    channel = whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.C1"))
    deliver(client, inbound(MESSAGES["text"], wamid="wamid.C2", wa_id="31600000001", name="Jan"))
    assert Ticket.objects.filter(channel=channel).count() == 2


@pytest.mark.parametrize("word", ["STOP", "stop", " Afmelden "])
def test_an_opt_out_word_marks_the_customer_opted_out(client, word):
    channel = whatsapp_channel()
    deliver(client, inbound({"type": "text", "text": {"body": word}}))
    assert WhatsAppContact.objects.get(channel=channel, wa_id=WA_ID).opted_out_at is not None


def test_writing_again_after_an_opt_out_ends_it(client):
    channel = whatsapp_channel()
    deliver(client, inbound({"type": "text", "text": {"body": "STOP"}}, wamid="wamid.1"))
    deliver(client, inbound({"type": "text", "text": {"body": "Toch een vraag"}}, wamid="wamid.2"))
    assert WhatsAppContact.objects.get(channel=channel, wa_id=WA_ID).opted_out_at is None


def test_a_sentence_containing_stop_is_not_an_opt_out(client):
    channel = whatsapp_channel()
    deliver(client, inbound({"type": "text", "text": {"body": "Wanneer stopt de actie?"}}))
    assert WhatsAppContact.objects.get(channel=channel, wa_id=WA_ID).opted_out_at is None


def test_a_body_for_an_unknown_number_is_answered_and_stores_no_message(client):
    whatsapp_channel()
    response = deliver(client, inbound(MESSAGES["text"], number="555000555000555"))
    assert response.status_code == 200
    assert not Message.objects.exists()


def test_a_non_whatsapp_object_is_ignored(client):
    whatsapp_channel()
    response = deliver(client, {"object": "page", "entry": []})
    assert response.status_code == 200
    assert not WebhookDelivery.objects.exists()


def test_a_malformed_signed_body_is_a_bad_request(client):
    whatsapp_channel()
    body = b'{"object": "whatsapp_business_account", "entry": ['
    from tests.channels.whatsapp.support import signed

    response = client.post(
        "/webhooks/whatsapp/", data=body, content_type="application/json", **signed(body)
    )
    assert response.status_code == 400


def test_the_reply_window_closes_24_hours_after_the_customers_last_message(client):
    channel = whatsapp_channel()
    deliver(client, inbound(MESSAGES["text"]))
    ticket = Ticket.objects.get(channel=channel)
    connector = channel.connector()
    window = connector.reply_window(ticket_kind="dm", last_inbound_at=ticket.last_inbound_at)
    assert window.allowed
    assert window.closes_at == ticket.last_inbound_at + dt.timedelta(hours=24)
    with time_machine.travel(ticket.last_inbound_at + dt.timedelta(hours=24, minutes=1)):
        later = connector.reply_window(ticket_kind="dm", last_inbound_at=ticket.last_inbound_at)
    assert not later.allowed
    assert "template" in later.reason


def test_json_payload_helpers_are_meta_shaped():
    body = inbound(MESSAGES["text"])
    value = body["entry"][0]["changes"][0]["value"]
    assert body["object"] == "whatsapp_business_account"
    assert set(value) == {"messaging_product", "metadata", "contacts", "messages"}
    assert json.loads(json.dumps(body)) == body
