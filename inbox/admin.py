from django.contrib import admin

from inbox.models import (
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


# --- the team-lead engines (until their own pages exist) ---------------------------------------
from inbox.models import (  # noqa: E402
    AutoAck,
    BusinessHours,
    Holiday,
    Incident,
    IncidentTicket,
    IntentCorrection,
    Rule,
    Shift,
    SlaTarget,
)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["__str__", "team", "time_zone"]
    inlines = [HolidayInline]


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "enabled", "stop_processing", "set_team", "close_reason"]
    list_display_links = ["name"]
    list_filter = ["enabled"]
    filter_horizontal = ["add_tags"]
    raw_id_fields = ["assign_to", "created_by"]


class IncidentTicketInline(admin.TabularInline):
    model = IncidentTicket
    extra = 0
    raw_id_fields = ["ticket", "reply", "linked_by", "rule"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "declared_at", "resolved_at"]
    list_filter = ["status"]
    inlines = [IncidentTicketInline]


@admin.register(IntentCorrection)
class IntentCorrectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "original", "corrected", "language", "text"]
    list_filter = ["corrected", "original"]
    raw_id_fields = ["ticket", "message", "actor"]


admin.site.register([SlaTarget, AutoAck, Shift])
