"""Time of migration 0037 (claims for private replies made before the claim table) on a large
message table, PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/webcare_bench .venv/bin/python \
        bench/private_reply_backfill.py

Fills the database named in DATABASE_URL as ``bench/inbox.py`` does (200,000 tickets, about
1,000,000 messages) unless it already holds messages, marks one outbound message in a hundred
as a private reply, then runs the migration's statement three times on an empty claim table
and once more on a full one (idempotent: adds nothing). Use a database of its own.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.argv = sys.argv[:1]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.db import connection  # noqa: E402

import bench.inbox as b  # noqa: E402 (sets Django up)

backfill = importlib.import_module("inbox.migrations.0037_private_reply_claims_for_earlier_replies")


def run() -> float:
    t0 = time.perf_counter()
    backfill.claim_earlier_private_replies(None, SimpleNamespace(connection=connection))
    return time.perf_counter() - t0


def main() -> None:
    _lead, _agent, teams, channels = b.setup_people()
    if not b.scalar("SELECT count(*) FROM inbox_message"):
        b.generate(200_000, 1_000_000, teams, channels)
    b.sql(
        "UPDATE inbox_message SET reply_mode = 'private' WHERE direction = 'out' AND id %% 100 = 0"
    )
    b.sql("VACUUM ANALYZE inbox_message")
    messages = b.scalar("SELECT count(*) FROM inbox_message")
    private = b.scalar("SELECT count(*) FROM inbox_message WHERE reply_mode = 'private'")
    b.log(f"{messages:,} messages, {private:,} private replies")
    for n in range(3):
        b.sql("TRUNCATE inbox_privatereply")
        seconds = run()
        claims = b.scalar("SELECT count(*) FROM inbox_privatereply")
        b.log(f"run {n + 1}: {seconds:.2f} s, {claims:,} claims")
    seconds = run()
    claims = b.scalar("SELECT count(*) FROM inbox_privatereply")
    b.log(f"again on the full table: {seconds:.2f} s, {claims:,} claims")


if __name__ == "__main__":
    main()
