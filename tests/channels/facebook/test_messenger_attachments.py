"""Messenger: what customers attach arrives as attachments; replies carry files exactly once.

Payload shapes, each from Meta's documentation (also in docs/channels/facebook.md, "Attachments"):

- ``messages`` webhook: ``message.attachments[]`` of ``{type, payload}``, ``type`` audio, file,
  image, video, location, fallback, reel, ig_reel, template; ``payload.url``; a sticker is an
  image with ``payload.sticker_id``; a location has ``payload.coordinates.lat`` / ``.long``; a
  fallback (link share) has ``title`` and ``url``:
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages
- Send API with an attachment uploaded as form data: ``recipient``, ``message={"attachment":
  {"type": "image", "payload": {"is_reusable": ...}}}``, ``filedata=@file;type=image/png``; the
  answer ``{recipient_id, message_id, attachment_id}``:
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/saving-assets
  and https://developers.facebook.com/docs/messenger-platform/reference/send-api
- ``message.metadata`` is echoed back in ``message_echoes``:
  https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
- Graph ``/{conversation-id}/messages`` ``attachments`` (``id``, ``mime_type``, ``name``,
  ``size``, ``image_data{url, preview_url, width, height, render_as_sticker}``,
  ``video_data``, ``file_url``): https://developers.facebook.com/docs/graph-api/reference/message/attachments/

Times inside the payloads are past dates that nothing compares with the clock.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.utils import timezone

from channels.base import (
    OutboundAttachment,
    OutboundReply,
    OutcomeUnknown,
    PermanentError,
    TemporaryError,
)
from channels.facebook import normalize
from tests.channels.facebook.support import PAGE_ID, PSID, graph, load, messenger_channel
from tests.channels.media_support import PDF, PNG, stored

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_parts_remembered():
    """The parts of a reply already sent live in the cache: none from another test."""
    from django.core.cache import cache

    cache.clear()


IMAGE_URL = (
    "https://scontent.xx.fbcdn.net/v/t1.15752-9/471234567_1234567890_n.jpg"
    "?_nc_cat=101&ccb=1-7&_nc_sid=fc17b8&oh=00_AYB&oe=67A1B2C3"
)
FILE_URL = (
    "https://cdn.fbsbx.com/v/t59.2708-21/471234568_invoice_n.pdf/invoice-48213.pdf"
    "?_nc_cat=104&ccb=1-7&oh=03_Q7c&oe=67A1B2C4"
)


def event(*attachments, text=None, **message):
    """One ``messaging[]`` event from the customer, as the ``messages`` webhook sends it."""
    body = {"mid": "m_att_0001", **message}
    if text is not None:
        body["text"] = text
    if attachments:
        body["attachments"] = list(attachments)
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1795176000000,
        "message": body,
    }


def parse(evt):
    return normalize.messaging_event(evt, page_id=PAGE_ID)


# --- inbound -----------------------------------------------------------------------------
def test_a_pdf_and_a_photo_with_text_keep_the_text_and_both_files():
    found = parse(
        event(
            {"type": "file", "payload": {"url": FILE_URL}},
            {"type": "image", "payload": {"url": IMAGE_URL}},
            text="Well, well.",
        )
    )
    assert found.text == "Well, well."
    assert [(a.kind, a.url) for a in found.attachments] == [
        ("file", FILE_URL),
        ("image", IMAGE_URL),
    ]


def test_a_photo_alone_has_no_placeholder_text():
    found = parse(event({"type": "image", "payload": {"url": IMAGE_URL}}))
    assert found.text == ""
    assert [a.kind for a in found.attachments] == ["image"]


def test_a_sticker_is_a_sticker_with_its_id_not_an_image():
    sticker = {
        "type": "image",
        "payload": {
            "url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_n.png",
            "sticker_id": 369239263222822,
        },
    }
    (found,) = parse(event(sticker)).attachments
    assert found.kind == "sticker"
    assert found.detail == {"sticker_id": "369239263222822"}
    assert found.url.startswith("https://scontent.xx.fbcdn.net/")


def test_a_shared_location_keeps_its_coordinates():
    location = {
        "type": "location",
        "title": "Pinned Location",
        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps",
        "payload": {"coordinates": {"lat": 52.379189, "long": 4.899431}},
    }
    (found,) = parse(event(location)).attachments
    assert (found.kind, found.latitude, found.longitude) == ("location", 52.379189, 4.899431)
    assert found.title == "Pinned Location"


def test_video_and_audio_arrive_as_their_kinds():
    video_url = "https://video.xx.fbcdn.net/v/t42.3356-2/10000000_clip_n.mp4?oe=67A1B2C5"
    audio_url = "https://cdn.fbsbx.com/v/t59.3654-21/voice_n.mp4/audioclip-1795176000.mp4"
    found = parse(
        event(
            {"type": "video", "payload": {"url": video_url}},
            {"type": "audio", "payload": {"url": audio_url}},
        )
    )
    assert [(a.kind, a.url) for a in found.attachments] == [
        ("video", video_url),
        ("audio", audio_url),
    ]


def test_a_link_share_is_a_link_card_not_text():
    fallback = {
        "type": "fallback",
        "title": "Blue wool coat | Acme",
        "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Facme.example%2Fcoat",
        "payload": None,
    }
    found = parse(event(fallback, text="This one"))
    assert found.text == "This one"
    (card,) = found.attachments
    assert card.kind == "link" and card.title == "Blue wool coat | Acme"
    assert card.detail["url"].startswith("https://l.facebook.com/")


def test_a_shared_reel_is_a_video_with_its_title():
    reel = {
        "type": "reel",
        "payload": {
            "url": "https://lookaside.fbsbx.com/lookaside/crawler/media/?media_id=123",
            "title": "Unboxing the coat",
            "reel_video_id": "1234567890",
        },
    }
    (found,) = parse(event(reel)).attachments
    assert (found.kind, found.title, found.external_id) == (
        "video",
        "Unboxing the coat",
        "reel:1234567890",
    )


def test_a_shared_product_is_a_product_attachment_and_keeps_its_words_as_text():
    value = load("webhook_messaging_product_template.json")["entry"][0]["messaging"][0]
    found = parse(value)
    (product,) = found.attachments
    assert product.kind == "product"
    assert product.title == "Blue wool coat"
    assert product.detail["elements"][0]["subtitle"] == "€ 149,00"
    assert found.text == "Blue wool coat\n€ 149,00"


def test_a_polled_message_with_a_photo_and_a_pdf_has_both_with_name_and_size():
    message = {
        "id": "m_polled_0001",
        "created_time": "2026-11-20T10:00:00+0000",
        "from": {"id": PSID, "name": "Sanne Bakker"},
        "message": "Here you go",
        "attachments": {
            "data": [
                {
                    "id": "1122334455",
                    "mime_type": "image/jpeg",
                    "name": "image-1122334455.jpg",
                    "size": 183220,
                    "image_data": {
                        "width": 1280,
                        "height": 960,
                        "max_width": 1280,
                        "max_height": 960,
                        "url": IMAGE_URL,
                        "preview_url": IMAGE_URL + "&stp=dst-jpg_p280x280",
                        "image_type": 1,
                        "render_as_sticker": False,
                    },
                },
                {
                    "id": "1122334456",
                    "mime_type": "application/pdf",
                    "name": "invoice-48213.pdf",
                    "size": 48211,
                    "file_url": FILE_URL,
                },
            ]
        },
    }
    found = normalize.conversation_message_item(message, page_id=PAGE_ID, psid=PSID)
    assert found.text == "Here you go"
    image, pdf = found.attachments
    assert (image.kind, image.url, image.size) == ("image", IMAGE_URL, 183220)
    assert (pdf.kind, pdf.name, pdf.mime_type, pdf.url) == (
        "file",
        "invoice-48213.pdf",
        "application/pdf",
        FILE_URL,
    )


def test_the_echo_of_a_file_we_sent_in_a_reply_is_not_a_new_message():
    echo = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": PSID},
        "timestamp": 1795176000000,
        "message": {
            "is_echo": True,
            "app_id": 1517776481860111,
            "metadata": "webcare-part:msg-17:file0",
            "mid": "m_echo_part_0001",
            "attachments": [{"type": "image", "payload": {"url": IMAGE_URL}}],
        },
    }
    assert parse(echo) is None


def test_signed_cdn_links_are_fetched_from_metas_hosts_only():
    from channels.base import media_url_allowed
    from channels.facebook.connector import MessengerConnector

    assert media_url_allowed(MessengerConnector, IMAGE_URL)
    assert media_url_allowed(MessengerConnector, FILE_URL)
    assert not media_url_allowed(MessengerConnector, "https://fbcdn.net.evil.example/a.jpg")
    assert not media_url_allowed(MessengerConnector, "https://l.facebook.com/l.php?u=x")


# --- outbound ---------------------------------------------------------------------------
def reply(*attachments, text="Here is your label", key="msg-17") -> OutboundReply:
    return OutboundReply(
        message_id=17,
        idempotency_key=key,
        text=text,
        mode="dm",
        thread_key=f"dm:{PSID}",
        ticket_kind="dm",
        recipient_id=PSID,
        created_at=timezone.now(),
        attachments=attachments,
    )


def sent(mid):
    return {"recipient_id": PSID, "message_id": mid, "attachment_id": "1857777774821032"}


def posted_parts():
    return [c for c in responses.calls if c.request.method == "POST"]


@responses.activate
def test_text_and_photo_go_out_as_two_messages_the_photo_as_a_file_upload(media_storage):
    photo = stored("label.png", PNG, "image/png", "image")
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    responses.post(graph(f"{PAGE_ID}/messages"), json=sent("m_sent_photo_1"))
    result = messenger_channel().connector().send(reply(photo))
    text_call, photo_call = posted_parts()
    assert parse_qs(text_call.request.body)["message"] == ['{"text": "Here is your label"}']
    body = photo_call.request.body
    assert photo_call.request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="filedata"; filename="label.png"' in body
    assert b"Content-Type: image/png" in body
    assert b'"type": "image"' in body and b'"metadata": "webcare-part:msg-17:file0"' in body
    assert result.external_id == load("send_message_ok.json")["message_id"]
    assert result.raw["parts"] == {
        "text": load("send_message_ok.json")["message_id"],
        "file0": "m_sent_photo_1",
    }


@responses.activate
def test_a_retry_after_the_photo_failed_sends_only_the_photo(media_storage):
    photo = stored("label.png", PNG, "image/png", "image")
    connector = messenger_channel().connector()
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("error_2_transient.json"), status=500)
    with pytest.raises(TemporaryError):
        connector.send(reply(photo))
    assert len(posted_parts()) == 2
    responses.replace(responses.POST, graph(f"{PAGE_ID}/messages"), json=sent("m_sent_photo_2"))
    result = connector.send(reply(photo))
    assert len(posted_parts()) == 3
    assert b"filedata" in posted_parts()[-1].request.body
    assert result.raw["parts"]["file0"] == "m_sent_photo_2"


@responses.activate
def test_a_photo_whose_outcome_is_unknown_is_found_on_messenger_not_sent_again(media_storage):
    pdf = stored("invoice.pdf", PDF, "application/pdf", "file")
    connector = messenger_channel().connector()
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    responses.post(
        graph(f"{PAGE_ID}/messages"), body=requests.exceptions.ReadTimeout("read timed out")
    )
    the_reply = reply(pdf)
    with pytest.raises(OutcomeUnknown):
        connector.send(the_reply)
    later = (timezone.now()).strftime("%Y-%m-%dT%H:%M:%S+0000")
    responses.get(
        graph(f"{PAGE_ID}/conversations"),
        json={
            "data": [
                {
                    "messages": {
                        "data": [
                            {
                                "id": "m_sent_pdf_1",
                                "from": {"id": PAGE_ID, "name": "Acme"},
                                "created_time": later,
                                "attachments": {"data": [{"id": "99887766"}]},
                            },
                            {
                                "id": load("send_message_ok.json")["message_id"],
                                "message": "Here is your label",
                                "from": {"id": PAGE_ID, "name": "Acme"},
                                "created_time": later,
                            },
                        ]
                    },
                    "id": "t_10000000000001",
                }
            ]
        },
    )
    found = connector.find_sent(the_reply)
    assert found is not None
    assert found.raw["parts"]["file0"] == "m_sent_pdf_1"
    assert len(posted_parts()) == 2


@responses.activate
def test_a_photo_whose_outcome_is_unknown_and_not_on_messenger_is_sent_on_retry(media_storage):
    photo = stored("label.png", PNG, "image/png", "image")
    connector = messenger_channel().connector()
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    responses.post(graph(f"{PAGE_ID}/messages"), body=requests.exceptions.ReadTimeout("slow"))
    the_reply = reply(photo)
    with pytest.raises(OutcomeUnknown):
        connector.send(the_reply)
    responses.get(graph(f"{PAGE_ID}/conversations"), json={"data": []})
    assert connector.find_sent(the_reply) is None
    responses.replace(responses.POST, graph(f"{PAGE_ID}/messages"), json=sent("m_sent_photo_3"))
    result = connector.send(the_reply)
    assert len(posted_parts()) == 3  # text once, photo twice (the first never arrived)
    assert result.raw["parts"]["file0"] == "m_sent_photo_3"


def test_a_file_over_messengers_25_mb_is_refused_before_anything_is_sent():
    big = OutboundAttachment(
        name="film.mp4",
        mime_type="video/mp4",
        size=26 * 1024 * 1024,
        kind="video",
        storage_name="x",
    )
    with responses.RequestsMock() as mock:
        with pytest.raises(PermanentError, match="at most 25 MB"):
            messenger_channel().connector().send(reply(big))
        assert len(mock.calls) == 0


@responses.activate
def test_a_reply_of_only_a_file_is_one_message(media_storage):
    pdf = stored("invoice.pdf", PDF, "application/pdf", "file")
    responses.post(graph(f"{PAGE_ID}/messages"), json=sent("m_sent_pdf_only"))
    result = messenger_channel().connector().send(reply(pdf, text=""))
    (call,) = posted_parts()
    assert b'"type": "file"' in call.request.body
    assert result.external_id == "m_sent_pdf_only"
    assert json.loads(json.dumps(result.raw))["parts"] == {"file0": "m_sent_pdf_only"}
