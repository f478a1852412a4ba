"""`portal demo` loads a company's quarter, not a fixture: a few hundred leads over 90 days across teams,
stages and channels, buyers in every personalization state, CS accounts with months of history; a second run
changes no table, and the load does not flood the worker (no event or message per historic lead)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from tests.security.matrix import module_world


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the suite's per-test truncation: the demo below is loaded once for the whole module."""
    yield


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


@pytest.fixture(scope="module")
def demo(app):
    from portal.dbtypes import utcnow
    from portal.web.demo import load_demo

    def build():
        started = utcnow()
        load_demo()
        db.session.commit()
        return {"started": started, "counts": _counts()}
    with module_world(app, build) as (built, seconds):
        yield {**built, "seconds": seconds}


def _user(email):
    from portal.accounts.services import find_user_by_email
    return find_user_by_email(email)


def test_second_run_changes_no_table(demo):
    from portal.web.demo import load_demo
    load_demo()
    db.session.commit()
    after = _counts()
    assert {t: (n, after[t]) for t, n in demo["counts"].items() if after[t] != n} == {}


def test_presales_is_a_quarter_of_leads_across_teams_stages_and_channels(demo):
    from portal import normalize
    from portal.presales.models import Lead, LeadContactKey, Narrative, Schedule
    from portal.web.filters import local_tz
    now = demo["started"]
    leads = db.session.execute(select(Lead).order_by(Lead.id)).scalars().all()
    assert 300 <= len(leads) <= 600
    assert min(lead.created_at for lead in leads) >= now - timedelta(days=91)
    days = {lead.created_at.astimezone(local_tz()).date() for lead in leads}
    assert len(days) >= 60  # spread over the quarter, not bunched on one day
    weeks_ago = [sum(now - timedelta(days=7 * (w + 1)) <= lead.created_at < now - timedelta(days=7 * w)
                     for lead in leads) for w in range(12)]
    assert all(n >= 5 for n in weeks_ago), weeks_ago
    # numbers follow arrival
    assert [lead.number for lead in sorted(leads, key=lambda lead: (lead.created_at, lead.id))] == \
        [lead.number for lead in leads]
    assert len({lead.stage_id for lead in leads}) == 7
    statuses = {s: sum(lead.status == s for lead in leads) for s in ("open", "won", "lost")}
    assert statuses["won"] >= 10 and statuses["lost"] >= 50 and statuses["open"] >= 80, statuses
    assert all(lead.loss_reason_id and lead.closed_at for lead in leads if lead.status == "lost")
    assert len({lead.loss_reason_id for lead in leads if lead.status == "lost"}) >= 5
    assert len({lead.channel_id for lead in leads}) >= 6 and len({lead.media_id for lead in leads}) >= 6
    owners = {lead.owner for lead in leads if lead.owner}
    assert len(owners) >= 8 and len({o.team_id for o in owners}) == 3
    # plausible people: Brazilian names, valid phones, e-mails only in example domains, no repeats
    assert any(re.search(r"[áéíóúâêôãõç]", lead.name) for lead in leads)
    assert all(normalize.phone(lead.phone) == lead.phone for lead in leads if lead.phone)
    emails = [lead.email for lead in leads if lead.email]
    assert len(emails) == len(set(emails))
    assert all(re.search(r"@(exemplo|example)\.", e) for e in emails)
    # every lead holds its duplicate keys (a new entry with the same phone is a re-entry, not a second lead)
    keys = db.session.scalar(select(func.count()).select_from(LeadContactKey))
    assert keys == sum(bool(lead.email) + bool(lead.phone) for lead in leads)
    # history: contacts by people, overdue and missed clocks, visits done / late / ahead, live negotiations
    contacts = db.session.scalar(select(func.count()).where(Narrative.kind.in_(["call", "whatsapp", "email", "visit"]),
                                                            Narrative.author_id.is_not(None)))
    assert contacts >= 2 * len(leads)
    assert sum(lead.sla_breached_at is not None for lead in leads) >= 5
    assert sum(lead.first_response_at is not None and lead.first_response_at > lead.first_response_due
               for lead in leads if lead.first_response_due) >= 10
    schedules = db.session.execute(select(Schedule)).scalars().all()
    assert sum(s.done_at is not None for s in schedules) >= 30
    assert sum(s.done_at is None and s.scheduled_at < now for s in schedules) >= 3
    assert sum(s.done_at is None and s.scheduled_at > now for s in schedules) >= 10
    assert all(8 <= s.scheduled_at.astimezone(local_tz()).hour < 21 for s in schedules)  # office hours
    assert sum(lead.status == "open" and lead.negotiated_value_cents is not None for lead in leads) >= 10


def test_the_managers_dashboard_has_figures_for_every_stage(demo):
    from portal.presales.metrics import Metrics, Period
    from portal.presales.metrics.figures import today_local
    today = today_local()
    for email in ("gestor@demo.portal", "gestora.sul@demo.portal"):
        metrics = Metrics(_user(email), Period.resolve(today - timedelta(days=89), today), now=demo["started"])
        assert metrics.total >= 100 and metrics.won and metrics.lost
        assert all(step.reached > 0 for step in metrics.funnel), [(s.stage.name, s.reached) for s in metrics.funnel]
        assert metrics.sla.on_time and metrics.sla.late and metrics.schedule_count("done")
        assert len(metrics.by_owner) >= 3 and metrics.loss_reasons and metrics.activities()


def test_the_pre_sales_survey_has_answers_and_its_rule(demo):
    from portal.automation.models import Rule
    from portal.presales.services.surveys import summary
    assert db.session.scalar(select(func.count()).select_from(Rule).where(Rule.event_type == "lead.handed_off"))
    figures = summary(_user("gestor@demo.portal"))
    assert figures["sent"] >= 50 and 0.3 <= figures["answered"] / figures["sent"] <= 0.7, figures
    assert 3.5 <= figures["average"] <= 4.6 and figures["latest_comments"], figures


def test_history_does_not_flood_the_worker(demo):
    """The quarter is written, not replayed: no event, message or notification per historic lead, and no
    clock left for the SLA sweep to alert on."""
    from portal.automation.models import Delivery, Event, Notification
    from portal.presales.services import sla
    lead_events = db.session.scalar(select(func.count()).where(Event.type.like("lead.%")))
    assert lead_events <= 30  # the few leads of today that come in through intake and the roulette
    assert db.session.scalar(select(func.count()).select_from(Delivery)) <= 20
    assert db.session.scalar(select(func.count()).select_from(Notification)) <= 30
    assert sla.sweep(demo["started"]) == {"first_response": 0, "stage": 0}


def test_buyers_are_in_every_state_and_cs_accounts_have_months_of_history(demo):
    from portal.cs.models import HealthScore
    from portal.cs.nps_models import Churn, NpsResponse
    from portal.cs.retention_models import MrrChange
    from portal.personalize.esign.models import Envelope
    from portal.personalize.models import Selection
    assert set(db.session.execute(select(Selection.status)).scalars()) == {"not_started", "draft", "submitted",
                                                                          "reopened"}
    assert {"sent", "signed"} <= set(db.session.execute(select(Envelope.status)).scalars())
    assert db.session.scalar(select(func.count()).select_from(Selection)) >= 15
    days = db.session.execute(select(func.min(HealthScore.day), func.max(HealthScore.day))).one()
    assert (days[1] - days[0]).days >= 110  # months, not the last five weeks
    churns = db.session.execute(select(Churn)).scalars().all()
    assert {c.kind for c in churns} == {"cancellation", "non_renewal", "downgrade"}
    assert len({c.churn_date.replace(day=1) for c in churns}) >= 3
    assert db.session.scalar(select(func.count()).select_from(MrrChange)) >= 3
    assert db.session.scalar(select(func.count()).select_from(NpsResponse)) >= 20
    # an account's timeline tells months: it was created, onboarded and answered NPS back then, not today
    from portal.automation.models import Event
    from portal.cs.models import Account, Contact, OnboardingStep
    month_ago = demo["started"] - timedelta(days=30)
    old = [a for a in db.session.execute(select(Account)).scalars() if a.created_at < month_ago]
    assert len(old) >= 10
    for account in old:
        events = db.session.execute(select(Event).where(Event.subject_type == "account", Event.subject_id == account.id,
                                                        Event.type.in_(["account.created", "account.onboarding_step"]))
                                    ).scalars().all()
        assert events and all(e.created_at < demo["started"] - timedelta(days=1) for e in events), account.name
        steps = db.session.execute(select(OnboardingStep.done_at).where(OnboardingStep.account_id == account.id)
                                   ).scalars().all()
        assert all(account.created_at < at < demo["started"] - timedelta(days=1) for at in steps), account.name
    assert all(re.search(r"\.exemplo\.com\.br$", c.email) for c in db.session.execute(select(Contact)).scalars())
