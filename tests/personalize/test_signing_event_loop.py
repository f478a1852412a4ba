"""Signing and verifying also work while an event loop runs in this thread (async servers, Playwright)."""
import asyncio

from portal.personalize import signing
from tests.personalize.test_contracts_signing import _pdf


def test_sign_and_verify_inside_a_running_event_loop(app):
    async def inside():
        with app.app_context():
            return signing.verify_pdf(signing.sign_pdf(_pdf()))
    assert asyncio.run(inside())["valid"] is True
