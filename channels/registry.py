"""One registry of channel kinds: kind -> connector class."""

from __future__ import annotations

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
