"""One registry of channel kinds: kind -> connector class."""

from __future__ import annotations

import re

from .base import Connector

_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available under its ``kind``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} has no kind")
    existing = _REGISTRY.get(cls.kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"channel kind {cls.kind!r} is registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def connector_class(kind: str) -> type[Connector]:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(f"no connector for channel kind {kind!r}") from None


def kinds() -> list[tuple[str, str]]:
    """(kind, label) pairs for forms and filters, in registration order."""
    return [(kind, cls.label or kind) for kind, cls in _REGISTRY.items()]


_SAFE_KIND = re.compile(r"^[a-z0-9_-]+$")
_SAFE_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-z]+)$")


def appearance(kind: str) -> tuple[str, str, str]:
    """(icon, short label, colour) of a kind as the inbox shows it; an unknown kind (a channel
    whose connector is gone) gets the base defaults and its name."""
    cls = _REGISTRY.get(kind)
    if cls is None:
        return Connector.icon, kind, Connector.colour
    return cls.icon or Connector.icon, cls.short_label or cls.label or kind, cls.colour


def kinds_css() -> str:
    """One rule per registered kind giving its colour to ``.chan-<kind>``: the stylesheet the
    pages load, so no page needs an inline style (the CSP forbids them)."""
    rules = []
    for kind, cls in _REGISTRY.items():
        colour = cls.colour if _SAFE_COLOUR.match(cls.colour or "") else Connector.colour
        if _SAFE_KIND.match(kind):
            rules.append(f".chan-{kind} {{ --chan: {colour}; }}")
    return "\n".join(rules) + "\n"
