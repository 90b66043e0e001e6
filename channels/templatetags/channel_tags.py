"""Template helpers of the channel pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def usage_estimate(channel) -> str:
    """The platform's estimated bill for this month's use, for connectors of platforms that
    bill per use (``Connector.usage_estimate``); "" for the others."""
    estimate = getattr(channel.connector_class, "usage_estimate", None)
    if estimate is None:
        return ""
    return estimate(channel.usage or {})


@register.filter
def number_standing(channel) -> str:
    """A WhatsApp number's name, quality rating and messaging limit tier, as its daily check
    last read them (the channel's cursor); "" for other channels."""
    number = (channel.cursor or {}).get("number") if channel.kind == "whatsapp" else None
    if not isinstance(number, dict):
        return ""
    from channels.whatsapp.connector import standing_text

    return standing_text(number)


@register.inclusion_tag("channels/whatsapp/composer.html")
def whatsapp_composer(ticket) -> dict:
    """The WhatsApp part beside the composer: the window's time left, templates outside it."""
    from channels.whatsapp.views import composer_context

    return composer_context(ticket)
