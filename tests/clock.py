"""The moment the recorded platform fixtures belong to.

The payloads under ``tests/fixtures/`` were recorded between 18 and 22 November 2026 and keep
their own timestamps (a platform's shape, byte for byte). A test that weighs those timestamps
against the clock ("days ago", "a range that has ended", "after the review") runs with the clock
frozen here, just after them, so it means the same on any real date. Every other test builds its
times from ``timezone.now()``; none holds an absolute future date.
"""

from __future__ import annotations

import datetime as dt

RECORDED_NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
