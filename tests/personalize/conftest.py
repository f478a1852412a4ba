"""Personalization tests run at a frozen instant on a small development (see world.py)."""
from datetime import datetime, timezone

import pytest
import time_machine

from tests.personalize.world import build_world, window_data  # noqa: F401 - window_data is used by the tests

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in São Paulo


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(app, frozen):
    return build_world(NOW)
