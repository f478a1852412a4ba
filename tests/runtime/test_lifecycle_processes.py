"""Real `portal` processes on a temp instance (SQLite + embedded Redis): who starts the embedded redis-server
stops it, `portal run` takes its worker and Redis down on SIGTERM, one socket never gets two servers, and a
worker stops promptly (rq 3.0 + redis-py 8.2 used to hang ~60 s in the pub/sub thread's join)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STOP_BOUND = 20  # seconds: far above a clean stop (~2-6 s here), far below the 60 s pub/sub hang


def _env(instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PORTAL_BASE_URL")}
    env.update(PORTAL_INSTANCE_DIR=str(instance), SECRET_KEY="lifecycle-test", **extra)
    return env


def _portal(instance: Path, *args, **popen):
    return subprocess.Popen([sys.executable, "-m", "portal.cli", *args], cwd=ROOT, env=_env(instance),
                            **popen)


def _run_once(instance: Path, *args, timeout=300):
    proc = subprocess.run([sys.executable, "-m", "portal.cli", *args], cwd=ROOT, env=_env(instance),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


def redis_servers(instance: Path) -> list[int]:
    """PIDs of redis-server processes serving this instance's socket."""
    sock = str(instance / "redis.sock")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis-server" in cmdline and sock in cmdline:
            pids.append(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _log_has(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.fixture
def instance(tmp_path):
    inst = tmp_path / "instance"
    inst.mkdir()
    started = []
    yield inst, started
    for proc in started:  # a failed assertion must not leave processes behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in redis_servers(inst):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def upgraded(instance):
    inst, started = instance
    _run_once(inst, "db", "upgrade")
    assert redis_servers(inst) == []
    return inst, started


def _start_worker(inst: Path, started: list, log_name: str):
    log = inst / log_name
    proc = _portal(inst, "worker", stdout=log.open("w"), stderr=subprocess.STDOUT)
    started.append(proc)
    _wait_for(lambda: _log_has(log, "Listening on"), 60, f"{log_name} to listen")
    return proc, log


def _stop(proc) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"pid {proc.pid} still running {STOP_BOUND} s after SIGTERM")
    return time.monotonic() - t0


def test_one_shot_command_leaves_no_redis_server(upgraded):
    inst, _ = upgraded
    _run_once(inst, "demo")  # enqueues jobs: it starts the embedded Redis
    assert redis_servers(inst) == [], "portal demo left its embedded redis-server running"


def test_portal_run_sigterm_stops_web_worker_and_redis(upgraded):
    inst, started = upgraded
    port = _free_port()
    log = inst / "run.log"
    web = _portal(inst, "run", "--port", str(port), stdout=log.open("w"), stderr=subprocess.STDOUT)
    started.append(web)

    def healthy():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    _wait_for(healthy, 60, "portal run to answer /healthz")
    workers = _children(web.pid)
    assert len(workers) == 1, workers
    # The worker child derives its links from the port `portal run` serves, not 5000.
    environ = Path(f"/proc/{workers[0]}/environ").read_bytes().split(b"\0")
    assert f"PORT={port}".encode() in environ
    _wait_for(lambda: _log_has(log, "Listening on"), 60, "the worker to listen")
    servers = redis_servers(inst)
    assert len(servers) == 1, servers

    _stop(web)
    _wait_for(lambda: not any(_alive(p) for p in workers + servers), STOP_BOUND,
              f"worker {workers} and redis-server {servers} to exit after the web process")


def test_two_workers_on_defaults_share_one_redis_server_and_stop_promptly(upgraded):
    inst, started = upgraded
    first, first_log = _start_worker(inst, started, "worker1.log")
    second, second_log = _start_worker(inst, started, "worker2.log")
    servers = redis_servers(inst)
    assert len(servers) == 1, f"two workers started {len(servers)} redis-servers on one socket"

    _stop(first)  # the other worker still uses the server: it must stay up
    assert all(_alive(p) for p in servers)
    elapsed = _stop(second)
    assert elapsed < STOP_BOUND
    _wait_for(lambda: not any(_alive(p) for p in servers), STOP_BOUND, "the last user to stop redis-server")
    for log in (first_log, second_log):
        assert "Timeout reading" not in log.read_text()


def test_idle_worker_keeps_its_connection_and_stops_within_bound(upgraded):
    inst, started = upgraded
    worker, log = _start_worker(inst, started, "worker.log")
    # Idle past several of redis-py 8's 5 s default socket timeouts: the false "Timeout reading" shows here.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()[-2000:]
        time.sleep(0.5)
    elapsed = _stop(worker)
    text = log.read_text()
    assert "Timeout reading" not in text and "could not connect" not in text, text[-3000:]
    assert elapsed < STOP_BOUND


def test_a_killed_worker_takes_its_forked_scheduler_with_it(upgraded):
    """rq forks its scheduler; orphaned by a kill -9 it kept the worker's database connections (an open
    transaction on PostgreSQL blocked TRUNCATE) and its share of the embedded Redis."""
    inst, started = upgraded
    worker, log = _start_worker(inst, started, "worker.log")
    _wait_for(lambda: _children(worker.pid), 60, "rq's scheduler process to start")
    scheduler = _children(worker.pid)
    worker.kill()
    worker.wait()
    _wait_for(lambda: not any(_alive(p) for p in scheduler), STOP_BOUND,
              f"the scheduler {scheduler} to exit with its worker")
