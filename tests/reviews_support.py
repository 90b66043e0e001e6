"""Shared pieces of the review-site tests: platform fixtures and where they live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "reviews"

# Far enough back that the fixtures' November 2026 reviews are never "before the backfill".
ALL_HISTORY = 36500


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()
