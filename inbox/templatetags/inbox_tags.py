"""Small template helpers for the inbox: relative times and safe platform links."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
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
    # ISO-like and unambiguous in both languages; cheaper than locale formats in long threads.
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or ""),
        ago(value),
    )


@register.simple_tag
def platform_link(url: str, label: str) -> str:
    """A link to the platform, only for http(s) URLs, never passing our page as referrer."""
    if not url or not url.startswith(("https://", "http://")):
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
