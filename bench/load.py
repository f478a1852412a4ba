"""Real processes and concurrent HTTP clients for load runs, shared by the benches and the runtime load tests.

The web app and the worker run as `portal run --no-worker` and `portal worker` child processes on the
same database, Redis and instance folder as the calling app, so what is measured is what a deployment
runs: separate processes competing for the database.
"""
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager, suppress


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(app, **extra) -> dict:
    """The environment that points a child process at `app`'s database, Redis and instance folder."""
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "PORTAL_INSTANCE_DIR": app.config["INSTANCE_DIR"], "SECRET_KEY": app.config["SECRET_KEY"],
           "PYTHONUNBUFFERED": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll `condition()` until it returns something truthy; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def portal_process(args: list[str], env: dict, log_path: str, ready=None, timeout: float = 60):
    """Run `python -m portal.cli ARGS` until the block ends (SIGTERM, then SIGKILL); output goes to log_path."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "portal.cli", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        if ready is not None:
            def up():
                if proc.poll() is not None:
                    raise RuntimeError(f"portal {' '.join(args)} exited with {proc.returncode}; see {log_path}")
                return ready()
            wait_for(up, timeout, f"portal {' '.join(args)}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            proc.kill()  # a no-op once it has stopped
            proc.wait()


def _answers(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@contextmanager
def web(app, log_path: str, **env):
    """`portal run --no-worker` on a free port, once /healthz answers 200; yields the port."""
    port = free_port()
    args = ["run", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    with portal_process(args, child_env(app, **env), log_path, ready=lambda: _answers(port, "/healthz")):
        yield port


@contextmanager
def workers(app, redis, log_prefix: str, count: int = 1, **env):
    """`count` `portal worker` processes, once all have registered with RQ (so jobs enqueued from then on
    are picked up at once); yields the processes. Worker i logs to `<log_prefix><i>.log`."""
    from rq import Worker

    def registered():
        return {w.name for w in Worker.all(connection=redis)}

    before = registered()
    with ExitStack() as stack:
        procs = [stack.enter_context(portal_process(["worker"], child_env(app, **env), f"{log_prefix}{i}.log"))
                 for i in range(count)]
        try:
            wait_for(lambda: len(registered() - before) >= count, 60, f"{count} workers to register")
            yield procs
        finally:
            for proc in procs:  # all at once: each finishes its current job while the others do
                proc.terminate()


def drive(port: int, requests: list[tuple[str, str, bytes | None]], clients: int,
          headers: dict | None = None) -> tuple[list[float], dict, float]:
    """Send `requests` from `clients` threads, each on one keep-alive connection, all starting together.

    Returns the latencies (ms), the count of answers by status and the wall time (s)."""
    latencies, statuses, lock = [], {}, threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, codes = [], {}
        barrier.wait()
        for method, path, payload in chunk:
            start = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers if payload else {})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):  # counted, not raised: a dropped connection is an answer too
                status = "no answer"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            mine.append((time.perf_counter() - start) * 1000)
            codes[status] = codes.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=client, args=(requests[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, statuses, time.perf_counter() - start
