"""What an agent sees of a customer's attachments, and how the files are served: only to who
may see the ticket, never as a page of ours."""

from __future__ import annotations

import pytest
from django.urls import reverse

from channels.base import InboundAttachment
from inbox.ingest.services import ingest_batch
from inbox.media import services
from inbox.models import Attachment, Team, Ticket
from tests.channels.facebook.support import messenger_channel
from tests.factories import item
from tests.media_cdn import SVG_WITH_SCRIPT, Route, jpeg
from tests.personas import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def agent(client, support):
    client.force_login(person("anna", team=support))
    return client


def ticket_with(support, *attachments, text="See attached") -> Ticket:
    channel = messenger_channel(default_team=support)
    ingest_batch(
        channel_id=channel.pk, items=[item("m1", text=text, attachments=tuple(attachments))]
    )
    return Ticket.objects.get(channel=channel)


def fetch_all() -> None:
    for pk in Attachment.objects.filter(state="pending").values_list("pk", flat=True):
        services.attachment_fetch(attachment_id=pk)


def thread_html(client, ticket) -> str:
    return client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()


def file_url(attachment, variant="file"):
    return reverse("inbox:attachment", args=[attachment.pk, variant])


# --- the thread -------------------------------------------------------------------------------
def test_an_attachment_not_fetched_yet_shows_loading(agent, support):
    ticket = ticket_with(support, InboundAttachment(kind="image", url="https://x.test/a.jpg"))
    assert "Loading attachment…" in thread_html(agent, ticket)


def test_a_stored_photo_shows_its_thumbnail_alt_text_and_opens_in_the_viewer(agent, support, cdn):
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    ticket = ticket_with(
        support, InboundAttachment(kind="image", url=cdn.url("/p.jpg"), alt_text="Dented box")
    )
    fetch_all()
    photo = Attachment.objects.get()
    html = thread_html(agent, ticket)
    assert f'<img src="{file_url(photo, "thumb")}" alt="Dented box"' in html
    assert f'data-viewer="{file_url(photo)}"' in html
    assert "Alt text: Dented box" in html
    assert 'id="media-viewer"' in html


def test_a_location_shows_coordinates_and_an_openstreetmap_link(agent, support):
    ticket = ticket_with(
        support,
        InboundAttachment(
            kind="location", title="Pickup point", latitude=52.3676, longitude=4.9041
        ),
        text="",
    )
    html = thread_html(agent, ticket)
    assert "52.367600, 4.904100" in html
    assert "https://www.openstreetmap.org/?mlat=52.367600&amp;mlon=4.904100" in html
    assert "Pickup point" in html


def test_a_file_that_is_gone_says_so_with_the_reason(agent, support, cdn):
    ticket = ticket_with(support, InboundAttachment(kind="file", url=cdn.url("/gone.pdf")))
    fetch_all()
    assert "No longer available: the platform answered 404" in thread_html(agent, ticket)


def test_a_file_shows_its_name_size_type_and_a_download(agent, support, cdn):
    cdn.routes["/inv"] = Route(content_type="application/pdf", body=b"%PDF-1.7\n" + bytes(2000))
    ticket = ticket_with(
        support, InboundAttachment(kind="file", url=cdn.url("/inv"), name="invoice.pdf")
    )
    fetch_all()
    html = thread_html(agent, ticket)
    assert "invoice.pdf" in html
    assert "2.0\xa0KB · application/pdf" in html
    assert f'href="{file_url(Attachment.objects.get(), "download")}" download' in html


def test_platform_values_in_attachments_are_escaped(agent, support):
    ticket = ticket_with(
        support,
        InboundAttachment(
            kind="link", title="<img src=x onerror=alert(1)>", detail={"url": "javascript:x"}
        ),
    )
    html = thread_html(agent, ticket)
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:x"' not in html


def test_the_list_row_shows_a_paperclip_with_the_count(agent, support):
    ticket_with(
        support,
        InboundAttachment(kind="image", url="https://x.test/a.jpg"),
        InboundAttachment(kind="image", url="https://x.test/b.jpg"),
    )
    html = agent.get(reverse("inbox:index")).content.decode()
    assert 'title="2 attachments">📎 2</span>' in html


# --- serving ----------------------------------------------------------------------------------
def test_a_photo_is_served_inline_with_nosniff_and_a_sandbox(agent, support, cdn):
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    ticket_with(support, InboundAttachment(kind="image", url=cdn.url("/p.jpg")))
    fetch_all()
    response = agent.get(file_url(Attachment.objects.get()))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == jpeg()


def test_an_svg_is_only_ever_a_download(agent, support, cdn):
    cdn.routes["/s.svg"] = Route(content_type="image/svg+xml", body=SVG_WITH_SCRIPT)
    ticket = ticket_with(support, InboundAttachment(kind="image", url=cdn.url("/s.svg")))
    fetch_all()
    svg = Attachment.objects.get()
    response = agent.get(file_url(svg))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "<img" not in thread_html(agent, ticket).split('class="atts"')[1].split("</div>")[0]


def test_an_agent_of_another_team_cannot_fetch_the_file(client, support, cdn):
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    ticket_with(support, InboundAttachment(kind="image", url=cdn.url("/p.jpg")))
    fetch_all()
    other = Team.objects.create(name="Billing")
    client.force_login(person("bert", team=other))
    photo = Attachment.objects.get()
    # Tickets of Support are not his: the file is not served to him.
    Ticket.objects.update(team=support)
    assert client.get(file_url(photo)).status_code == 403
    assert client.get(file_url(photo, "thumb")).status_code == 403


def test_a_signed_out_visitor_is_sent_to_the_login(client, support, cdn):
    cdn.routes["/p.jpg"] = Route(content_type="image/jpeg", body=jpeg())
    ticket_with(support, InboundAttachment(kind="image", url=cdn.url("/p.jpg")))
    fetch_all()
    response = client.get(file_url(Attachment.objects.get()))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_attachment_labels_are_in_dutch_for_dutch_agents(support):
    from django.utils import translation

    from inbox.media.render import attachments_html

    ticket_with(
        support,
        InboundAttachment(kind="image", url="https://x.test/a.jpg"),
        InboundAttachment(kind="location", latitude=52.1, longitude=5.1),
    )
    with translation.override("nl"):
        html = attachments_html(list(Attachment.objects.order_by("position")))
    assert "Bijlage wordt geladen…" in html
    assert "Bekijk op OpenStreetMap" in html
