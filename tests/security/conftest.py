import threading

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def live_server(app):
    """The app behind a real werkzeug HTTP server (cookies, headers and its access log as browsers see them)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
