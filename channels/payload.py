"""Typed steps through an untrusted JSON payload.

Platforms omit fields, send ``null`` or change a field's type; a connector walks their payloads
with these accessors, so a missing or wrong-typed member reads as empty instead of crashing the
batch, and the type checker knows what each step returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def child(value: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``value[key]`` when it is a JSON object; otherwise an empty one."""
    found = value.get(key)
    return found if isinstance(found, dict) else {}


def child_text(value: Mapping[str, Any], key: str) -> str:
    """``value[key]`` when it is a string; otherwise ""."""
    found = value.get(key)
    return found if isinstance(found, str) else ""


def child_list(value: Mapping[str, Any], key: str) -> list[Any]:
    """``value[key]`` when it is a JSON array; otherwise an empty one."""
    found = value.get(key)
    return found if isinstance(found, list) else []


def child_int(value: Mapping[str, Any], key: str, default: int) -> int:
    """``value[key]`` when it is an integer; otherwise ``default``."""
    found = value.get(key)
    return found if isinstance(found, int) else default
