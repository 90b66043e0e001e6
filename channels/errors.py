"""The errors a connector raises on purpose, typed so that one policy (``channels.health``)
decides what a failure means (see ``channels.base``, which exports them with the interface)."""

from __future__ import annotations

import datetime as dt


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose; ``message`` is shown to admins."""

    def __init__(self, message: str, *, code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TemporaryError(ConnectorError):
    """The platform is down or slow (5xx, timeout, connection reset): try again later."""


class RateLimited(ConnectorError):
    """The platform asks us to wait. ``until`` is when it lets us back in, if it said."""

    def __init__(
        self, message: str, *, until: dt.datetime | None = None, code: str | int | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.until = until


class AuthError(ConnectorError):
    """Credentials are expired, revoked or lack permission: an admin must reconnect."""


class PermanentError(ConnectorError):
    """The platform refused this request for good (e.g. outside the reply window)."""


class RecipientRateLimited(RateLimited):
    """The platform limits messages to this one recipient (WhatsApp 131056, the pair rate
    limit): this reply waits, the channel and its other customers do not."""


class AccountRestricted(PermanentError):
    """The platform restricted the whole account (WhatsApp/Meta 368, policy violations): this
    reply fails and the channel's health shows the restriction until an admin resolves it."""


class RecipientRefused(PermanentError):
    """The platform refused this reply for a reason of this recipient or this message (outside
    the window, undeliverable, unsupported type): the reply fails with the reason, and the
    channel's health notes it as its latest error without changing its state."""


class OutcomeUnknown(ConnectorError):
    """A send may or may not have reached the platform (timeout after the request left)."""
