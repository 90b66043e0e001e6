"""Template helpers for the inbox: relative and due times, safe platform links, and the two
hottest loops (the thread's messages and the list's rows) rendered in Python."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels.registry import appearance
from inbox.screen.thread_html import (
    _ago,
    _message_html,
    _thread_render,
    _time,
    platform_link,
    span,
    stars,
    web_url,
)
from inbox.tickets.selectors import AT_RISK

register = template.Library()


def ago(value: dt.datetime, now: dt.datetime | None = None) -> str:
    return _ago(max(0, int(((now or timezone.now()) - value).total_seconds())))


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
def until(value: dt.datetime | None) -> str:
    """``<time>`` for a moment ahead (a snooze's end): "today 17:00", "tomorrow 09:00",
    "Mon 14 Dec 09:00" in the user's time zone; a moment already past reads "now"."""
    if value is None:
        return ""
    now = timezone.localtime()
    local = timezone.localtime(value)
    clock = local.strftime("%H:%M")
    days = (local.date() - now.date()).days
    if value <= now:
        label = _("now")
    elif days == 0:
        label = _("today %(time)s") % {"time": clock}
    elif days == 1:
        label = _("tomorrow %(time)s") % {"time": clock}
    else:
        label = date_format(local, "D j M") + " " + clock
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or ""),
        label,
    )


def due_label(value: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """The SLA state ("overdue", "soon", "ok") and its label: "due in 12 min", "overdue 5 min"."""
    seconds = int((value - now).total_seconds())
    if seconds <= 0:
        late = -seconds
        if late < 60:
            return "overdue", _("due now")
        return "overdue", _("overdue %(time)s") % {"time": span(late)}
    # Amber within the "At risk" view's window.
    state = "soon" if value - now <= AT_RISK else "ok"
    if seconds < 60:
        return state, _("due now")
    return state, _("due in %(time)s") % {"time": span(seconds)}


def _due(value: dt.datetime | None, now: dt.datetime) -> str:
    if value is None:
        return ""
    state, label = due_label(value, now)
    local = timezone.localtime(value)
    return format_html(
        '<time class="due due-{}" datetime="{}" title="{}">{}</time>',
        state,
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or ""),
        label,
    )


@register.simple_tag
def due(value: dt.datetime | None) -> str:
    """The SLA due time: relative ("due in 12 min", "overdue 5 min"), the exact local time on
    hover, and a class for its colour (overdue red, due within 30 minutes amber)."""
    return _due(value, timezone.now())


def avatar_src(identity_id: int | None, url: str) -> str:
    """Where the agent's browser loads an identity's avatar: our own proxy
    (``inbox.customers.avatars``), never the platform's URL, which could track who opens the ticket.
    "" when the identity has no http(s) avatar to show."""
    from django.urls import reverse

    if identity_id is None or not web_url(url):
        return ""
    return reverse("inbox:avatar", args=[identity_id])


@register.filter
def avatar(identity) -> str:
    """``{{ identity|avatar }}``: the proxy URL of an identity's avatar (see :func:`avatar_src`)."""
    if identity is None:
        return ""
    return avatar_src(identity.pk, identity.avatar_url)


register.simple_tag(platform_link)
register.filter("stars", stars)


@register.filter
def channel_text(kind: str) -> str:
    """The kind as plain text ("𝕏 X"), where no markup may go (an <option>)."""
    icon, label, _colour = appearance(kind)
    return f"{icon} {label}"


@register.filter
def channel_icon(kind: str) -> str:
    """The kind as a badge: its icon on its colour, and its short name (``Connector.icon``,
    ``colour``, ``short_label``), so no kind is told apart by colour alone."""
    icon, label, _colour = appearance(kind)
    return format_html(
        '<span class="chan chan-{}"><span class="chan-icon" aria-hidden="true">{}</span>'
        '<span class="chan-label">{}</span></span>',
        kind,
        icon,
        label,
    )


@register.simple_tag(takes_context=True)
def thread_messages(context, messages, ticket) -> str:
    """The messages of a thread, rendered in Python.

    A long thread is the hottest loop of the inbox (200 messages took ~36 ms through the template
    engine, ~5 ms here). Every value from a platform goes through ``format_html``/``escape``;
    nothing is marked safe that was not built here.
    """
    r = _thread_render(context, messages, ticket)
    parts = [_message_html(m, r) for m in messages]
    return mark_safe("\n".join(parts))  # noqa: S308 - every value escaped in _message_html


@register.filter
def intent_label(value: str) -> str:
    """complaint → "Complaint", in the user's language."""
    from inbox.models import Intent

    return str(dict(Intent.choices).get(value, value or "—"))


@register.filter
def evidence_rule(rule: str) -> str:
    """The name of an intent rule (``inbox.engines.intent.Evidence.rule``) in the user's
    language."""
    return {
        "lexicon": _("word"),
        "emoji": _("emoji"),
        "negation": _("negation"),
        "intensifier": _("intensified"),
        "capitals": _("capitals"),
        "sarcasm": _("sarcasm"),
        "question": _("question"),
        "chatter": _("chatter"),
        "spam": _("spam"),
        "rating": _("stars"),
    }.get(rule, rule)


@register.filter
def signed(value: float) -> str:
    """+3, -1.5: points with their sign."""
    return f"{value:+g}"


@register.simple_tag
def assign_options(choices, selected_id) -> str:
    """The lead's assign control: one ``<option>`` per agent with their load, rendered in
    Python (through the template engine, 100 agents' options were a fifth of a lead's thread).
    Names are escaped; the rest are numbers and our own labels."""
    if not choices:
        return ""
    labels = {"away": _("away"), "off": _("off shift"), "full": _("full")}
    template = _("%(name)s — %(open)s/%(capacity)s open")
    parts = []
    for a in choices:
        text = template % {"name": a.name, "open": int(a.open_tickets), "capacity": a.capacity}
        if not a.available:
            text += " · " + labels["away"]
        elif not a.on_shift:
            text += " · " + labels["off"]
        if a.open_tickets >= a.capacity:
            text += " · " + labels["full"]
        selected = " selected" if a.user_id == selected_id else ""
        parts.append(f'<option value="{int(a.user_id)}"{selected}>{escape(text)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above


class _RowParts:
    """What the rows of one list share, built once: labels, the thread URL around the id, and
    each channel's and assignee's escaped name as first met."""

    def __init__(self, query: str) -> None:
        from django.urls import reverse

        from inbox.models import TicketKind, TicketStatus

        self.now = timezone.now()
        self.select_label = escape(_("Select ticket"))
        # The thread URL of each row: reverse once, then put each id in.
        marker = 987654321
        self.url_head, self.url_tail = reverse("inbox:thread", args=[marker]).split(str(marker))
        self.query = escape(query)
        self.kinds = {value: escape(label) for value, label in TicketKind.choices}
        self.statuses = {value: escape(label) for value, label in TicketStatus.choices}
        self.viewing, self.typing = _("%(name)s is viewing"), _("%(name)s is typing…")
        self._channels: dict[int, tuple[str, str, str]] = {}
        self._people: dict[int, str] = {}
        self.ago_labels: dict[int, str] = {}
        self._clips: dict[int, str] = {}

    def channel(self, t) -> tuple[str, str, str]:
        """The channel's escaped name, its kind and its icon."""
        channel = self._channels.get(t.channel_id)
        if channel is None:
            channel = self._channels[t.channel_id] = (
                escape(t.channel.name),
                escape(t.channel.kind),
                channel_icon(t.channel.kind),
            )
        return channel

    def assignee(self, t) -> str:
        if t.assignee_id is None:
            return "—"
        assignee = self._people.get(t.assignee_id)
        if assignee is None:
            user = t.assignee
            assignee = self._people[t.assignee_id] = escape(
                user.get_full_name() or user.get_username()
            )
        return assignee

    def clip(self, t) -> str:
        """The paperclip with the number of attachments, if any."""
        n = getattr(t, "attachment_count", 0) or 0
        if not n:
            return ""
        if n not in self._clips:
            self._clips[n] = escape(ngettext("%(n)s attachment", "%(n)s attachments", n) % {"n": n})
        return f'<span class="paperclip" title="{self._clips[n]}">📎 {int(n)}</span> '

    def viewers(self, t) -> str:
        """Who else has the ticket open, and who of them is typing."""
        if not getattr(t, "viewers", None):
            return ""
        return (
            '<div class="viewers">'
            + "".join(
                '<span class="viewer">{}</span>'.format(
                    escape((self.typing if p["typing"] else self.viewing) % {"name": p["name"]})
                )
                for p in t.viewers
            )
            + "</div>"
        )


def _ticket_row(parts: _RowParts, t, selected_id) -> str:
    """One row of the inbox list: every value from a platform or a user escaped here."""
    pk = int(t.pk)
    channel = parts.channel(t)
    kind = parts.kinds.get(t.kind) or escape(t.kind)
    identity = t.identity
    name = identity.display_name if identity is not None else ""
    if not name:
        name = t.customer if t.customer is not None else "—"
    handle = (
        f'\n                <span class="handle">@{escape(identity.handle)}</span>'
        if identity is not None and identity.handle
        else ""
    )
    rating = ""
    if t.rating:
        rating = f'<span class="stars" aria-label="{int(t.rating)} / 5">{stars(t.rating)}</span>'
    tags = "".join(f'<span class="tag">{escape(tag.name)}</span>' for tag in t.tags.all())
    href = f"{parts.url_head}{pk}{parts.url_tail}?{parts.query}"
    now, clip = parts.now, parts.clip(t)
    waited = _time(t.waiting_since, now, None, parts.ago_labels) if t.waiting_since else ""
    return (
        f'<tr id="row-{pk}" class="row{" selected" if pk == selected_id else ""}" '
        f'data-id="{pk}">\n'
        f'            <td><input type="checkbox" name="ticket" value="{pk}" form="bulk-form" '
        f'aria-label="{parts.select_label} {pk}"></td>\n'
        f'            <td class="icon" title="{channel[0]} · {kind}"><span class="ch '
        f'ch-{channel[1]}">{channel[2]}</span> <small>{kind}</small></td>\n'
        '            <td class="who">\n'
        f'              <a class="open" href="{href}" hx-get="{href}" '
        'hx-target="#thread-pane" hx-swap="innerHTML" hx-push-url="true">\n'
        f'                <strong class="name">{escape(name)}</strong>{handle}\n'
        "              </a>\n"
        f"              {rating}\n"
        f'              <div class="preview">{clip}{escape(t.last_message_preview)}</div>\n'
        f"              {parts.viewers(t)}\n"
        "            </td>\n"
        f'            <td class="wait">{waited}</td>\n'
        f'            <td class="sla">{_due(t.due_at, now)}</td>\n'
        f'            <td><span class="status status-{escape(t.status)}">'
        f"{parts.statuses.get(t.status) or escape(t.status)}</span></td>\n"
        f'            <td class="assignee">{parts.assignee(t)}</td>\n'
        f"            <td>{tags}</td>\n"
        "          </tr>"
    )


@register.simple_tag
def ticket_rows(tickets, selected_id, query: str) -> str:
    """The rows of the inbox list, rendered in Python.

    The same HTML the row template gave; 50 rows were most of a list request's time through
    the template engine (see docs/benchmarks.md, Inbox). Every value from a platform or a user
    (names, handles, previews, tags, channel names) goes through ``escape``; numbers are
    formatted from ints; nothing is marked safe that was not built here.
    """
    if not tickets:
        return ""
    parts = _RowParts(query)
    rows = [_ticket_row(parts, t, selected_id) for t in tickets]
    return mark_safe("\n".join(rows))  # noqa: S308 - every value escaped in _ticket_row
