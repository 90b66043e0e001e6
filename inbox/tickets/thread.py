"""The thread's messages with their authors, as the inbox screen's thread pane and the review
pages show them (plain attributes, no model instances)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from inbox.models import Ticket


class ThreadAuthor:
    """The author columns a thread shows: an agent (``get_full_name``/``get_username`` as on
    Django's user) or a platform identity."""

    __slots__ = ("username", "first_name", "last_name", "avatar_url", "display_name", "handle",
                 "verified", "followers")  # fmt: skip

    # The slots' types (annotations only: ``__slots__`` stands). None where the row has no
    # such author.
    username: str | None
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    display_name: str | None
    handle: str | None
    verified: bool | None
    followers: int | None

    def __init__(self, **values) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def get_full_name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip()

    def get_username(self) -> str:
        return self.username or ""


class ThreadMessage:
    """A message as the thread shows it: plain attributes, no model instance.

    Building 200 ``Message`` models with their two authors was the largest part of a long
    thread's request; the platform's raw payload (0.5–5 kB of JSON on X and Meta) and the send
    options are not read at all.
    """

    __slots__ = THREAD_MESSAGE_FIELDS = (
        "id", "ticket_id", "channel_id", "direction", "external_id", "text", "sent_at", "rating",
        "url", "hidden", "removed_by_author_at", "reply_mode", "delivery_state", "failure_reason",
        "review_note", "edited_at", "versions", "attachment_count",
        "author_identity_id", "author_user_id", "author_identity", "author_user",
    )  # fmt: skip

    # The slots' types, as on ``Message`` (annotations only: ``__slots__`` stands).
    id: int
    ticket_id: int
    channel_id: int
    direction: str
    external_id: str | None
    text: str
    sent_at: dt.datetime
    rating: int | None
    url: str
    hidden: bool
    removed_by_author_at: dt.datetime | None
    reply_mode: str
    delivery_state: str
    failure_reason: str
    review_note: str
    edited_at: dt.datetime | None
    versions: list[Any]
    attachment_count: int
    author_identity_id: int | None
    author_user_id: int | None
    author_identity: ThreadAuthor | None
    author_user: ThreadAuthor | None

    @property
    def pk(self) -> int:
        return self.id


_IDENTITY_COLUMNS = ("avatar_url", "display_name", "handle", "verified", "followers")
_USER_COLUMNS = ("username", "first_name", "last_name")


def thread_messages(ticket: Ticket) -> list[ThreadMessage]:
    """The thread's messages in order, with their authors (the columns the thread shows)."""
    own = ThreadMessage.THREAD_MESSAGE_FIELDS[:-2]
    columns = (
        *own,
        *(f"author_identity__{c}" for c in _IDENTITY_COLUMNS),
        *(f"author_user__{c}" for c in _USER_COLUMNS),
    )
    n_own, n_identity = len(own), len(_IDENTITY_COLUMNS)
    result = []
    for row in ticket.messages.order_by("sent_at", "id").values_list(*columns):
        message = ThreadMessage()
        for name, value in zip(own, row[:n_own], strict=True):
            setattr(message, name, value)
        message.author_identity = (
            ThreadAuthor(
                **dict(zip(_IDENTITY_COLUMNS, row[n_own : n_own + n_identity], strict=True))
            )
            if message.author_identity_id is not None
            else None
        )
        message.author_user = (
            ThreadAuthor(**dict(zip(_USER_COLUMNS, row[n_own + n_identity :], strict=True)))
            if message.author_user_id is not None
            else None
        )
        result.append(message)
    return result
