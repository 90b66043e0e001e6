"""Small template helpers for the inbox: relative times and safe platform links."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

CHANNEL_ICONS = {"x": "𝕏", "facebook": "f", "messenger": "m", "simulator": "◎"}


def ago(value: dt.datetime, now: dt.datetime | None = None) -> str:
    seconds = max(0, int(((now or timezone.now()) - value).total_seconds()))
    if seconds < 60:
        return _("now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.simple_tag
def reltime(value: dt.datetime | None) -> str:
    """``<time>`` with a relative label and the exact local time on hover."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        date_format(local, "DATETIME_FORMAT") + " " + local.tzname(),
        ago(value),
    )


def web_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL, else "": platforms' URLs are untrusted, and a
    ``javascript:``, ``data:`` or relative one must never reach an ``href`` or ``src``."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


@register.filter
def avatar(url: str) -> str:
    """An avatar URL safe to hand to the agent's browser (never fetched by our server)."""
    return web_url(url)


@register.simple_tag
def platform_link(url: str, label: str) -> str:
    """A link to the platform, only for http(s) URLs, never passing our page as referrer."""
    url = web_url(url)
    if not url:
        return ""
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', url, label
    )


@register.filter
def channel_icon(kind: str) -> str:
    return CHANNEL_ICONS.get(kind, "•")


@register.filter
def stars(rating: int | None) -> str:
    if not rating:
        return ""
    return "★" * rating + "☆" * (5 - rating)
