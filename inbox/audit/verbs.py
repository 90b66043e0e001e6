"""The audit log's verbs in words: the log stores a short code per row (``reply_sent``), which
is what the filter and the queries use; people read these labels instead."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERB_LABELS = {
    "created": _("Ticket opened"),
    "routed": _("Routed by a rule"),
    "claimed": _("Claimed"),
    "released": _("Released"),
    "assigned": _("Assigned"),
    "team_assignment": _("Assigned by team rotation"),
    "tagged": _("Tag added"),
    "untagged": _("Tag removed"),
    "closed": _("Closed"),
    "reopened": _("Reopened"),
    "snoozed": _("Snoozed"),
    "snooze_ended": _("Snooze ended"),
    "note_added": _("Internal note added"),
    "intent_corrected": _("Intent corrected"),
    "reply_queued": _("Reply queued"),
    "reply_sent": _("Reply sent"),
    "reply_failed": _("Reply failed"),
    "reply_retried": _("Reply retried"),
    "reply_awaiting_approval": _("Reply held for approval"),
    "reply_approved": _("Reply approved"),
    "reply_returned": _("Reply returned to its author"),
    "reply_resubmitted": _("Reply resubmitted"),
    "reply_discarded": _("Reply discarded"),
    "thread_reviewed": _("Thread coached"),
    "auto_ack_queued": _("Out-of-hours acknowledgement queued"),
    "message_hidden": _("Message hidden"),
    "message_unhidden": _("Message shown again"),
    "message_hidden_on_platform": _("Message hidden on the platform"),
    "message_unhidden_on_platform": _("Message shown again on the platform"),
    "message_removed_on_platform": _("Message removed on the platform"),
    "message_removed_by_author": _("Message removed by its author"),
    "customer_merged": _("Customers merged"),
    "customer_unmerged": _("Customers unmerged"),
    "customer_linked": _("Customer linked"),
    "incident_declared": _("Incident declared"),
    "incident_updated": _("Incident changed"),
    "incident_linked": _("Linked to an incident"),
    "incident_unlinked": _("Unlinked from an incident"),
    "incident_resolved": _("Incident resolved"),
    "canned_created": _("Canned reply created"),
    "canned_updated": _("Canned reply changed"),
    "canned_deleted": _("Canned reply deleted"),
    "rule_created": _("Rule created"),
    "rule_updated": _("Rule changed"),
    "rule_moved": _("Rule moved"),
    "rule_deleted": _("Rule deleted"),
    "hours_updated": _("Business hours changed"),
    "holiday_added": _("Holiday added"),
    "holiday_removed": _("Holiday removed"),
    "sla_target_created": _("SLA target created"),
    "sla_target_updated": _("SLA target changed"),
    "sla_target_deleted": _("SLA target deleted"),
    "auto_ack_created": _("Acknowledgement created"),
    "auto_ack_updated": _("Acknowledgement changed"),
    "auto_ack_deleted": _("Acknowledgement deleted"),
    "channel_created": _("Channel created"),
    "channel_updated": _("Channel changed"),
    "channel_enabled": _("Channel enabled"),
    "channel_disabled": _("Channel disabled"),
    "user_created": _("User created"),
    "user_updated": _("User changed"),
    "user_deactivated": _("User deactivated"),
    "user_password_reset": _("Password reset"),
    "profile_updated": _("Profile changed"),
    "agent_availability": _("Availability changed"),
    "agent_capacity": _("Capacity changed"),
    "agent_needs_approval": _("Approval requirement changed"),
    "team_created": _("Team created"),
    "team_updated": _("Team changed"),
    "shift_added": _("Shift added"),
    "shift_removed": _("Shift removed"),
}


def verb_label(verb: str) -> str:
    """The verb in words; one without a label yet reads as its code in plain words."""
    label = VERB_LABELS.get(verb)
    if label is not None:
        return str(label)
    words = verb.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
