"""Template helpers for the inbox: relative and due times, safe platform links, and the two
hottest loops (the thread's messages and the list's rows) rendered in Python."""

from __future__ import annotations

import datetime as dt
from html import escape as html_escape

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels.registry import appearance
from inbox.media.render import attachments_html
from inbox.media.selectors import thread_attachments
from inbox.tickets.selectors import AT_RISK
from inbox.tickets.thread_html import _ago, _earlier_versions, _returned, _time, span

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


def web_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL, else "": platforms' URLs are untrusted, and a
    ``javascript:``, ``data:`` or relative one must never reach an ``href`` or ``src``."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


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


@register.filter
def stars(rating: int | None) -> str:
    if not rating:
        return ""
    return "★" * rating + "☆" * (5 - rating)


@register.simple_tag(takes_context=True)
def thread_messages(context, messages, ticket) -> str:
    """The messages of a thread, rendered in Python.

    A long thread is the hottest loop of the inbox (200 messages took ~36 ms through the template
    engine, ~5 ms here). Every value from a platform goes through ``format_html``/``escape``;
    nothing is marked safe that was not built here.
    """
    from django.urls import reverse

    from channels.whatsapp.marks import receipt_marks
    from inbox.models import DeliveryState

    # What the platform reported of our messages (WhatsApp's sent/delivered/read), one query.
    platform_marks = receipt_marks(ticket, messages)
    labels = {
        "customer": _("Customer"),
        "verified": _("Verified"),
        "us": _("Us (on the platform)"),
        "dm": _("private message"),
        "private": _("moved to DM"),
        "public": _("public reply"),
        "hide": _("Hide on platform"),
        "unhide": _("Show on platform"),
        "hidden": _("hidden on the platform"),
        "delete": _("Delete on platform"),
        "delete_confirm": _("Delete this comment on the platform? This cannot be undone."),
        "removed_by_author": _("Removed by the customer"),
        "note": _("Internal note"),
        "view": _("View on platform"),
        "not_sent": _("Not sent"),
        "retry": _("Retry"),
        "waiting": _("Waiting for a lead's approval; not sent yet."),
        "review": _("Review it"),
        "returned": _("Returned by a lead"),
        "edit": _("Edit the reply"),
        "resubmit": _("Send for approval again"),
        "discard": _("Discard"),
        "edited": _("edited"),
        "edited_title": _("The customer edited this message; earlier versions are kept below."),
        "versions": _("Earlier versions"),
    }
    states = {value: str(label) for value, label in DeliveryState.choices}
    retry_url = reverse("inbox:retry", args=[ticket.pk])
    hide_url = reverse("inbox:hide", args=[ticket.pk])
    delete_url = reverse("inbox:delete_comment", args=[ticket.pk])
    resubmit_url = reverse("inbox:reply_resubmit", args=[ticket.pk])
    discard_url = reverse("inbox:reply_discard", args=[ticket.pk])
    # Avatars through our proxy (inbox.customers.avatars): reverse once, then put each identity's
    # id in.
    marker = 987654321
    avatar_head, avatar_tail = reverse("inbox:avatar", args=[marker]).split(str(marker))
    review_url = reverse("pages:review") if context.get("can_assign") else ""
    viewer = context.get("user")
    viewer_id = viewer.pk if viewer is not None else None
    # Abusive comments can be hidden on platforms that allow it (Facebook comments).
    can_hide = ticket.kind in ("comment", "post") and callable(
        getattr(ticket.channel.connector_class, "set_hidden", None)
    )
    # Comments the account may delete on the platform (Instagram comments on its own media).
    can_delete = ticket.kind == "comment" and callable(
        getattr(ticket.channel.connector_class, "delete_comment", None)
    )
    csrf = context.get("csrf_token", "")
    now = timezone.now()
    # ``escape`` and f-strings in the loop: ``format_html`` per fragment was most of a
    # 200-message thread's rendering time. Every platform or user value below goes through
    # ``e``; labels are our own translations but are escaped all the same. ``e`` is the
    # standard library's ``html.escape`` that Django's ``escape`` wraps, without the wrapper's
    # lazy-string checks (1,400 calls a long thread): every value passed to it is a str.
    e = html_escape
    local_tz = timezone.get_current_timezone()
    label = {key: e(value) for key, value in labels.items()}
    state_label = {key: e(value) for key, value in states.items()}
    csrf_e = e(str(csrf))
    # Labels that repeat down a thread ("12 min", "1,204 followers"): translated once each.
    ago_labels: dict[int, str] = {}
    follower_labels: dict[int, str] = {}
    # The thread's attachments in one query, for the messages that have any.
    with_files = [m.pk for m in messages if getattr(m, "attachment_count", 0)]
    files = thread_attachments(with_files) if with_files else {}
    parts = []
    for m in messages:
        head = []
        if m.direction == "in":
            who = m.author_identity
            if who is None:
                head.append(f"<strong>{label['customer']}</strong>")
            else:
                if web_url(who.avatar_url):
                    src = f"{avatar_head}{m.author_identity_id}{avatar_tail}"
                    head.append(
                        f'<img class="avatar" src="{e(src)}" alt="" width="24" height="24" '
                        'referrerpolicy="no-referrer" loading="lazy">'
                    )
                head.append(f"<strong>{e(who.display_name or who.handle or '')}</strong>")
                if who.handle:
                    head.append(f'<span class="handle">@{e(who.handle)}</span>')
                if who.verified:
                    head.append(f'<span class="verified" title="{label["verified"]}">✓</span>')
                if who.followers is not None:
                    followers = follower_labels.get(who.followers)
                    if followers is None:
                        followers = follower_labels[who.followers] = e(
                            ngettext("%(n)s follower", "%(n)s followers", who.followers)
                            % {"n": who.followers}
                        )
                    head.append(f'<span class="followers">{followers}</span>')
        elif m.direction == "out":
            author = m.author_user
            name = (author.get_full_name() or author.get_username()) if author else labels["us"]
            mode = label.get(m.reply_mode) if m.reply_mode in ("dm", "private") else None
            head.append(f"<strong>{e(name)}</strong>")
            head.append(f'<span class="mode">{mode or label["public"]}</span>')
            if m.delivery_state:
                state = state_label.get(m.delivery_state) or e(m.delivery_state)
                head.append(f'<span class="delivery delivery-{e(m.delivery_state)}">{state}</span>')
            mark = platform_marks.get(m.external_id) if m.external_id else None
            if mark:
                head.append(f'<span class="receipt receipt-{e(mark[0])}">{e(mark[1])}</span>')
        else:
            author = m.author_user
            name = (author.get_full_name() or author.get_username()) if author else ""
            head.append(f"<strong>{label['note']}</strong> · {e(name)}")
        head.append("· " + _time(m.sent_at, now, local_tz, ago_labels))
        if m.rating:
            head.append(f'<span class="stars">{stars(m.rating)}</span>')
        link = platform_link(m.url, labels["view"])
        if link:
            head.append(link)
        if m.edited_at is not None:
            head.append(
                f'<span class="edited" title="{label["edited_title"]}">{label["edited"]}</span>'
            )
        text = e(m.text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")
        history = ""
        if m.versions and len(m.versions) > 1:
            history = _earlier_versions(m.versions[:-1], label["versions"], local_tz)
        if m.removed_by_author_at is not None:
            # Unsent on the platform: kept for the record, shown as such.
            head.append(f'<span class="removed-note">{label["removed_by_author"]}</span>')
        failed = ""
        if can_hide and m.direction == "in" and m.external_id:
            hidden_note = f'<span class="hidden-note">{label["hidden"]}</span> ' if m.hidden else ""
            head.append(
                f'{hidden_note}<form method="post" action="{hide_url}" hx-post="{hide_url}" '
                'hx-target="#live" class="inline"><input type="hidden" '
                f'name="csrfmiddlewaretoken" value="{csrf_e}">'
                f'<input type="hidden" name="message" value="{int(m.pk)}">'
                f'<input type="hidden" name="hidden" value="{"0" if m.hidden else "1"}">'
                f'<button type="submit">{label["unhide"] if m.hidden else label["hide"]}'
                "</button></form>"
            )
        if can_delete and m.direction == "in" and m.external_id:
            head.append(
                f'<form method="post" action="{delete_url}" hx-post="{delete_url}" '
                f'hx-target="#live" hx-confirm="{label["delete_confirm"]}" class="inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_e}">'
                f'<input type="hidden" name="message" value="{int(m.pk)}">'
                f'<button type="submit">{label["delete"]}</button></form>'
            )
        if m.delivery_state == "failed":
            failed = format_html(
                '<p class="error">{}: {}</p><form method="post" action="{}" hx-post="{}" '
                'hx-target="#live"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<input type="hidden" name="message" value="{}">'
                '<button type="submit">{}</button></form>',
                labels["not_sent"],
                m.failure_reason,
                retry_url,
                retry_url,
                csrf,
                m.pk,
                labels["retry"],
            )
        if m.delivery_state == DeliveryState.AWAITING_APPROVAL:
            failed = format_html(
                '<p class="review-wait" role="status">{}{}</p>',
                labels["waiting"],
                format_html(' <a href="{}">{}</a>', review_url, labels["review"])
                if review_url and m.author_user_id != viewer_id
                else "",
            )
        elif m.delivery_state == DeliveryState.RETURNED:
            failed = _returned(
                m,
                labels=labels,
                mine=m.author_user_id == viewer_id,
                signature=context.get("signature", ""),
                csrf=csrf,
                urls=(resubmit_url, discard_url),
            )
        attached = attachments_html(files.get(m.pk, ())) if files else ""
        body = f'<p class="text">{text}</p>' if text or not attached else ""
        parts.append(
            f'<li id="msg-{int(m.pk)}" class="msg msg-{e(m.direction)}"><div class="msg-head">'
            f"{' '.join(head)}</div>{body}{attached}{history}{failed}</li>"
        )
    return mark_safe("\n".join(parts))  # noqa: S308 - every value escaped above


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


@register.simple_tag
def ticket_rows(tickets, selected_id, query: str) -> str:
    """The rows of the inbox list, rendered in Python.

    The same HTML the row template gave; 50 rows were most of a list request's time through
    the template engine (see docs/benchmarks.md, Inbox). Every value from a platform or a user
    (names, handles, previews, tags, channel names) goes through ``escape``; numbers are
    formatted from ints; nothing is marked safe that was not built here.
    """
    from django.urls import reverse

    from inbox.models import TicketKind, TicketStatus

    if not tickets:
        return ""
    now = timezone.now()
    select_label = escape(_("Select ticket"))
    # The thread URL of each row: reverse once, then put each id in.
    marker = 987654321
    url_head, url_tail = reverse("inbox:thread", args=[marker]).split(str(marker))
    query = escape(query)
    kinds = {value: escape(label) for value, label in TicketKind.choices}
    statuses = {value: escape(label) for value, label in TicketStatus.choices}
    viewing, typing = _("%(name)s is viewing"), _("%(name)s is typing…")
    channels: dict[int, tuple[str, str, str]] = {}
    people: dict[int, str] = {}
    ago_labels: dict[int, str] = {}
    clip_cache: dict[int, str] = {}

    def clip_labels(n: int) -> str:
        if n not in clip_cache:
            clip_cache[n] = escape(ngettext("%(n)s attachment", "%(n)s attachments", n) % {"n": n})
        return clip_cache[n]

    parts = []
    for t in tickets:
        pk = int(t.pk)
        channel = channels.get(t.channel_id)
        if channel is None:
            channel = channels[t.channel_id] = (
                escape(t.channel.name),
                escape(t.channel.kind),
                channel_icon(t.channel.kind),
            )
        kind = kinds.get(t.kind) or escape(t.kind)
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
            rating = (
                f'<span class="stars" aria-label="{int(t.rating)} / 5">{stars(t.rating)}</span>'
            )
        viewers = ""
        if getattr(t, "viewers", None):
            viewers = (
                '<div class="viewers">'
                + "".join(
                    '<span class="viewer">{}</span>'.format(
                        escape((typing if p["typing"] else viewing) % {"name": p["name"]})
                    )
                    for p in t.viewers
                )
                + "</div>"
            )
        if t.assignee_id is None:
            assignee = "—"
        else:
            assignee = people.get(t.assignee_id)
            if assignee is None:
                user = t.assignee
                assignee = people[t.assignee_id] = escape(
                    user.get_full_name() or user.get_username()
                )
        tags = "".join(f'<span class="tag">{escape(tag.name)}</span>' for tag in t.tags.all())
        href = f"{url_head}{pk}{url_tail}?{query}"
        files = getattr(t, "attachment_count", 0) or 0
        clip = (
            f'<span class="paperclip" title="{clip_labels(files)}">📎 {int(files)}</span> '
            if files
            else ""
        )
        waited = _time(t.waiting_since, now, None, ago_labels) if t.waiting_since else ""
        parts.append(
            f'<tr id="row-{pk}" class="row{" selected" if pk == selected_id else ""}" '
            f'data-id="{pk}">\n'
            f'            <td><input type="checkbox" name="ticket" value="{pk}" form="bulk-form" '
            f'aria-label="{select_label} {pk}"></td>\n'
            f'            <td class="icon" title="{channel[0]} · {kind}"><span class="ch '
            f'ch-{channel[1]}">{channel[2]}</span> <small>{kind}</small></td>\n'
            '            <td class="who">\n'
            f'              <a class="open" href="{href}" hx-get="{href}" '
            'hx-target="#thread-pane" hx-swap="innerHTML" hx-push-url="true">\n'
            f'                <strong class="name">{escape(name)}</strong>{handle}\n'
            "              </a>\n"
            f"              {rating}\n"
            f'              <div class="preview">{clip}{escape(t.last_message_preview)}</div>\n'
            f"              {viewers}\n"
            "            </td>\n"
            f'            <td class="wait">{waited}</td>\n'
            f'            <td class="sla">{_due(t.due_at, now)}</td>\n'
            f'            <td><span class="status status-{escape(t.status)}">'
            f"{statuses.get(t.status) or escape(t.status)}</span></td>\n"
            f'            <td class="assignee">{assignee}</td>\n'
            f"            <td>{tags}</td>\n"
            "          </tr>"
        )
    return mark_safe("\n".join(parts))  # noqa: S308 - every value escaped above
