"""The `portal` console script: Flask's CLI bound to the app factory, plus our commands."""
import os
import signal
import subprocess
import sys

import click
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple

from portal import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main():
    """Portal — pre-vendas, personalização e sucesso do cliente."""


class _RequestHandler(WSGIRequestHandler):
    def send_header(self, keyword, value):
        # No "Server: Werkzeug/x Python/y": it only tells a scanner which known bugs to try.
        if keyword.lower() != "server":
            super().send_header(keyword, value)


@main.command("run", help="Start the web app; with the embedded defaults also one worker beside it.")
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=None, help="Start a worker process (default: when REDIS_URL is unset).")
@with_appcontext
def run_command(host, port, worker):
    from flask import current_app

    from portal import jobs
    from portal.config import default_base_url

    app = current_app._get_current_object()
    env = dict(os.environ, HOST=host, PORT=str(port))  # the worker derives the same links
    if not os.environ.get("PORTAL_BASE_URL"):
        app.config["PORTAL_BASE_URL"] = default_base_url(host, port)
    jobs.get_redis()  # the embedded Redis stays up while this process lives, and stops with it
    if worker is None:
        worker = not app.config["REDIS_URL"]
    child = None
    if worker:
        child = subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=env)
    # SIGTERM (kill, systemd, timeout) stops like Ctrl+C, so the worker and the embedded Redis stop too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    click.echo(f"\n  Portal em http://{host}:{port}/  (Ctrl+C para parar)\n")
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True, request_handler=_RequestHandler)
    except KeyboardInterrupt:
        pass
    finally:
        if child is not None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        jobs.stop_embedded()


@main.command("worker", help="Run an RQ worker (queues high, default, low) with the scheduler.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(burst):
    from flask import current_app

    import worker

    worker.run(current_app._get_current_object(), burst=burst)


if __name__ == "__main__":
    main()
