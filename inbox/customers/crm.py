"""The CRM panel: what the business's CRM knows about a customer, next to the thread.

A configured look-up URL (``CRM_LOOKUP_URL``) gets a signed GET with the customer's identities
(``identity=<platform>:<platform user id>:<handle>``, repeated, and ``customer=<id>``), signed
like the outbound webhooks (``Webcare-Signature: t=…,v1=HMAC-SHA256(CRM_SECRET, "<t>.<query>")``).
It answers a JSON object; its keys and values are shown as escaped text, a value that is an
``http(s)`` URL as a link.

The CRM must never slow or break the thread: the panel is loaded by htmx after the thread has
rendered, the call has a short ``TIMEOUT``, a good answer is cached for ``FRESH`` and kept as
the last good value for ``KEEP``; when the CRM is slow or down the panel shows the last good
value with a quiet note, or only the note. Attributes the CRM pushed through the API
(``Customer.attributes``) are shown too, under the looked-up ones.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache

from inbox.models import Customer

log = logging.getLogger(__name__)

TIMEOUT = (1.0, 2.0)
FRESH = 5 * 60
KEEP = 7 * 24 * 60 * 60
MAX_BYTES = 64 * 1024
MAX_ITEMS = 50


@dataclass
class Panel:
    items: list[tuple[str, str, str]] = field(default_factory=list)  # key, text, link or ""
    pushed: list[tuple[str, str, str]] = field(default_factory=list)
    note: str = ""  # "", "stale" or "unavailable"
    configured: bool = False


def configured() -> bool:
    return bool(getattr(settings, "CRM_LOOKUP_URL", ""))


def _link(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    return value if parts.scheme in ("http", "https") and parts.netloc else ""


def _items(data: Any) -> list[tuple[str, str, str]]:
    if not isinstance(data, dict):
        return []
    out = []
    for key, value in list(data.items())[:MAX_ITEMS]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = text[:500]
        out.append((str(key)[:100], text, _link(text) if isinstance(value, str) else ""))
    return out


def _query(customer: Customer) -> str:
    identities = [
        f"{i.platform}:{i.platform_user_id}:{i.handle}"
        for i in customer.identities.order_by("pk")[:20]
    ]
    return urlencode([("customer", customer.pk), *(("identity", v) for v in identities)])


def _fetch(customer: Customer) -> dict:
    from webcare import signed_http

    query = _query(customer)
    base = settings.CRM_LOOKUP_URL
    url = f"{base}{'&' if '?' in base else '?'}{query}"
    target, extra = signed_http.target(url)
    pin = extra.pop("__pin__", None)
    secret = getattr(settings, "CRM_SECRET", "")
    headers = {"Accept": "application/json", **extra}
    headers["Webcare-Signature"] = signed_http.signature_header(secret, query.encode())
    response = signed_http._session(f"crm:{target}", pin).get(
        target, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True
    )
    response.raise_for_status()
    body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    if len(body) > MAX_BYTES:
        raise ValueError("CRM answer too large")
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("CRM answer is not an object")
    return data


def crm_panel(customer: Customer | None) -> Panel:
    if customer is None:
        return Panel()
    panel = Panel(configured=configured(), pushed=_items(customer.attributes or {}))
    if not panel.configured:
        return panel
    fresh_key, good_key = f"crm:fresh:{customer.pk}", f"crm:good:{customer.pk}"
    data = cache.get(fresh_key)
    if data is None:
        try:
            data = _fetch(customer)
        except Exception as exc:  # noqa: BLE001 - any CRM failure is a quiet note
            log.info("crm: look-up failed for customer %s: %s", customer.pk, type(exc).__name__)
            data = cache.get(good_key)
            panel.note = "stale" if data is not None else "unavailable"
        else:
            cache.set(fresh_key, data, FRESH)
            cache.set(good_key, data, KEEP)
    panel.items = _items(data or {})
    return panel
