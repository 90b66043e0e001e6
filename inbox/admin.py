from django.contrib import admin

from .models import (
    Activity,
    AgentProfile,
    CannedReply,
    Customer,
    Identity,
    Message,
    Tag,
    Team,
    Ticket,
)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "kind", "status", "assignee", "team", "waiting_since"]
    list_filter = ["status", "kind", "channel"]
    raw_id_fields = ["customer", "identity", "assignee"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "ticket", "direction", "external_id", "delivery_state", "sent_at"]
    list_filter = ["direction", "delivery_state"]
    raw_id_fields = ["ticket", "author_identity", "author_user"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["created_at", "verb", "ticket", "actor"]
    list_filter = ["verb"]
    raw_id_fields = ["ticket"]


admin.site.register([Team, Tag, Customer, Identity, AgentProfile, CannedReply])
