"""Pages of the API area: API tokens (your own on the profile, anyone's for admins) and the
admins' outbound webhooks with their delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from inbox.api import services, webhooks
from inbox.core import access
from inbox.core.decorators import admin_required
from inbox.models import ApiToken, OutboundDelivery, WebhookEvent, WebhookSubscription
from webcare.http import AuthedRequest


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: AuthedRequest, user_id: int | None = None) -> HttpResponse:
    """Your API tokens (``/profile/tokens/``), or, for admins, anyone's (from the people page).
    A new token is shown once; only its hash is kept."""
    subject = request.user
    if user_id is not None and user_id != request.user.pk:
        if not access.can_configure(request.user):
            raise PermissionDenied(_("Only admins manage someone else's tokens."))
        subject = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "POST":
        if request.POST.get("revoke", "").isdigit():
            token = get_object_or_404(ApiToken, pk=int(request.POST["revoke"]), user=subject)
            services.token_revoke(user=request.user, token_id=token.pk)
            messages.success(request, _("The token is revoked."))
            return redirect(request.path)
        scope = request.POST.get("scope", "read")
        if scope not in ("read", "write"):
            scope = "read"
        token, raw = services.token_create(
            user=request.user, owner=subject, name=request.POST.get("name", ""), scope=scope
        )
        return render(
            request, "inbox/api/token_once.html", {"token": token, "raw": raw, "back": request.path}
        )
    rows = ApiToken.objects.filter(user=subject).order_by("revoked_at", "-pk")
    return render(request, "inbox/api/tokens.html", {"subject": subject, "tokens": rows})


@never_cache
@admin_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: AuthedRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            sub = services.subscription_create(
                user=request.user,
                url=request.POST.get("url", "").strip()[:1000],
                events=request.POST.getlist("events"),
            )
        except ValueError as exc:
            error = str(exc)
        else:
            return render(request, "inbox/api/webhook_secret.html", {"sub": sub})
    return render(
        request,
        "inbox/api/webhooks.html",
        {
            "subscriptions": WebhookSubscription.objects.order_by("pk"),
            "events": WebhookEvent.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@never_cache
@admin_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request: AuthedRequest, webhook_id: int) -> HttpResponse:
    sub = get_object_or_404(WebhookSubscription, pk=webhook_id)
    if request.method == "POST":
        if request.POST.get("delete"):
            services.subscription_delete(user=request.user, subscription_id=sub.pk)
            return redirect("pages:webhooks")
        services.subscription_update(
            user=request.user, subscription_id=sub.pk, enabled=not sub.enabled, events=None
        )
        return redirect("pages:webhook", sub.pk)
    deliveries = OutboundDelivery.objects.filter(subscription=sub).order_by("-pk")[:100]
    return render(request, "inbox/api/webhook.html", {"sub": sub, "deliveries": deliveries})


@admin_required
@require_POST
def webhook_resend(request: AuthedRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(OutboundDelivery, pk=delivery_id)
    webhooks.send_again(delivery_id=delivery.pk)
    messages.success(request, _("Queued to be sent again."))
    return redirect("pages:webhook", delivery.subscription_id)


urlpatterns = [
    path("profile/tokens/", tokens, name="api_tokens"),
    path("settings/people/<int:user_id>/tokens/", tokens, name="people_tokens"),
    path("settings/webhooks/", webhook_list, name="webhooks"),
    path("settings/webhooks/<int:webhook_id>/", webhook_detail, name="webhook"),
    path("settings/webhooks/deliveries/<int:delivery_id>/resend/", webhook_resend,
         name="webhook_resend"),
]  # fmt: skip
