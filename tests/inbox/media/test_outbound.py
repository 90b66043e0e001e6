"""Agents attach files to a reply where the channel takes them: the limits are shown before
sending, checked on the bytes, the files kept in the media storage and handed to the connector
on ``OutboundReply.attachments`` when the reply is sent, once."""

from __future__ import annotations

import io

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels.facebook.connector import MessengerConnector
from inbox.ingest.services import ingest_batch
from inbox.models import Attachment, Message, Ticket
from inbox.replies.delivery import message_deliver, outbound_reply
from inbox.replies.services import reply_send
from inbox.tickets.services import ActionError
from tests.channels.facebook.support import (
    PAGE_ID,
    PSID,
    graph,
    load,
    messenger_channel,
    page_channel,
)
from tests.factories import item, make_channel
from tests.media_cdn import jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return person("anna")


@pytest.fixture
def dm(media_storage) -> Ticket:
    channel = messenger_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item("m_in_1", thread=f"dm:{PSID}", kind="dm", uid=PSID)],
    )
    return Ticket.objects.get(channel=channel)


@pytest.fixture
def comment(media_storage) -> Ticket:
    channel = page_channel()
    ingest_batch(
        channel_id=channel.pk,
        items=[item("900000000000001_111", thread="c:900000000000001_111", kind="comment")],
    )
    return Ticket.objects.get(channel=channel)


def photo(name="box.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


def test_a_reply_with_a_photo_stores_it_as_the_replys_attachment(dm, anna):
    message = reply_send(ticket_id=dm.pk, user=anna, text="Here is the label", mode="dm",
                         files=[photo()])  # fmt: skip
    (sent,) = Attachment.objects.filter(message=message)
    assert (sent.kind, sent.detected_type, sent.name, sent.state) == (
        "image", "image/jpeg", "box.jpg", "stored",
    )  # fmt: skip
    assert sent.thumbnail_name
    message.refresh_from_db()
    assert message.attachment_count == 1


def test_the_connector_gets_the_files_on_the_outbound_reply(dm, anna):
    message = reply_send(ticket_id=dm.pk, user=anna, text="", mode="dm", files=[photo()])
    (attachment,) = outbound_reply(Message.objects.get(pk=message.pk)).attachments
    assert (attachment.name, attachment.mime_type, attachment.kind) == (
        "box.jpg", "image/jpeg", "image",
    )  # fmt: skip
    with attachment.open() as f:
        assert f.read() == jpeg()


@responses.activate
def test_a_reply_with_a_file_is_sent_once_with_the_same_states_as_text(
    dm, anna, monkeypatch, django_capture_on_commit_callbacks
):
    seen = []
    real_send = MessengerConnector.send

    def recording(self, reply):
        seen.append(reply.attachments)
        return real_send(self, reply)

    monkeypatch.setattr(MessengerConnector, "send", recording)
    responses.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
    message = reply_send(ticket_id=dm.pk, user=anna, text="Label", mode="dm", files=[photo()])
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) != "sent"  # already sent: nothing again
    message.refresh_from_db()
    assert message.delivery_state == "sent"
    assert len(seen) == 1 and seen[0][0].name == "box.jpg"


def test_more_files_than_the_platform_takes_are_refused(comment, anna):
    # A Facebook comment carries one photo.
    with pytest.raises(ActionError, match="at most 1 file"):
        reply_send(ticket_id=comment.pk, user=anna, text="x",
                   files=[photo("a.jpg"), photo("b.jpg")])  # fmt: skip
    assert not Attachment.objects.exists()


def test_a_file_over_the_platforms_size_is_refused(dm, anna, monkeypatch):
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + bytes(26 * 1024 * 1024))
    with pytest.raises(ActionError, match="big.pdf is larger than 25"):
        reply_send(ticket_id=dm.pk, user=anna, text="x", mode="dm", files=[big])


def test_the_type_is_read_from_the_bytes_not_the_name(comment, anna):
    # A Facebook comment takes images only; these bytes are a web page, whatever the name.
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    with pytest.raises(ActionError, match="photo.jpg is text/html"):
        reply_send(ticket_id=comment.pk, user=anna, text="x", files=[fake])


def test_a_collision_removes_the_stored_files_again(dm, anna, media_storage):
    from inbox.tickets.services import Collision

    seen = Message.objects.filter(ticket=dm).order_by("pk").first().pk
    ingest_batch(
        channel_id=dm.channel_id,
        items=[item("m_in_2", thread=f"dm:{PSID}", kind="dm", uid=PSID)],
    )
    with pytest.raises(Collision):
        reply_send(ticket_id=dm.pk, user=anna, text="x", mode="dm", seen_message_id=seen,
                   files=[photo()])  # fmt: skip
    assert not any(p.is_file() for p in media_storage.rglob("*"))


def test_the_composer_shows_the_limits_before_sending(client, dm, anna):
    client.force_login(anna)
    html = client.get(reverse("inbox:thread", args=[dm.pk])).content.decode()
    assert 'type="file" id="reply-files" name="files"' in html
    assert "Up to 10 file(s), 25.0\xa0MB each: image, video, audio, file" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_channel_without_attachment_limits_shows_no_picker(
    client, anna, media_storage, monkeypatch
):
    from channels.simulator.connector import SimulatorConnector

    monkeypatch.setattr(SimulatorConnector, "attachment_limits", {})  # as review sites have
    channel = make_channel()
    ingest_batch(channel_id=channel.pk, items=[item("s1")])
    client.force_login(anna)
    ticket = Ticket.objects.get(channel=channel)
    html = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert 'type="file"' not in html


def test_an_agent_posts_a_photo_from_the_composer(client, dm, anna):
    client.force_login(anna)
    response = client.post(
        reverse("inbox:reply", args=[dm.pk]),
        {"mode": "dm", "text": "See the label", "files": [io.BytesIO(jpeg())]},
    )
    assert response.status_code == 302
    reply = Message.objects.get(ticket=dm, direction="out")
    assert reply.attachment_count == 1
