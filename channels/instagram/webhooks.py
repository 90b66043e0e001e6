"""``/webhooks/instagram/``: the Instagram app's deliveries (``object: "instagram"``).

The same intake as the Facebook Page webhooks (``channels.facebook.webhooks.MetaIntake``: the
``hub.challenge`` handshake, the ``X-Hub-Signature-256`` check over the raw body before it is
parsed), with its own delivery namespace and secret: an app using Instagram Login signs with the
Instagram app secret (INSTAGRAM_APP_SECRET; META_APP_SECRET when both products share one app).
"""

from __future__ import annotations

from typing import Any

from ..facebook.webhooks import MetaIntake, entry_ids
from ..intake import Ignored


class InstagramIntake(MetaIntake):
    name = "instagram"
    secret_settings = ("INSTAGRAM_APP_SECRET", "META_APP_SECRET")

    def route(self, payload: dict[str, Any], verified: bool) -> list[int]:
        if payload.get("object") != "instagram":
            raise Ignored()
        from .tokens import channels_for_account

        return [c.pk for account in entry_ids(payload) for c in channels_for_account(account)]

    def process(self, payload: dict[str, Any], *, channel_ids: list[int]) -> str:
        from .tasks import process_webhook

        return process_webhook(payload)
