"""The stylesheet keeps one palette: colours are named once, in :root, and used by name."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[3] / "static" / "css" / "webcare.css"


def test_every_colour_of_the_stylesheet_comes_from_the_palette_in_root():
    text = CSS.read_text(encoding="utf-8")
    root = re.search(r"^:root \{.*?^\}", text, flags=re.S | re.M)
    assert root is not None
    rules = text[: root.start()] + text[root.end() :]
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b", rules) == []


def test_every_colour_property_the_rules_use_is_defined():
    text = CSS.read_text(encoding="utf-8")
    defined = set(re.findall(r"(--[a-z0-9-]+)\s*:", text))
    used = set(re.findall(r"var\((--[a-z0-9-]+)", text)) - {"--chan"}  # /channels/kinds.css
    assert used - defined == set()
