"""Settings from the environment: the embedded default runs; a bad value stops with a message."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _start(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_the_embedded_default_starts(tmp_path):
    result = _start(WEBCARE_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_a_database_url_of_an_unknown_kind_stops_start_with_a_clear_message():
    result = _start(DATABASE_URL="mysql://root@localhost/webcare")
    assert result.returncode != 0
    assert "DATABASE_URL must start with postgres:// or sqlite:///" in result.stderr


def test_a_redis_url_that_is_not_redis_stops_start_with_a_clear_message():
    result = _start(REDIS_URL="http://127.0.0.1:6379")
    assert result.returncode != 0
    assert "REDIS_URL must start with redis://" in result.stderr


def test_production_without_a_secret_key_refuses_to_start():
    result = _start(DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_is_named():
    result = _start(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_the_embedded_default_creates_its_data_folder(tmp_path):
    data = tmp_path / "not-yet"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
            "WEBCARE_DATA_DIR": str(data),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (data / "webcare.sqlite3").exists()


def test_an_x_unit_price_that_is_not_an_amount_is_named(tmp_path):
    result = _start(WEBCARE_DATA_DIR=str(tmp_path), X_PRICE_POST_READ="half a cent")
    assert result.returncode != 0
    assert "X_PRICE_POST_READ must be an amount like 0.005" in result.stderr


def test_an_x_unit_price_is_read_from_the_environment(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; import django; "
         "django.setup(); print(settings.X_PRICE_CONTENT_CREATE)"],
        cwd=ROOT,
        env={**clean, "WEBCARE_DATA_DIR": str(tmp_path), "X_PRICE_CONTENT_CREATE": "0.02",
             "DJANGO_SETTINGS_MODULE": "webcare.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "0.02", result.stderr
