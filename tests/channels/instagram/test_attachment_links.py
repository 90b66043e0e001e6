"""DM attachments reach Instagram as signed, expiring public links.

Instagram API with Instagram Login, "Send Messages": a media message is
``message={"attachment": {"type": "image", "payload": {"url": ...}}}`` and Meta downloads the
URL (https://developers.facebook.com/documentation/instagram-platform/instagram-api-with-instagram-login/messaging-api).
The Attachment Upload API (``/<PAGE_ID>/message_attachments``) needs a Facebook Page and a
Page token (https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/attachment-upload),
so this route has no upload: Webcare serves the file at ``/media/out/<signed token>/``.
"""

import datetime as dt
import json

import pytest
import responses
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inbox.models import Attachment, Team
from inbox.replies.delivery import message_deliver
from inbox.replies.services import reply_send
from inbox.tickets.services import ActionError
from tests.channels.instagram.support import ACCOUNT_ID, IGSID, channel, graph
from tests.channels.instagram.test_send import dm_ticket, form
from tests.channels.media_support import media_storage  # noqa: F401 - fixture
from tests.media_cdn import jpeg
from tests.personas import person
from webcare import public_links

pytestmark = pytest.mark.django_db

PUBLIC = "https://care.example.nl"


@pytest.fixture
def agent():
    return person("anna", team=Team.objects.create(name="Social"))


@pytest.fixture
def ticket(agent, media_storage):  # noqa: F811
    found = dm_ticket(channel())
    found.team = Team.objects.get(name="Social")
    found.save(update_fields=["team"])
    return found


@pytest.fixture
def public(settings):
    settings.WEBCARE_PUBLIC_URL = PUBLIC
    return settings


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("box.jpg", jpeg(), content_type="image/jpeg")


def _sent_photo(ticket, agent) -> Attachment:
    message = reply_send(ticket_id=ticket.pk, user=agent, text="", mode="dm", files=[photo()])
    return Attachment.objects.get(message=message)


@responses.activate
def test_a_dm_photo_goes_to_instagram_as_a_signed_link_under_the_public_address(
    public, ticket, agent
):
    # Answer of the Send API: {"recipient_id", "message_id"}.
    responses.post(
        graph(f"{ACCOUNT_ID}/messages"), json={"recipient_id": IGSID, "message_id": "aWdfZAG1"}
    )
    attachment = _sent_photo(ticket, agent)
    assert message_deliver(message_id=attachment.message_id) == "sent"
    sent = json.loads(form(responses.calls[0])["message"])
    url = sent["attachment"]["payload"]["url"]
    assert sent["attachment"]["type"] == "image"
    assert url.startswith(f"{PUBLIC}/media/out/")
    assert public_links.outbound_id(url.removeprefix(PUBLIC).split("/")[3]) == attachment.pk


def test_the_signed_link_serves_the_file_without_login_and_never_sniffed(
    client, public, ticket, agent
):
    attachment = _sent_photo(ticket, agent)
    token = public_links.outbound_token(attachment.pk)
    response = client.get(reverse("inbox:attachment_out", args=[token]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_an_expired_link_is_404(client, public, ticket, agent):
    attachment = _sent_photo(ticket, agent)
    token = public_links.outbound_token(attachment.pk)
    later = timezone.now() + dt.timedelta(seconds=public.WEBCARE_PUBLIC_MEDIA_MAX_AGE + 60)
    with time_machine.travel(later):
        response = client.get(reverse("inbox:attachment_out", args=[token]))
    assert response.status_code == 404


def test_a_tampered_link_is_403(client, public, ticket, agent):
    attachment = _sent_photo(ticket, agent)
    token = public_links.outbound_token(attachment.pk)
    head, _, signature = token.rpartition(":")
    forged = f"{head}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert client.get(reverse("inbox:attachment_out", args=[forged])).status_code == 403
    other = public_links.outbound_token(attachment.pk + 1).split(":")[0]
    spliced = f"{other}:{token.split(':', 1)[1]}"
    assert client.get(reverse("inbox:attachment_out", args=[spliced])).status_code == 403


def test_a_valid_link_to_what_a_customer_sent_is_404(client, public, ticket):
    inbound = ticket.messages.get()
    received = Attachment.objects.create(
        message=inbound,
        channel_id=ticket.channel_id,
        kind="image",
        state="stored",
        storage_name="in/secret.jpg",
        detected_type="image/jpeg",
    )
    token = public_links.outbound_token(received.pk)
    assert client.get(reverse("inbox:attachment_out", args=[token])).status_code == 404


def test_the_links_folder_lists_nothing(client, public):
    assert client.get("/media/out/").status_code == 404


def test_without_a_public_address_the_composer_offers_no_files_and_says_why(
    client, settings, ticket, agent
):
    settings.WEBCARE_PUBLIC_URL = ""
    client.force_login(agent)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert 'name="files"' not in page
    assert "Attachments on this channel need a public https address" in page
    with pytest.raises(ActionError, match="WEBCARE_PUBLIC_URL"):
        reply_send(ticket_id=ticket.pk, user=agent, text="x", mode="dm", files=[photo()])
    assert not Attachment.objects.filter(message__ticket=ticket, message__direction="out").exists()


def test_an_http_address_is_not_public_enough(settings, ticket):
    from channels.instagram.connector import InstagramConnector

    settings.WEBCARE_PUBLIC_URL = "http://care.example.nl"
    notices = InstagramConnector(ticket.channel.context()).channel_notices()
    assert any("DM attachments are off" in n and "WEBCARE_PUBLIC_URL" in n for n in notices)
