"""The admin's channel pages: health overview, create, configure, test connection, enable."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST

from inbox.ingest.entry import admin_required, channel_media_usage
from webcare.http import AuthedRequest

from . import registry
from .base import ConnectorError
from .forms import ChannelForm
from .intake import retry_failed
from .models import Channel, DeliveryState, WebhookDelivery
from .overview import health_overview
from .services import channel_create, channel_update


@admin_required
def channel_list(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "channels/list.html",
        {"channels": health_overview(), "kinds": registry.kinds()},
    )


@admin_required
@require_http_methods(["GET", "POST"])
def channel_new(request: AuthedRequest) -> HttpResponse:
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    try:
        connector = registry.connector_class(kind)
    except LookupError:
        return render(request, "channels/choose_kind.html", {"kinds": registry.kinds()})
    form = ChannelForm(request.POST or None, connector=connector)
    if request.method == "POST" and form.is_valid():
        credentials, _changed = form.credentials_value()
        channel = channel_create(
            kind=kind,
            name=form.cleaned_data["name"],
            credentials=credentials,
            settings=form.settings_value(),
            poll_interval=form.cleaned_data["poll_interval"],
            enabled=form.cleaned_data["enabled"],
            default_team=form.cleaned_data["default_team"],
            own_account_id=form.cleaned_data["own_account_id"],
            actor=request.user,
        )
        messages.success(request, _("Channel created. Test the connection to check it."))
        return redirect("channels:edit", channel_id=channel.pk)
    return render(
        request, "channels/edit.html", {"form": form, "kind": kind, "connector": connector}
    )


@admin_required
@require_http_methods(["GET", "POST"])
def channel_edit(request: AuthedRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    connector = channel.connector_class
    form = ChannelForm(
        request.POST or None,
        connector=connector,
        stored=channel.credentials,
        initial=ChannelForm.initial_for(channel),
    )
    if request.method == "POST" and form.is_valid():
        credentials, changed = form.credentials_value(channel.credentials)
        channel_update(
            channel=channel,
            credentials_changed=changed,
            credentials=credentials,
            settings=form.settings_value(channel.settings),
            name=form.cleaned_data["name"],
            poll_interval=form.cleaned_data["poll_interval"],
            enabled=form.cleaned_data["enabled"],
            default_team=form.cleaned_data["default_team"],
            own_account_id=form.cleaned_data["own_account_id"],
            actor=request.user,
        )
        messages.success(request, _("Channel saved."))
        return redirect("channels:edit", channel_id=channel.pk)
    return render(
        request,
        "channels/edit.html",
        {
            "form": form,
            "channel": channel,
            "kind": channel.kind,
            "connector": connector,
            "deliveries": _webhook_deliveries(channel),
            "media_usage": channel_media_usage(channel.pk),
            "media_retention_days": settings.MEDIA_RETENTION_DAYS,
        },
    )


def _webhook_deliveries(channel: Channel) -> dict | None:
    """Webhook deliveries of this channel not yet stored: how many wait, and the failed ones."""
    if channel.connector_class.webhook is None:
        return None
    pending = channel.webhook_deliveries.exclude(state=DeliveryState.PROCESSED)
    return {
        "waiting": pending.filter(state=DeliveryState.RECEIVED).count(),
        "failed": list(pending.filter(state=DeliveryState.FAILED).order_by("-received_at")[:20]),
        "failed_count": pending.filter(state=DeliveryState.FAILED).count(),
    }


@admin_required
@require_POST
def delivery_retry(request: AuthedRequest, channel_id: int, delivery_id: int) -> HttpResponse:
    """Give a failed webhook delivery a fresh set of attempts."""
    channel = get_object_or_404(Channel, pk=channel_id)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, channels=channel)
    if retry_failed(delivery=delivery):
        messages.success(request, _("The delivery will be processed again."))
    else:
        messages.error(request, _("That delivery is not failed (any more)."))
    return redirect("channels:edit", channel_id=channel.pk)


@admin_required
@require_POST
def channel_test(request: AuthedRequest, channel_id: int) -> HttpResponse:
    """Call the platform with the stored credentials and show whose account they open."""
    channel = get_object_or_404(Channel, pk=channel_id)
    try:
        info = channel.connector().test_connection()
    except ConnectorError as exc:
        messages.error(request, _("The platform said: %(error)s") % {"error": exc.message})
    except Exception as exc:  # noqa: BLE001 - shown to the admin, never a 500
        messages.error(request, _("Could not test the connection: %(error)r") % {"error": exc})
    else:
        changes = {"own_handle": info.handle or channel.own_handle}
        if info.account_id and info.account_id != channel.own_account_id:
            changes["own_account_id"] = info.account_id
        channel_update(channel=channel, credentials_changed=True, actor=request.user, **changes)
        messages.success(
            request,
            _("Connected as %(name)s (%(id)s). %(detail)s")
            % {
                "name": info.handle or info.display_name or info.account_id,
                "id": info.account_id,
                "detail": info.detail,
            },
        )
    return redirect("channels:edit", channel_id=channel.pk)


@admin_required
@require_POST
def channel_toggle(request: AuthedRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    channel_update(channel=channel, enabled=not channel.enabled, actor=request.user)
    return redirect("channels:list")


@cache_control(max_age=300, public=True)
def kinds_css(request: HttpRequest) -> HttpResponse:
    """The colours of the channel kinds, from the connector registry (``Connector.colour``)."""
    return HttpResponse(registry.kinds_css(), content_type="text/css; charset=utf-8")
