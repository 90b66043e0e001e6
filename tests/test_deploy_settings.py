"""Production settings pass Django's deployment checklist and keep their safety settings.

Each test starts a fresh interpreter with the environment production sets (``DEBUG=0``, a
secret key, the public host name), because settings are read once, at start.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "webcare.example.com",
}


def _run(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "WEBCARE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_finds_nothing_to_warn_about_in_production(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_flags_the_embedded_default_which_is_not_for_production(tmp_path):
    """The same check does find problems: the demo's DEBUG mode and its built-in key."""
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {}, tmp_path)
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG on


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "AXES_ENABLED", "AXES_FAILURE_LIMIT",
]} | {"axes_middleware": "axes.middleware.AxesMiddleware" in s.MIDDLEWARE,
      "axes_backend": s.AUTHENTICATION_BACKENDS[0]}))
"""


def test_production_sends_cookies_over_https_only_and_throttles_log_in(tmp_path):
    result = _run(
        ["-c", SHOW], {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "webcare.settings"}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["DEBUG"] is False
    assert shown["SESSION_COOKIE_SECURE"] and shown["CSRF_COOKIE_SECURE"]
    assert shown["SESSION_COOKIE_HTTPONLY"]
    assert shown["SECURE_SSL_REDIRECT"] and shown["SECURE_HSTS_SECONDS"] >= 31536000
    assert shown["AXES_ENABLED"] and shown["AXES_FAILURE_LIMIT"] == 5
    assert shown["axes_middleware"]
    assert shown["axes_backend"] == "axes.backends.AxesStandaloneBackend"
