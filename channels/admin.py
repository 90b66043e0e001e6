import json

from django import forms
from django.contrib import admin

from .models import Channel, WebhookDelivery
from .services import channel_create, channel_update


class ChannelAdminForm(forms.ModelForm):
    # Secrets are write-only: the form never shows stored values back.
    new_credentials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="JSON object. Leave empty to keep the stored credentials.",
    )

    class Meta:
        model = Channel
        fields = [
            "kind",
            "name",
            "settings",
            "poll_interval",
            "enabled",
            "default_team",
            "own_account_id",
            "own_handle",
        ]

    def clean_new_credentials(self):
        raw = self.cleaned_data["new_credentials"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("Credentials must be a JSON object.")
        return value


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ["name", "kind", "enabled", "health_state", "last_success_at", "last_error"]
    list_filter = ["kind", "enabled", "health_state"]
    readonly_fields = [
        "credential_keys",
        "health_state",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "next_poll_at",
        "rate_limited_until",
        "usage",
        "cursor",
    ]

    @admin.display(description="Stored credentials")
    def credential_keys(self, obj):
        keys = sorted((obj.credentials or {}).keys())
        return ", ".join(f"{k}: ••••" for k in keys) or "none"

    def save_model(self, request, obj, form, change):
        # The same services as the channel pages: schedule kept in step, health reset after new
        # credentials or re-enabling, and an audit row naming the admin.
        new = form.cleaned_data.get("new_credentials")
        values = {field: form.cleaned_data[field] for field in ChannelAdminForm.Meta.fields}
        if not change:
            created = channel_create(credentials=new, actor=request.user, **values)
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changes = {field: values[field] for field in form.changed_data if field in values}
        if new is not None:
            changes["credentials"] = new
        stored = Channel.objects.get(pk=obj.pk)
        channel_update(
            channel=stored, credentials_changed=new is not None, actor=request.user, **changes
        )
        obj.refresh_from_db()


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only: deliveries are written by the intake and its tasks alone."""

    list_display = ["received_at", "kind", "state", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields if f.name != "body"]
    exclude = ["body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
