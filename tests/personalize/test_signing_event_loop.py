"""Signing and verifying also work while an event loop runs in the calling thread (async servers,
Playwright's sync API)."""
import asyncio
import threading

from portal.personalize import signing
from tests.personalize.test_contracts_signing import _pdf


def test_sign_and_verify_inside_a_running_event_loop(app):
    results = []

    async def inside():
        with app.app_context():
            results.append(signing.verify_pdf(signing.sign_pdf(_pdf())))

    # a fresh thread, so the test runs the same whether or not this thread already has a loop
    thread = threading.Thread(target=lambda: asyncio.run(inside()))
    thread.start()
    thread.join()
    assert results and results[0]["valid"] is True
