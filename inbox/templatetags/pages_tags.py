"""Template helpers of the lead and admin pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def seconds(value: float | int | None) -> str:
    """A duration in seconds as people read it: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    if value is None:
        return "—"
    total = max(0, int(round(float(value))))
    if total < 60:
        return _("%(n)d s") % {"n": total}
    minutes = total // 60
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.filter
def verb_words(verb: str) -> str:
    """An audit-log verb (``reply_sent``) in words ("Reply sent")."""
    from inbox.audit.verbs import verb_label

    return verb_label(verb)
