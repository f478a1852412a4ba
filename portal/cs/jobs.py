"""Customer success periodic jobs."""
from portal.jobs import periodic


@periodic(cron="0 3 * * *", queue_name="low")
def nightly_health():
    """03:00 (São Paulo): make sure the default alerts exist, then score every account for today."""
    from portal.cs.services.alerts import ensure_default_rules
    from portal.cs.services.health import recompute
    from portal.extensions import db
    ensure_default_rules()
    from portal.cs.services.nps_survey import ensure_survey_rule
    ensure_survey_rule()  # the quarterly NPS survey rule
    summary = recompute()
    db.session.commit()
    return {"day": summary.day.isoformat(), "accounts": summary.accounts, "grade_changes": summary.grade_changes}


@periodic(cron="0 * * * *", queue_name="low")
def escalate_detractors():
    """Hourly: overdue detractor tasks (NPS 0–6 with no response) are escalated to the CS leader."""
    from portal.cs.services.nps import escalate_overdue
    from portal.extensions import db
    count = escalate_overdue()
    db.session.commit()
    return {"escalated": count}
