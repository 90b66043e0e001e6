"""Attachments through the API: a token caller gets a file under the same rule (who may see the
ticket) and with the same safety headers as the screen's file view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.base import InboundAttachment
from inbox.models import Attachment, Team, Ticket
from tests.inbox.api.conftest import bearer
from tests.inbox.media.test_thread_and_view import fetch_all, ticket_with
from tests.media_cdn import SVG_WITH_SCRIPT, Route, jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def anna(support):
    return bearer(person("anna", team=support), scope="read")


def stored(support, cdn, path="/p.jpg", content_type="image/jpeg", body=None) -> Attachment:
    cdn.routes[path] = Route(content_type=content_type, body=body or jpeg())
    ticket_with(support, InboundAttachment(kind="image", url=cdn.url(path), name="photo.jpg"))
    fetch_all()
    return Attachment.objects.get()


def api_file(attachment, variant=""):
    url = reverse("api:attachment_file", args=[attachment.pk])
    return f"{url}?variant={variant}" if variant else url


def test_the_ticket_lists_each_stored_file_with_its_api_download(client, support, anna, cdn):
    photo = stored(support, cdn)
    detail = client.get(reverse("api:ticket_detail", args=[photo.message.ticket_id]), **anna)
    (listed,) = detail.json()["messages"][0]["attachments"]
    assert listed["download_url"] == api_file(photo)
    assert b"".join(client.get(listed["download_url"], **anna).streaming_content) == jpeg()


def test_a_token_download_is_an_attachment_with_nosniff_and_a_sandbox(client, support, anna, cdn):
    response = client.get(api_file(stored(support, cdn)), **anna)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="photo.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_photo_asked_as_file_is_inline(client, support, anna, cdn):
    response = client.get(api_file(stored(support, cdn), "file"), **anna)
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")


def test_an_svg_asked_as_file_is_still_a_download(client, support, anna, cdn):
    svg = stored(support, cdn, "/s.svg", "image/svg+xml", SVG_WITH_SCRIPT)
    response = client.get(api_file(svg, "file"), **anna)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_an_agent_of_another_team_gets_a_json_403_and_no_bytes(client, support, cdn):
    photo = stored(support, cdn)
    Ticket.objects.update(team=support)
    bert = bearer(person("bert", team=Team.objects.create(name="Billing")))
    response = client.get(api_file(photo), **bert)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_file_not_fetched_yet_is_a_json_404(client, support, anna):
    ticket_with(support, InboundAttachment(kind="image", url="https://x.test/a.jpg"))
    response = client.get(api_file(Attachment.objects.get()), **anna)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_without_a_token_the_answer_is_401(client, support, cdn):
    assert client.get(api_file(stored(support, cdn))).status_code == 401
