"""In a real browser (Debian's Chromium through Playwright): an agent sees the photo and the
location a customer sent on Messenger, opens the photo in the viewer with the keyboard, and
sends a photo back. The customer's photo comes from a CDN on 127.0.0.1 (named in the test
setting ``SAFE_FETCH_LOCAL_HOSTS``); Meta's Send API is stubbed at the HTTP level (responses)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

import pytest
import responses

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.models import Attachment, Message, Team, Ticket
from tests.channels.facebook.support import PAGE_ID, PSID, graph, load, messenger_channel
from tests.factories import item
from tests.inbox.screen.test_inbox_browser import browser, log_in  # noqa: F401 - the browser fixture
from tests.media_cdn import Route, jpeg
from tests.personas import eager_celery, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_sees_the_customers_photo_and_location_and_sends_a_photo_back(
    browser,  # noqa: F811
    live_server,
    cdn,
    tmp_path,
):
    from playwright.sync_api import expect

    team = Team.objects.create(name="Support")
    person("anna", team=team)
    channel = messenger_channel(default_team=team)
    cdn.routes["/scontent/broken.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    with eager_celery(), responses.RequestsMock(assert_all_requests_are_fired=False) as web:
        web.add_passthru(re.compile(r"http://127\.0\.0\.1:\d+/"))
        web.post(graph(f"{PAGE_ID}/messages"), json=load("send_message_ok.json"))
        ingest_batch(
            channel_id=channel.pk,
            items=[
                item(
                    "m_in_1",
                    thread=f"dm:{PSID}",
                    kind="dm",
                    uid=PSID,
                    text="It arrived like this",
                    attachments=(
                        InboundAttachment(
                            kind="image",
                            url=cdn.url("/scontent/broken.jpg"),
                            alt_text="A dented box",
                        ),
                        InboundAttachment(
                            kind="location",
                            title="Pickup point",
                            latitude=52.3676,
                            longitude=4.9041,
                        ),
                    ),
                )
            ],
        )
        ticket = Ticket.objects.get(channel=channel)
        assert Attachment.objects.get(kind="image").state == "stored"

        page = log_in(browser, live_server, "anna")
        page.goto(f"{live_server.url}/inbox/t/{ticket.pk}/")
        photo = page.locator(".att-image img")
        expect(photo).to_have_attribute("alt", "A dented box")
        # The thumbnail loads through the permission-checked view.
        page.wait_for_function(
            "() => { const i = document.querySelector('.att-image img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=10_000,
        )
        expect(page.locator(".att-location")).to_contain_text("52.367600, 4.904100")
        expect(page.get_by_role("link", name="Show on OpenStreetMap")).to_have_attribute(
            "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=52\.367600")
        )

        # The viewer, by keyboard: focus the thumbnail, Enter opens, Escape closes.
        page.locator(".att-image a").focus()
        page.keyboard.press("Enter")
        viewer = page.locator("#media-viewer")
        expect(viewer).to_be_visible()
        expect(page.locator("#media-viewer-alt")).to_have_text("A dented box")
        page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()

        # The limits are shown before sending; the agent attaches a photo and sends.
        expect(page.locator("#reply-files-limits")).to_contain_text("Up to 10 file(s)")
        label = tmp_path / "return-label.jpg"
        label.write_bytes(jpeg((600, 400), gps=False))
        page.set_input_files("#reply-files", str(label))
        page.locator("#reply-text").fill("Here is a return label.")
        # Nobody holds the ticket: replying claims it for the agent.
        page.get_by_role("button", name="Claim and reply").click()
        expect(page.locator("#live .msg-out .delivery")).to_have_text("Sent", timeout=10_000)
        expect(page.locator("#live .msg-out .att-image img")).to_be_visible()
        sends = [c for c in web.calls if c.request.url.startswith(graph(f"{PAGE_ID}/messages"))]
    reply = Message.objects.get(ticket=ticket, direction="out")
    assert reply.delivery_state == "sent"
    assert reply.attachments.get().name == "return-label.jpg"
    # Messenger takes the text and each file as messages of their own: each sent once.
    assert len(sends) == 2
    first = sends[0].request.body
    text = parse_qs(first.decode() if isinstance(first, bytes) else first)["message"][0]
    assert json.loads(text)["text"].startswith("Here is a return label.")
    assert b"return-label.jpg" in sends[1].request.body
    assert page.errors == []
