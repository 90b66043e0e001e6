"""Video and audio players seek with HTTP ``Range`` (RFC 9110 §14): the media view answers one
byte range with 206 and ``Content-Range``, a range past the end with 416, and serves the whole
file for a header it does not read, always with nosniff, the disposition and the sandbox CSP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.media import services
from inbox.models import Attachment, Team
from tests.channels.facebook.support import messenger_channel
from tests.factories import item
from tests.media_cdn import Route, jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db

PHOTO = jpeg()
SIZE = len(PHOTO)


@pytest.fixture
def photo_url(client, cdn):
    support = Team.objects.create(name="Support")
    client.force_login(person("anna", team=support))
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=PHOTO)
    channel = messenger_channel(default_team=support)
    att = InboundAttachment(kind="image", url=cdn.url("/p.jpg"))
    ingest_batch(channel_id=channel.pk, items=[item("m1", attachments=(att,))])
    services.attachment_fetch(attachment_id=Attachment.objects.get().pk)
    return reverse("inbox:attachment", args=[Attachment.objects.get().pk, "file"])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_one_byte_range_is_served_as_partial_content(client, photo_url):
    response = client.get(photo_url, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{SIZE}"
    assert response["Content-Length"] == "100"
    assert body(response) == PHOTO[100:200]


def test_a_partial_answer_keeps_nosniff_the_disposition_and_the_sandbox(client, photo_url):
    response = client.get(photo_url, HTTP_RANGE="bytes=0-9")
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_an_open_range_runs_to_the_end_of_the_file(client, photo_url):
    response = client.get(photo_url, HTTP_RANGE=f"bytes={SIZE - 50}-")
    assert response["Content-Range"] == f"bytes {SIZE - 50}-{SIZE - 1}/{SIZE}"
    assert body(response) == PHOTO[-50:]


def test_a_suffix_range_is_the_last_bytes(client, photo_url):
    response = client.get(photo_url, HTTP_RANGE="bytes=-20")
    assert response.status_code == 206
    assert body(response) == PHOTO[-20:]


def test_a_range_past_the_end_is_416_with_the_size(client, photo_url):
    response = client.get(photo_url, HTTP_RANGE=f"bytes={SIZE}-{SIZE + 10}")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-10", "bytes=0-1,5-9", "bytes=9-1"])
def test_a_range_header_we_do_not_read_gets_the_whole_file(client, photo_url, header):
    response = client.get(photo_url, HTTP_RANGE=header)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == PHOTO


def test_a_range_is_not_served_to_an_agent_of_another_team(client, photo_url):
    client.force_login(person("bert", team=Team.objects.create(name="Billing")))
    assert client.get(photo_url, HTTP_RANGE="bytes=0-9").status_code == 403
