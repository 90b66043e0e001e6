"""Whether PostgreSQL and Redis answer on this machine's default ports (``make test``).

    python -m tests.local_services      # exit 0: both answer; 1: one does not (says which)

With no ``DATABASE_URL`` set, ``make test`` runs the suite on the embedded default and then,
where both servers answer here, the tests that need them against these servers, so a
developer whose machine has them runs every test with one command.
"""

from __future__ import annotations

import sys

import psycopg
import redis

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/9"


def missing() -> list[str]:
    absent = []
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        absent.append(f"PostgreSQL at 127.0.0.1:5432 as user postgres ({exc.__class__.__name__})")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        absent.append(f"Redis at 127.0.0.1:6379 ({exc.__class__.__name__})")
    return absent


if __name__ == "__main__":
    absent = missing()
    if absent:
        print("webcare: not here, so those tests stay not run: " + "; ".join(absent))
    sys.exit(1 if absent else 0)
