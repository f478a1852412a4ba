"""Periodic jobs of the automation engine."""
from datetime import timedelta

from portal.jobs import periodic


@periodic(every=timedelta(minutes=1), queue_name="high")
def sweep():
    """Every minute: due time rules, scheduled rules, stranded events and deliveries."""
    from portal.automation import engine
    return engine.sweep()
