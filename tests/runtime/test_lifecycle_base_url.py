"""Links in messages default to where the app is served (HOST/PORT), not to a fixed port 5000."""
import os
import subprocess
import sys

import pytest


def base_url(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "PORTAL_BASE_URL")}
    out = subprocess.run([sys.executable, "-c", "from portal.config import Config; print(Config.PORTAL_BASE_URL)"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("env, expected", [
    ({}, "http://127.0.0.1:5000"),
    ({"PORT": "8123"}, "http://127.0.0.1:8123"),
    ({"HOST": "portal.local", "PORT": "8080"}, "http://portal.local:8080"),
    ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
    ({"HOST": "::1", "PORT": "8080"}, "http://[::1]:8080"),
    ({"PORT": "8123", "PORTAL_BASE_URL": "https://portal.example.com"}, "https://portal.example.com"),
])
def test_default_base_url_follows_host_and_port(env, expected):
    assert base_url(**env) == expected
