"""Writes of the API area: tokens and webhook subscriptions (each with its activity row)."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from inbox.audit.services import activity_log
from inbox.core import access
from inbox.events.services import subscriptions_changed
from inbox.models import ApiToken, TokenScope, WebhookEvent, WebhookSubscription
from webcare import signed_http

TOKEN_PREFIX = "wct_"  # noqa: S105 - a marker, not a secret


def token_digest(token: str) -> str:
    """SHA-256 of the token: enough for 256 random bits (no dictionary to try against), and a
    look-up stays one indexed equality per request."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, user: User, owner: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``owner`` (the user themselves, or an admin for anyone); the token text is
    returned once and never stored."""
    if owner.pk != user.pk and not access.can_configure(user):
        raise PermissionDenied("Only admins create tokens for someone else.")
    if scope not in TokenScope.values:
        raise ValueError("scope must be read or write")
    name = name.strip()[:100] or "API token"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=name,
            prefix=raw[:12],
            digest=token_digest(raw),
            scope=scope,
            created_by=user,
        )
        activity_log(
            ticket=None,
            actor=user,
            verb="api_token_created",
            after={"user": owner.pk, "token": token.pk, "name": name, "scope": scope},
        )
    return token, raw


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.get(pk=token_id)
    if token.user_id != user.pk and not access.can_configure(user):
        raise PermissionDenied("Only admins revoke someone else's tokens.")
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            activity_log(
                ticket=None,
                actor=user,
                verb="api_token_revoked",
                after={"user": token.user_id, "token": token.pk, "name": token.name},
            )
    return token


def subscription_create(*, user: User, url: str, events: list[str]) -> WebhookSubscription:
    if not access.can_configure(user):
        raise PermissionDenied("Only admins manage webhooks.")
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown or not events:
        raise ValueError(f"unknown events: {', '.join(unknown)}" if unknown else "no events")
    try:
        signed_http.target(url)
    except signed_http.Refused as exc:
        raise ValueError(f"this URL cannot receive webhooks: {exc}") from exc
    with transaction.atomic():
        sub = WebhookSubscription.objects.create(
            url=url, events=sorted(set(events)), secret=secrets.token_hex(32), created_by=user
        )
        activity_log(
            ticket=None, actor=user, verb="webhook_created", after={"webhook": sub.pk, "url": url}
        )
    subscriptions_changed()
    return sub


def subscription_update(
    *, user: User, subscription_id: int, enabled: bool | None, events: list[str] | None
) -> WebhookSubscription:
    if not access.can_configure(user):
        raise PermissionDenied("Only admins manage webhooks.")
    with transaction.atomic():
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        before = {"enabled": sub.enabled, "events": sub.events}
        if events is not None:
            unknown = set(events) - set(WebhookEvent.values)
            if unknown or not events:
                raise ValueError("unknown or no events")
            sub.events = sorted(set(events))
        if enabled is not None:
            sub.enabled = enabled
            if enabled:
                sub.failures, sub.disabled_reason = 0, ""
        sub.save()
        activity_log(
            ticket=None,
            actor=user,
            verb="webhook_updated",
            before=before,
            after={"webhook": sub.pk, "enabled": sub.enabled, "events": sub.events},
        )
    subscriptions_changed()
    return sub


def subscription_delete(*, user: User, subscription_id: int) -> None:
    if not access.can_configure(user):
        raise PermissionDenied("Only admins manage webhooks.")
    with transaction.atomic():
        sub = WebhookSubscription.objects.get(pk=subscription_id)
        activity_log(ticket=None, actor=user, verb="webhook_deleted", before={"url": sub.url})
        sub.delete()
    subscriptions_changed()


def customer_attributes_set(
    *, user: User, customer_id: int, attributes: dict, replace: bool = False
):
    """Merge (or replace) a customer's attributes, e.g. pushed by a CRM."""
    from inbox.models import Customer

    access.require_work(user)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        before = dict(customer.attributes or {})
        merged = dict(attributes) if replace else {**before, **attributes}
        customer.attributes = {k: v for k, v in merged.items() if v is not None}
        customer.save(update_fields=["attributes"])
        activity_log(
            ticket=None,
            actor=user,
            verb="customer_attributes",
            before={"customer": customer.pk},
            after={"customer": customer.pk, "keys": sorted(attributes)},
        )
    return customer
