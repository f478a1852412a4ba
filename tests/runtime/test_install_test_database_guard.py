"""`make test` drops, truncates and FLUSHDBs what it is pointed at: the suite refuses a database whose name
does not end in _test and Redis db 0 before touching anything, and in CI a skipped browser test fails."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARMLESS = "tests/runtime/test_lifecycle_base_url.py"


def run_pytest(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CI")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *args], cwd=ROOT,
                          env={**clean, **env}, capture_output=True, text=True, timeout=300)


# Unreachable addresses (port 1): were the guard gone, the run would fail to connect rather than wipe anything.
@pytest.mark.parametrize("env, why", [
    ({"DATABASE_URL": "postgresql+psycopg://postgres:postgres@127.0.0.1:1/portal"}, "'portal'"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "db 0"),
])
def test_suite_refuses_a_real_database_or_redis_db_0(env, why):
    result = run_pytest(HARMLESS, **env)
    out = result.stdout + result.stderr
    assert result.returncode == 4, out[-2000:]
    assert "refusing to run the tests" in out and why in out, out[-2000:]
    assert " passed" not in out


@pytest.mark.parametrize("database_url, redis_url, refused", [
    ("postgresql+psycopg://u:p@127.0.0.1:5432/portal_test", "redis://127.0.0.1:6379/15", False),
    ("postgresql+psycopg://u:p@127.0.0.1:5432/portal", None, True),
    ("postgresql+psycopg://u:p@127.0.0.1:5432/portal_test_copy", None, True),
    ("sqlite:////srv/portal/instance/portal.db", None, True),
    ("sqlite:////tmp/x/portal_test.db", None, False),
    (None, "redis://127.0.0.1:6379", True),
    (None, "unix:///tmp/redis.sock?db=0", True),
    (None, "redis://127.0.0.1:6379/1", False),
])
def test_guard_reads_the_database_name_and_redis_db(monkeypatch, database_url, redis_url, refused):
    from tests.conftest import _refuse_real_stores

    for name, value in (("DATABASE_URL", database_url), ("REDIS_URL", redis_url)):
        monkeypatch.delenv(name, raising=False)
        if value:
            monkeypatch.setenv(name, value)
    assert (_refuse_real_stores() is not None) is refused


def test_a_skipped_browser_test_fails_in_ci_with_its_reason(tmp_path):
    test_file = tmp_path / "test_skipping_browser.py"
    test_file.write_text(
        "import pytest\n\n"
        "@pytest.mark.browser\n"
        "def test_page():\n"
        "    pytest.skip('Chromium not found at /usr/bin/chromium')\n\n"
        "def test_plain():\n"
        "    pytest.skip('not a browser test')\n")
    args = ("-p", "tests.conftest", "--rootdir", str(tmp_path), "-c", str(ROOT / "pyproject.toml"), str(test_file))
    in_ci = run_pytest(*args, CI="true")
    out = in_ci.stdout + in_ci.stderr
    assert in_ci.returncode == 1, out[-2000:]
    assert "1 failed, 1 skipped" in out and "Chromium not found" in out, out[-2000:]
    locally = run_pytest(*args)
    assert locally.returncode == 0 and "2 skipped" in locally.stdout, locally.stdout[-2000:]
