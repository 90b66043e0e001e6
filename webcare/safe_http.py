"""One way for the server to fetch a URL that came from outside: avatars and customers' media.

A URL in a platform payload is whatever the sender (or a forger) put there. The server's fetch
must not become a way into our own network (SSRF) nor a way to fill its memory, so
:func:`stream`

- takes only ``https`` URLs on the default port, without user names or passwords, and, when
  the caller passes ``url_allowed`` (for media: ``channels.base.media_url_allowed`` with the
  connector's ``media_hosts``), only URLs it accepts, redirect targets included;
- resolves the host itself and refuses it unless *every* address is public (no private,
  loopback, link-local, multicast, reserved or unspecified address, IPv4-mapped ones included),
  then connects to that checked address (:class:`_PinnedAdapter`), so a second DNS answer
  (rebinding) cannot send the connection elsewhere; TLS still verifies the host's certificate;
- follows at most ``max_redirects`` redirects, checking every hop the same way (host list
  included);
- streams the body to the caller's ``sink`` in chunks, stopping at ``max_bytes`` without reading
  the rest (the connection is closed, not drained), within ``TIMEOUT`` per read and ``deadline``
  in all, uncompressed only (a gzip body would be inflated before the cap counts it), and
  ignores proxy settings from the environment.

Failures are typed for the caller's retry policy: :class:`Refused` (our rules said no: never
retried), :class:`Gone` (the server says the file is not there: 404, 410, an expired signed
link's 403) and :class:`Temporary` (timeouts, resets, 5xx, 429: worth another try).

Tests fetch from a server thread on 127.0.0.1; ``SAFE_FETCH_LOCAL_HOSTS`` (a setting that is
empty unless a test sets it, and is never read from the environment) lists loopback
``host:port`` pairs that may then be fetched over plain http. Nothing else relaxes the rules.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection as urllib3_connection

TIMEOUT = (3.0, 10.0)  # (connect, each read) seconds
CHUNK = 64 * 1024


class FetchError(Exception):
    """Base of the fetch's failures; ``reason`` is short and safe to show an agent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(FetchError):
    """The URL, its host or what it answered breaks our rules: never retried."""


class Gone(FetchError):
    """The server says the file is not there (404, 410, an expired link): never retried."""


class Temporary(FetchError):
    """A timeout, a reset, a 5xx or a 429: another try later may work."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server said about the body the sink received."""

    url: str  # after redirects
    declared_type: str
    size: int


# --- where a URL may go -----------------------------------------------------------------------
def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _addresses(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        found = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _local(parts) -> bool:
    """A loopback test server named in ``SAFE_FETCH_LOCAL_HOSTS`` (tests only)."""
    allowed = getattr(settings, "SAFE_FETCH_LOCAL_HOSTS", ()) or ()
    if not allowed or parts.hostname is None:
        return False
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
    return loopback and f"{parts.hostname}:{parts.port}" in allowed


def checked_target(
    url: str, url_allowed: Callable[[str], bool] | None = None
) -> tuple[str, str | None]:
    """(host, public address to connect to) for ``url``, or :class:`Refused`. The address is
    None for a test server of ``SAFE_FETCH_LOCAL_HOSTS``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("not a URL") from exc
    if _local(parts) and parts.scheme in ("http", "https"):
        return parts.hostname or "", None
    if parts.scheme != "https":
        raise Refused("not https")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise Refused("no host, or credentials in the URL")
    if port not in (None, 443):
        raise Refused("not the https port")
    if url_allowed is not None and not url_allowed(url):
        raise Refused(f"{parts.hostname} is not one of the platform's media hosts")
    addresses = _addresses(parts.hostname)
    if not addresses or not all(_public(a) for a in addresses):
        # All of them: with one private answer among public ones, which one a client uses is
        # the attacker's choice.
        raise Refused(f"{parts.hostname} resolves to a non-public address")
    return parts.hostname, addresses[0]


class _PinnedHTTPSConnection(HTTPSConnection):
    """Connects to ``pinned_address`` instead of resolving the host again; the host name is
    still what TLS sends (SNI) and verifies the certificate against."""

    pinned_address = ""

    def _new_conn(self) -> socket.socket:
        try:
            return urllib3_connection.create_connection(
                (self.pinned_address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to connect: {exc}") from exc


class _PinnedAdapter(HTTPAdapter):
    """A requests adapter whose https connections go to one checked address (no retries)."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        connection = type(
            "PinnedConnection", (_PinnedHTTPSConnection,), {"pinned_address": self._address}
        )
        pool = type("PinnedPool", (HTTPSConnectionPool,), {"ConnectionCls": connection})
        self.poolmanager.pool_classes_by_scheme = {"https": pool}


# --- the fetch --------------------------------------------------------------------------------
def stream(
    url: str,
    *,
    sink: Callable[[bytes], None],
    max_bytes: int,
    deadline: float,
    url_allowed: Callable[[str], bool] | None = None,
    headers: dict[str, str] | None = None,
    accept: str = "*/*",
    max_redirects: int = 3,
    timeout: tuple[float, float] = TIMEOUT,
) -> Answer:
    """Fetch ``url`` under the rules above, handing the body to ``sink`` chunk by chunk.

    ``url_allowed`` None takes any public host (avatars: every platform's profile images).
    ``headers`` (a connector's credentials) go to the first host only, never
    to a host a redirect names.
    """
    started = time.monotonic()
    first_host = None
    for _hop in range(max_redirects + 1):
        host, address = checked_target(url, url_allowed)
        first_host = first_host or host
        with requests.Session() as session:
            session.trust_env = False  # no proxy or .netrc from the environment
            if address is not None:
                session.mount("https://", _PinnedAdapter(address))
            sent = {
                "Accept": accept,
                # Media is compressed already; a gzip body would be inflated before the size
                # cap sees it (a small body, a huge file in memory).
                "Accept-Encoding": "identity",
            }
            if headers and host == first_host:
                sent.update(headers)
            try:
                response = session.get(
                    url, stream=True, allow_redirects=False, timeout=timeout, headers=sent
                )
            except requests.RequestException as exc:
                raise Temporary(f"fetch failed: {type(exc).__name__}") from exc
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                status = response.status_code
                if status in (404, 410):
                    raise Gone(f"the platform answered {status}")
                if status == 403:
                    # Meta's signed CDN links answer 403 once they expire.
                    raise Gone("the link has expired (403)")
                if status == 429 or status >= 500:
                    raise Temporary(f"the platform answered {status}")
                if status != 200:
                    raise Refused(f"the platform answered {status}")
                if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                    raise Refused("a compressed body")
                declared = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                length = response.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > max_bytes:
                    raise Refused(f"larger than the limit of {max_bytes} bytes")
                size = 0
                try:
                    for chunk in response.iter_content(CHUNK):
                        size += len(chunk)
                        if size > max_bytes:
                            # Leaving the ``with`` closes the connection: the rest is not read.
                            raise Refused(f"larger than the limit of {max_bytes} bytes")
                        if time.monotonic() - started > deadline:
                            raise Temporary("too slow")
                        sink(chunk)
                except (requests.RequestException, OSError) as exc:
                    raise Temporary(f"read failed: {type(exc).__name__}") from exc
                except Exception as exc:  # urllib3's protocol and timeout errors
                    if isinstance(exc, FetchError):
                        raise
                    raise Temporary(f"read failed: {type(exc).__name__}") from exc
            return Answer(url=url, declared_type=declared, size=size)
    raise Refused("too many redirects")
