"""Which media URLs a connector may fetch, checked against its ``media_hosts`` and
``media_local_dir`` (re-exported by ``channels.base``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Connector


def host_allowed(host: str, hosts: tuple[str, ...] | list[str]) -> bool:
    """Whether ``host`` is one of ``hosts`` (exact names, or ".suffix" entries)."""
    host = (host or "").lower().rstrip(".")
    if not host:
        return False
    for allowed in hosts:
        allowed = allowed.lower()
        if allowed.startswith("."):
            if host.endswith(allowed) and len(host) > len(allowed):
                return True
        elif host == allowed:
            return True
    return False


def media_url_allowed(connector: Connector | type[Connector], url: str) -> bool:
    """Whether a media URL is on the connector's allow-list: ``https`` on one of its
    ``media_hosts``, or a ``file://`` URL inside its ``media_local_dir`` (and nowhere else,
    after resolving "..", symlinks). Address checks (no private, loopback or link-local IPs)
    are the fetcher's, on top of this."""
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url or "")
    if parts.scheme == "https":
        if parts.username or parts.password:
            return False
        return host_allowed(parts.hostname or "", connector.media_hosts)
    if parts.scheme == "file" and connector.media_local_dir and parts.netloc in ("", "localhost"):
        root = Path(connector.media_local_dir).resolve()
        target = Path(unquote(parts.path)).resolve()
        return target.is_file() and target.is_relative_to(root)
    return False
