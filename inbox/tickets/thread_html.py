"""Pieces of the thread pane's HTML built in Python (the hottest loop of the inbox, see
inbox.templatetags.inbox_tags.thread_messages): earlier versions, returned replies, times."""

from __future__ import annotations

import datetime as dt
from html import escape as html_escape

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _earlier_versions(versions: list, title: str, tz) -> str:
    """The earlier texts of an edited message, oldest first, escaped like the message itself."""
    rows = []
    for version in versions:
        if not isinstance(version, dict):
            continue
        text = str(version.get("text") or "")
        when = ""
        at = parse_datetime(str(version.get("at") or ""))
        if at is not None:
            local = at.astimezone(tz) if tz is not None else timezone.localtime(at)
            when = f'<time datetime="{html_escape(at.isoformat())}">{local:%Y-%m-%d %H:%M}</time> '
        body = html_escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")
        rows.append(f"<li>{when}{body}</li>")
    if not rows:
        return ""
    return f'<details class="versions"><summary>{title}</summary><ol>{"".join(rows)}</ol></details>'


def _returned(m, *, labels: dict, mine: bool, signature: str, csrf: str, urls) -> str:
    """A reply a lead returned: the lead's comment and, for its author, edit and resubmit or
    discard."""
    from inbox.replies.review import reply_body

    note = format_html(
        '<p class="review-note" role="status"><strong>{}:</strong> {}</p>',
        labels["returned"],
        m.review_note,
    )
    if not mine:
        return note
    resubmit_url, discard_url = urls
    return format_html(
        '{}<form method="post" action="{}" hx-post="{}" hx-target="#live" class="review-edit">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="message" value="{}">'
        '<label>{} <textarea name="text" rows="3">{}</textarea></label>'
        '<button type="submit">{}</button></form>'
        '<form method="post" action="{}" hx-post="{}" hx-target="#live" class="inline">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="message" value="{}">'
        '<button type="submit">{}</button></form>',
        note,
        resubmit_url,
        resubmit_url,
        csrf,
        m.pk,
        labels["edit"],
        reply_body(m, signature),
        labels["resubmit"],
        discard_url,
        discard_url,
        csrf,
        m.pk,
        labels["discard"],
    )


def _time(value: dt.datetime, now: dt.datetime, tz, labels: dict[int, str]) -> str:
    """``<time>`` with the relative label and the exact local time on hover; ``labels`` keeps
    the escaped relative labels by whole minute across the rows or messages of one render."""
    local = value.astimezone(tz) if tz is not None else timezone.localtime(value)
    seconds = max(0, int((now - value).total_seconds()))
    label = labels.get(seconds // 60)
    if label is None:
        label = labels[seconds // 60] = html_escape(_ago(seconds))
    return (
        f'<time datetime="{value.isoformat()}" title="'
        f'{html_escape(local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or ""))}">'
        f"{label}</time>"
    )


def _ago(seconds: int) -> str:
    return _("now") if seconds < 60 else span(seconds)


def span(seconds: int) -> str:
    """A duration of at least a minute as people read it: whole minutes under the hour ("12
    min"), then rounded to the nearest hour or day ("3 h" for 2 h 56 min, not "2 h")."""
    minutes = max(1, seconds // 60)
    if minutes < 60:
        return ngettext("%(n)d min", "%(n)d min", minutes) % {"n": minutes}
    hours = round(minutes / 60)
    if hours < 48:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    days = round(hours / 24)
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
