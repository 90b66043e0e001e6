"""The account a Meta channel acts as, and the Graph client made from its token."""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from ..base import AuthError, PermanentError


class MetaAccount:
    """Mixin of Meta connectors: ``own_id`` (the Page id or Instagram account id, from the
    channel's ``own_account_id`` or its ``account_setting``) and ``graph``, a facebook-sdk
    client for the token in credentials under ``credential_key``."""

    channel: Any
    credential_key: ClassVar[str] = "page_access_token"
    account_setting: ClassVar[str] = "page_id"
    # How admins call the token and the account, in errors they read.
    credential_label: ClassVar[str] = "Page access token"
    missing_account: ClassVar[str] = "The channel has no Page id (settings: page_id)."

    @staticmethod
    def graph_client(token: str, /) -> Any:
        from ..facebook import client

        return client.graph_api(token)

    @property
    def own_id(self) -> str:
        settings = self.channel.settings
        return str(self.channel.own_account_id or settings.get(self.account_setting) or "")

    @cached_property
    def graph(self):
        token = self.channel.credentials.get(self.credential_key, "")
        if not token:
            raise AuthError(f"No {self.credential_label} is configured for this channel.")
        return self.graph_client(token)

    def require_own_id(self) -> str:
        if not self.own_id:
            raise PermanentError(self.missing_account)
        return self.own_id
