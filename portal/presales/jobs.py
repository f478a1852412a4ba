from datetime import timedelta

from portal.jobs import periodic


@periodic(every=timedelta(minutes=1), queue_name="high")
def offers_sweep():
    """Expire overdue offers (if their own job was lost) and apply the online→offline fallback."""
    from portal.presales.services.distribution import sweep_offers
    return sweep_offers()


@periodic(every=timedelta(minutes=1), queue_name="high")
def sla_sweep():
    """Breached first-response and stage clocks → lead.sla_breached, once each."""
    from portal.presales.services.sla import sweep
    return sweep()


@periodic(cron="25 * * * *", queue_name="low")
def seed_survey_rule() -> dict:
    """Hourly: the satisfaction-survey rule appears on a fresh install without a manual step (seeded once)."""
    from portal.extensions import db
    from portal.presales.services.surveys import ensure_default_rules
    created = ensure_default_rules()
    db.session.commit()
    return {"created": created}
