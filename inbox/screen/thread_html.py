"""Pieces of the thread pane's HTML built in Python (the hottest loop of the inbox, see
inbox.templatetags.inbox_tags.thread_messages): earlier versions, returned replies, times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape as html_escape
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import DeliveryState


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


def web_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL, else "": platforms' URLs are untrusted, and a
    ``javascript:``, ``data:`` or relative one must never reach an ``href`` or ``src``."""
    url = (url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def platform_link(url: str, label: str) -> str:
    """A link to the platform, only for http(s) URLs, never passing our page as referrer."""
    url = web_url(url)
    if not url:
        return ""
    return format_html(
        '<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', url, label
    )


def stars(rating: int | None) -> str:
    if not rating:
        return ""
    return "★" * rating + "☆" * (5 - rating)


@dataclass(slots=True)
class _ThreadRender:
    """What every message of one thread shares: labels, URLs, the viewer, the clock."""

    labels: dict[str, Any]
    label: dict[str, str]  # the labels, escaped
    state_label: dict[str, str]
    platform_marks: dict[str, Any]
    retry_url: str
    hide_url: str
    delete_url: str
    resubmit_url: str
    discard_url: str
    avatar_head: str
    avatar_tail: str
    review_url: str
    viewer_id: int | None
    can_hide: bool
    can_delete: bool
    csrf: str
    csrf_e: str
    signature: str
    now: dt.datetime
    local_tz: Any
    # Labels that repeat down a thread ("12 min", "1,204 followers"): translated once each.
    ago_labels: dict[int, str] = field(default_factory=dict)
    follower_labels: dict[int, str] = field(default_factory=dict)
    # The thread's attachments by message id, read in one query for the messages that have any.
    files: dict[int, Any] = field(default_factory=dict)


def _thread_render(context, messages, ticket) -> _ThreadRender:
    from django.urls import reverse

    from channels.whatsapp.marks import receipt_marks

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
    # Avatars through our proxy (inbox.customers.avatars): reverse once, then put each identity's
    # id in.
    marker = 987654321
    avatar_head, avatar_tail = reverse("inbox:avatar", args=[marker]).split(str(marker))
    viewer = context.get("user")
    csrf = context.get("csrf_token", "")
    # ``escape`` and f-strings in the loop: ``format_html`` per fragment was most of a
    # 200-message thread's rendering time. Every platform or user value goes through ``e``
    # (``html_escape``); labels are our own translations but are escaped all the same.
    e = html_escape
    return _ThreadRender(
        labels=labels,
        label={key: e(value) for key, value in labels.items()},
        state_label={key: e(value) for key, value in states.items()},
        # What the platform reported of our messages (WhatsApp's sent/delivered/read), one query.
        platform_marks=receipt_marks(ticket, messages),
        retry_url=reverse("inbox:retry", args=[ticket.pk]),
        hide_url=reverse("inbox:hide", args=[ticket.pk]),
        delete_url=reverse("inbox:delete_comment", args=[ticket.pk]),
        resubmit_url=reverse("inbox:reply_resubmit", args=[ticket.pk]),
        discard_url=reverse("inbox:reply_discard", args=[ticket.pk]),
        avatar_head=avatar_head,
        avatar_tail=avatar_tail,
        review_url=reverse("pages:review") if context.get("can_assign") else "",
        viewer_id=viewer.pk if viewer is not None else None,
        # Abusive comments can be hidden on platforms that allow it (Connector.hide_kinds).
        can_hide=ticket.channel.connector_class.can_hide(ticket.kind),
        # Comments the account may delete on the platform (Instagram comments on its own media).
        can_delete=ticket.kind == "comment"
        and callable(getattr(ticket.channel.connector_class, "delete_comment", None)),
        csrf=csrf,
        csrf_e=e(str(csrf)),
        signature=context.get("signature", ""),
        now=timezone.now(),
        local_tz=timezone.get_current_timezone(),
        files=_thread_files(messages),
    )


def _thread_files(messages) -> dict[int, Any]:
    from inbox.media.selectors import thread_attachments

    with_files = [m.pk for m in messages if getattr(m, "attachment_count", 0)]
    return thread_attachments(with_files) if with_files else {}


def _author_head(m, r: _ThreadRender) -> list[str]:
    """Who wrote ``m``: the customer's identity, our agent and the reply's state, or a note's
    author. ``e`` is the standard library's ``html.escape`` that Django's ``escape`` wraps,
    without the wrapper's lazy-string checks (1,400 calls a long thread): every value is a str."""
    e = html_escape
    label = r.label
    head = []
    if m.direction == "in":
        who = m.author_identity
        if who is None:
            head.append(f"<strong>{label['customer']}</strong>")
            return head
        if web_url(who.avatar_url):
            src = f"{r.avatar_head}{m.author_identity_id}{r.avatar_tail}"
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
            followers = r.follower_labels.get(who.followers)
            if followers is None:
                followers = r.follower_labels[who.followers] = e(
                    ngettext("%(n)s follower", "%(n)s followers", who.followers)
                    % {"n": who.followers}
                )
            head.append(f'<span class="followers">{followers}</span>')
    elif m.direction == "out":
        author = m.author_user
        name = (author.get_full_name() or author.get_username()) if author else r.labels["us"]
        mode = label.get(m.reply_mode) if m.reply_mode in ("dm", "private") else None
        head.append(f"<strong>{e(name)}</strong>")
        head.append(f'<span class="mode">{mode or label["public"]}</span>')
        if m.delivery_state:
            state = r.state_label.get(m.delivery_state) or e(m.delivery_state)
            head.append(f'<span class="delivery delivery-{e(m.delivery_state)}">{state}</span>')
        mark = r.platform_marks.get(m.external_id) if m.external_id else None
        if mark:
            head.append(f'<span class="receipt receipt-{e(mark[0])}">{e(mark[1])}</span>')
    else:
        author = m.author_user
        name = (author.get_full_name() or author.get_username()) if author else ""
        head.append(f"<strong>{label['note']}</strong> · {e(name)}")
    return head


def _delivery_note(m, r: _ThreadRender) -> str:
    """Below a reply: why it was not sent (and Retry), that it waits for a lead, or the lead's
    comment when returned."""
    failed = ""
    if m.delivery_state == "failed":
        failed = format_html(
            '<p class="error">{}: {}</p><form method="post" action="{}" hx-post="{}" '
            'hx-target="#live"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="message" value="{}">'
            '<button type="submit">{}</button></form>',
            r.labels["not_sent"],
            m.failure_reason,
            r.retry_url,
            r.retry_url,
            r.csrf,
            m.pk,
            r.labels["retry"],
        )
    if m.delivery_state == DeliveryState.AWAITING_APPROVAL:
        failed = format_html(
            '<p class="review-wait" role="status">{}{}</p>',
            r.labels["waiting"],
            format_html(' <a href="{}">{}</a>', r.review_url, r.labels["review"])
            if r.review_url and m.author_user_id != r.viewer_id
            else "",
        )
    elif m.delivery_state == DeliveryState.RETURNED:
        failed = _returned(
            m,
            labels=r.labels,
            mine=m.author_user_id == r.viewer_id,
            signature=r.signature,
            csrf=r.csrf,
            urls=(r.resubmit_url, r.discard_url),
        )
    return failed


def _message_html(m, r: _ThreadRender) -> str:
    """One message as a list item; every platform or user value escaped here."""
    e = html_escape
    label = r.label
    head = _author_head(m, r)
    head.append("· " + _time(m.sent_at, r.now, r.local_tz, r.ago_labels))
    if m.rating:
        head.append(f'<span class="stars">{stars(m.rating)}</span>')
    link = platform_link(m.url, r.labels["view"])
    if link:
        head.append(link)
    if m.edited_at is not None:
        head.append(
            f'<span class="edited" title="{label["edited_title"]}">{label["edited"]}</span>'
        )
    text = e(m.text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")
    history = ""
    if m.versions and len(m.versions) > 1:
        history = _earlier_versions(m.versions[:-1], label["versions"], r.local_tz)
    if m.removed_by_author_at is not None:
        # Unsent on the platform: kept for the record, shown as such.
        head.append(f'<span class="removed-note">{label["removed_by_author"]}</span>')
    if r.can_hide and m.direction == "in" and m.external_id:
        hidden_note = f'<span class="hidden-note">{label["hidden"]}</span> ' if m.hidden else ""
        head.append(
            f'{hidden_note}<form method="post" action="{r.hide_url}" hx-post="{r.hide_url}" '
            'hx-target="#live" class="inline"><input type="hidden" '
            f'name="csrfmiddlewaretoken" value="{r.csrf_e}">'
            f'<input type="hidden" name="message" value="{int(m.pk)}">'
            f'<input type="hidden" name="hidden" value="{"0" if m.hidden else "1"}">'
            f'<button type="submit">{label["unhide"] if m.hidden else label["hide"]}'
            "</button></form>"
        )
    if r.can_delete and m.direction == "in" and m.external_id:
        head.append(
            f'<form method="post" action="{r.delete_url}" hx-post="{r.delete_url}" '
            f'hx-target="#live" hx-confirm="{label["delete_confirm"]}" class="inline">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{r.csrf_e}">'
            f'<input type="hidden" name="message" value="{int(m.pk)}">'
            f'<button type="submit">{label["delete"]}</button></form>'
        )
    failed = _delivery_note(m, r)
    attached = _attachments_html(r.files.get(m.pk, ())) if r.files else ""
    body = f'<p class="text">{text}</p>' if text or not attached else ""
    return (
        f'<li id="msg-{int(m.pk)}" class="msg msg-{e(m.direction)}"><div class="msg-head">'
        f"{' '.join(head)}</div>{body}{attached}{history}{failed}</li>"
    )


def _attachments_html(files) -> str:
    from inbox.media.render import attachments_html

    return attachments_html(files)
