"""Customer avatars come through our own proxy: pages never hold a platform's image URL, and the
server's fetch reaches only public https hosts, only images, within size, time and redirects.

No network exists here: HTTP answers come from ``responses`` and public DNS answers from a
stand-in resolver; "localhost" is really resolved (to 127.0.0.1 / ::1).
"""

from __future__ import annotations

import gzip
import socket
import threading

import pytest
import requests
import responses
from django.urls import reverse

from inbox.customers import avatars
from inbox.ingest.services import ingest_batch
from inbox.models import Identity, Team, Ticket
from tests.factories import author, item, make_channel
from tests.personas import person
from webcare import safe_http

pytestmark = pytest.mark.django_db

PIXEL = "https://tracker.example/pixel.png?who=agent"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def support():
    return Team.objects.create(name="Support")


@pytest.fixture
def anna(support):
    return person("anna", team=support)


def customer_ticket(team: Team, avatar_url: str) -> Ticket:
    result = ingest_batch(
        channel_id=make_channel().pk,
        items=[item("m1", author=author("u1", avatar_url=avatar_url), text="Hi")],
    )
    ticket = Ticket.objects.get(pk__in=result.ticket_ids)
    Ticket.objects.filter(pk=ticket.pk).update(team=team)
    return ticket


def avatar_url_of(ticket: Ticket) -> str:
    return reverse("inbox:avatar", args=[ticket.identity_id])


@pytest.fixture
def public_dns(monkeypatch):
    """Every host but localhost resolves to one public address (there is no DNS here)."""
    real = safe_http._addresses

    def addresses(host: str) -> list[str]:
        return real(host) if host == "localhost" else [PUBLIC_ADDRESS]

    monkeypatch.setattr(safe_http, "_addresses", addresses)


@pytest.fixture
def web():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def is_placeholder(response) -> bool:
    return response["Content-Type"] == "image/svg+xml" and response.content == avatars.PLACEHOLDER


# --- pages ------------------------------------------------------------------------------------
def test_the_thread_shows_the_avatar_through_our_proxy_never_the_platforms_url(
    client, support, anna
):
    ticket = customer_ticket(support, PIXEL)
    client.force_login(anna)
    page = client.get(reverse("inbox:thread", args=[ticket.pk])).content.decode()
    assert "tracker.example" not in page
    assert f'<img class="avatar" src="{avatar_url_of(ticket)}"' in page


def test_the_pages_allow_images_from_our_own_site_only(client, anna):
    client.force_login(anna)
    policy = client.get(reverse("inbox:index"))["Content-Security-Policy"]
    assert "img-src 'self';" in policy + ";"


# --- who may ask ------------------------------------------------------------------------------
def test_a_visitor_who_is_not_logged_in_gets_no_avatar(client, support, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=PNG, content_type="image/png")
    response = client.get(avatar_url_of(ticket))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert len(web.calls) == 0


def test_an_agent_of_another_team_gets_no_avatar_of_this_customer(client, support, web):
    ticket = customer_ticket(support, PIXEL)
    client.force_login(person("olga", team=Team.objects.create(name="Billing")))
    assert client.get(avatar_url_of(ticket)).status_code == 403
    assert len(web.calls) == 0


# --- what is fetched --------------------------------------------------------------------------
def test_a_public_image_is_served_with_safe_headers(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=PNG, content_type="image/png")
    client.force_login(anna)
    response = client.get(avatar_url_of(ticket))
    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_served_avatar_is_cached_and_not_fetched_again(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=PNG, content_type="image/png")
    client.force_login(anna)
    client.get(avatar_url_of(ticket))
    again = client.get(avatar_url_of(ticket))
    assert again.content == PNG
    assert len(web.calls) == 1


def test_a_new_avatar_url_is_fetched_afresh(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=PNG, content_type="image/png")
    web.get("https://cdn.example/new.png", body=PNG, content_type="image/png")
    client.force_login(anna)
    client.get(avatar_url_of(ticket))
    Identity.objects.filter(pk=ticket.identity_id).update(avatar_url="https://cdn.example/new.png")
    client.get(avatar_url_of(ticket))
    assert [c.request.url for c in web.calls] == [PIXEL, "https://cdn.example/new.png"]


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/avatar.png",  # resolves to 127.0.0.1 / ::1
        "https://127.0.0.1/avatar.png",
        "https://10.1.2.3/avatar.png",
        "https://192.168.0.1/avatar.png",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[::1]/avatar.png",
        "https://[::ffff:127.0.0.1]/avatar.png",
        "https://[fe80::1]/avatar.png",
        "https://224.0.0.1/avatar.png",
        "https://0.0.0.0/avatar.png",
        "https://240.0.0.1/avatar.png",
    ],
)
def test_the_proxy_never_fetches_from_a_non_public_address(client, support, anna, web, url):
    ticket = customer_ticket(support, url)
    web.get(url, body=PNG, content_type="image/png")
    client.force_login(anna)
    response = client.get(avatar_url_of(ticket))
    assert is_placeholder(response)
    assert len(web.calls) == 0


def test_a_host_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    monkeypatch.setattr(safe_http, "_addresses", lambda host: [PUBLIC_ADDRESS, "10.0.0.7"])
    with pytest.raises(avatars.Refused):
        avatars.checked_target("https://rebind.example/a.png")


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/a.png",
        "ftp://cdn.example/a.png",
        "https://user:pw@cdn.example/a.png",
        "https://cdn.example:8443/a.png",
        "javascript:alert(1)",
    ],
)
def test_only_https_urls_on_the_https_port_without_credentials_are_fetched(public_dns, url):
    with pytest.raises(avatars.Refused):
        avatars.checked_target(url)


def test_a_redirect_to_a_loopback_host_is_not_followed(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, status=302, headers={"Location": "https://localhost/admin.png"})
    web.get("https://localhost/admin.png", body=PNG, content_type="image/png")
    client.force_login(anna)
    assert is_placeholder(client.get(avatar_url_of(ticket)))
    assert [c.request.url for c in web.calls] == [PIXEL]


def test_three_redirects_are_followed_and_a_fourth_is_not(web, public_dns):
    hops = [f"https://cdn.example/{n}.png" for n in range(5)]
    for here, there in zip(hops, hops[1:], strict=False):
        web.get(here, status=302, headers={"Location": there})
    web.get(hops[4], body=PNG, content_type="image/png")
    assert avatars.fetch_image(hops[1]) == ("image/png", PNG)
    with pytest.raises(avatars.Refused, match="too many redirects"):
        avatars.fetch_image(hops[0])


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script>x()</script></svg>"),
        ("text/html", b"<html><script>x()</script></html>"),
        ("image/png", b"<html><script>x()</script></html>"),  # declared png, is not
        ("image/jpeg", PNG),  # another image type than declared
        ("application/octet-stream", PNG),
    ],
)
def test_only_allowed_image_types_are_served(
    client, support, anna, web, public_dns, content_type, body
):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=body, content_type=content_type)
    client.force_login(anna)
    assert is_placeholder(client.get(avatar_url_of(ticket)))


def test_an_image_over_the_size_cap_is_not_served(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, body=PNG + b"\x00" * avatars.MAX_BYTES, content_type="image/png")
    client.force_login(anna)
    assert is_placeholder(client.get(avatar_url_of(ticket)))


def test_a_compressed_body_is_not_inflated_or_served(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    body = gzip.compress(PNG)
    web.get(PIXEL, body=body, content_type="image/png", headers={"Content-Encoding": "gzip"})
    client.force_login(anna)
    assert is_placeholder(client.get(avatar_url_of(ticket)))


def test_a_failed_fetch_is_remembered_and_not_repeated(client, support, anna, web, public_dns):
    ticket = customer_ticket(support, PIXEL)
    web.get(PIXEL, status=404)
    client.force_login(anna)
    assert is_placeholder(client.get(avatar_url_of(ticket)))
    assert is_placeholder(client.get(avatar_url_of(ticket)))
    assert len(web.calls) == 1


def test_a_customer_without_an_avatar_gets_the_placeholder(client, support, anna, web):
    ticket = customer_ticket(support, "")
    client.force_login(anna)
    response = client.get(avatar_url_of(ticket))
    assert is_placeholder(response)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(web.calls) == 0


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup():
    """The host name is not looked up again when connecting (it would not resolve here): the
    socket goes to the address the check approved."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    reached = threading.Event()

    def accept() -> None:
        conn, _ = listener.accept()
        reached.set()
        conn.close()

    threading.Thread(target=accept, daemon=True).start()
    with requests.Session() as session:
        session.trust_env = False
        session.mount("https://", safe_http._PinnedAdapter("127.0.0.1"))
        with pytest.raises(requests.RequestException):
            session.get(f"https://unresolvable.invalid:{port}/a.png", timeout=3)
    listener.close()
    assert reached.wait(3)
