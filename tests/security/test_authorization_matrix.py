"""Authorization matrix (issue 15): every record-bearing route of `app.url_map`, as every role, with ids of
records OUTSIDE that role's reach, GET and every write method the rule allows, with a real CSRF token.
Each answer must be 403/404 (anonymous: the login page) and the database must not change.

Nothing here lists routes: the plan is generated from the URL map, so a new route is covered without
editing this file; a new id argument must be mapped in `matrix.ARG_MODELS` (the test fails until it is) and
a route that answers anonymous visitors must be in `matrix.PUBLIC_ENDPOINTS` with its reason.

Two variants per route: *foreign* (every id names a record the role cannot reach; a child is taken under
the chosen parent when one exists, as an attacker who read the ids elsewhere would) and, for nested
routes, *mixed* (the first id is the role's own record, the others belong to someone else: the view must
check that the child belongs to the parent). Admin reaches every record, so only *mixed* applies to it.

The world is the demo data set plus records of the kinds the demo lacks, built once per module (this
module overrides the suite's per-test truncation and empties the tables itself at the end)."""
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db, limiter
from tests.security import matrix
from tests.factories import give_unit, make_team, make_user

ROLES = ["admin", "manager", "sdr", "broker", "csm", "cs_leader", "personalization", "customer"]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DENIED = (403, 404)


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the suite's per-test truncation: the world below is built once for the whole module."""
    yield


@pytest.fixture(scope="module")
def world(app):
    # The suite's app skips CSRF; the matrix posts with real tokens.
    with matrix.module_world(app, _build_world, WTF_CSRF_ENABLED=True) as (attackers, seconds):
        yield {"attackers": attackers, "built_in": seconds}


def _build_world() -> dict:
    from portal.web.demo import load_demo
    load_demo()
    db.session.commit()
    _add_missing_records()
    by_email = {u.email: u.id for u in db.session.execute(select(User)).scalars()}
    # The demo's CS leader leads every CSM, its personalization staff has both developments and its buyers,
    # questions, contracts and appointments live in the first one: the matrix's leader, staff member and
    # buyer belong to a branch team and to the second development, so the demo's records are beyond them.
    leader = make_user("cs_leader", name="Lia Filial")
    team = make_team("CS Filial", manager=leader)
    leader.team_id = team.id
    staff = make_user("personalization", name="Pedro Personalização")
    buyer = make_user("customer", name="Renata Compradora")
    from portal.realestate.models import Development, Unit
    last_dev = db.session.execute(select(Development).order_by(Development.id.desc())).scalars().first()
    last_dev.staff.append(staff)
    unit = db.session.execute(select(Unit).where(Unit.development_id == last_dev.id).order_by(Unit.id)).scalars().first()
    give_unit(buyer, unit)
    db.session.commit()
    return {"admin": by_email["admin@demo.portal"], "manager": by_email["gestora.sul@demo.portal"],
            "sdr": by_email["sdr@demo.portal"], "broker": by_email["corretora@demo.portal"],
            "csm": by_email["csm@demo.portal"], "cs_leader": leader.id, "personalization": staff.id,
            "customer": buyer.id}


def _add_missing_records():
    """Rows of the kinds the demo does not create, so every id argument names a real record."""
    from portal.automation.models import Delivery, Holiday
    from portal.cs.models import Account
    from portal.cs.nps_models import Churn, ChurnReason
    from portal.personalize.contracts import Contract
    from portal.personalize.esign.models import Envelope, Signer
    from portal.personalize.models import BuyerProfileField
    from portal.personalize.questions import QuestionAttachment, QuestionMessage
    from portal.presales.models import Campaign, CustomField, Lead, Offer, Pipeline, Queue, Schedule, Stage
    from portal.reports.models import ReportRun
    now = datetime.now(timezone.utc)
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    leads = db.session.execute(select(Lead).order_by(Lead.id)).scalars().all()
    queue = db.session.execute(select(Queue).order_by(Queue.id)).scalars().first()
    other = Pipeline(name="Funil de locação")
    db.session.add_all([other, Stage(pipeline=other, name="Novo"), CustomField(key="renda", label="Renda"),
                        BuyerProfileField(key="pet", label="Tem pet?")])
    reason = ChurnReason(name="Preço")
    db.session.add(reason)
    for account in db.session.execute(select(Account).order_by(Account.id).limit(3)).scalars():
        db.session.add(Churn(account_id=account.id, kind="cancellation", churn_date=now.date(), mrr_lost_cents=1000,
                             reason_id=reason.id, csm_id=account.csm_id, segment=account.segment or "smb"))
    enveloped = set(db.session.execute(select(Envelope.selection_id)).scalars())
    for contract in db.session.execute(select(Contract).order_by(Contract.id)).scalars():
        if contract.selection_id in enveloped:  # the demo sent it for signature already: one valid envelope a unit
            continue
        enveloped.add(contract.selection_id)
        envelope = Envelope(contract_id=contract.id, selection_id=contract.selection_id,
                            development_id=contract.development_id, status="sent")
        db.session.add_all([envelope, Signer(envelope=envelope, role="buyer", name="Comprador", locked_at=now)])
    for message in db.session.execute(select(QuestionMessage).order_by(QuestionMessage.id)).scalars():
        db.session.add(QuestionAttachment(message_id=message.id, unit_id=message.question.unit_id,
                                          stored_name=f"matrix-{message.id}.png", content_type="image/png"))
    db.session.add(Holiday(day=now.date() + timedelta(days=40), name="Feriado da cidade"))
    db.session.add(matrix.ApiClient(name="Site", token_hash="x" * 64, token_prefix="x"))
    for lead in leads:
        owner_id = lead.owner_id or lead.sdr_id or users["corretor@demo.portal"].id
        db.session.add(Offer(lead_id=lead.id, queue_id=queue.id, user_id=owner_id, expires_at=now + timedelta(hours=1)))
        db.session.add(Schedule(lead_id=lead.id, owner_id=owner_id, scheduled_at=now + timedelta(days=1)))
    for u in users.values():
        db.session.add(ReportRun(user_id=u.id, report_key="presales.customer_service", status="done"))
        db.session.add(Delivery(channel="email", recipient=u.email, subject="Olá", body="Olá",
                                status="sent", idempotency_key=f"matrix-{u.id}"))
        if u.role in ("manager", "sdr", "broker"):
            db.session.add(Campaign(name=f"Oferta de {u.name}", queue_id=queue.id, created_by_id=u.id))
    db.session.commit()


def _token(client, path="/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _login(client, user_id) -> str:
    user = db.session.get(User, user_id)
    token = _token(client)
    password = "portal123" if user.email.endswith("@demo.portal") else "segredo123"
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return _token(client, "/")


class Picker:
    """Chooses records inside / outside one user's reach (cached per role)."""

    def __init__(self, user):
        self.user = user
        self.cache = {}

    def rows(self, model):
        if model not in self.cache:
            self.cache[model] = db.session.execute(select(model).order_by(model.id)).scalars().all()
        return self.cache[model]

    def pick(self, model, reachable: bool | None, method, under=None, unrelated_to=None):
        """The first record of `model` that the user can (reachable=True) or cannot (False) reach, or either
        (None); among the children of `under` when it has any; never one related to `unrelated_to`."""
        rows = self.rows(model)
        if under is not None:
            rows = [r for r in rows if _related(r, under)] or rows
        if unrelated_to is not None:
            rows = [r for r in rows if not _related(r, unrelated_to)]
        if reachable is not None:
            rows = [r for r in rows if matrix.visible(self.user, model, r, method) == reachable]
        return rows[0] if rows else None


def _fks(row) -> dict:
    return {(fk.column.table.name, getattr(row, fk.parent.key, None)) for fk in row.__table__.foreign_keys}


def _related(a, b) -> bool:
    """One row names the other, or both name the same row of a third table (e.g. the same development)."""
    fa, fb = _fks(a), _fks(b)
    return ((b.__table__.name, b.id) in fa or (a.__table__.name, a.id) in fb
            or bool({k for k in fa & fb if k[1] is not None}))


def plan(app, picker, anonymous=False):
    """Yields (label, url, method) for every record-bearing rule, and the rules left out with why."""
    skipped = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        ids = matrix.int_args(rule)
        if not ids:
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for values in matrix.expansions(rule):
            models = [matrix.model_for(rule, a, values.get("kind")) for a in ids]
            variants = [("mixed", True)] if len(ids) > 1 else []
            if picker.user.role != "admin":
                variants.insert(0, ("foreign", False))
            for (variant, first_reachable), method in ((v, m) for v in variants for m in methods):
                chosen, chosen_rows, previous = {}, [], None
                for i, (arg, model) in enumerate(zip(ids, models)):
                    if variant == "foreign":
                        row = picker.pick(model, False, method, under=previous)
                    elif i == 0:
                        row = picker.pick(model, True, method)
                    else:  # someone else's record if there is one, and never one of the parent's
                        row = (picker.pick(model, False, method, unrelated_to=chosen_rows[0])
                               or picker.pick(model, None, method, unrelated_to=chosen_rows[0]))
                    if row is None:
                        missing = f"{arg} ({model.__name__})"
                        break
                    chosen[arg], previous = row.id, row
                    chosen_rows.append(row)
                if len(chosen) < len(ids):
                    skipped.append(f"{method} {rule.endpoint} {values} {variant}: no {'fitting' if variant == 'mixed' else 'out-of-scope'} "
                                   f"record for {missing}")
                    continue
                url = rule.build({**values, **chosen}, append_unknown=False)[1]
                yield f"{variant} {rule.endpoint}", url, method
    plan.skipped = skipped


def test_every_id_argument_names_a_model(app):
    assert matrix.unmapped_arguments(app) == [], "map the new argument in tests/security/matrix.py ARG_MODELS"


@pytest.mark.parametrize("role", ROLES)
def test_role_cannot_reach_records_outside_its_scope(app, world, role, capsys):
    with app.app_context():
        limiter.reset()
        user = db.session.get(User, world["attackers"][role])
        client = app.test_client()
        token = _login(client, user.id)
        # The token is live (a write without it is refused) and valid (a harmless write with it is not).
        assert client.post("/automacao/notificacoes/lidas").status_code == 400
        assert client.post("/automacao/notificacoes/lidas", data={"csrf_token": token}).status_code in (200, 302)

        fingerprint = matrix.Fingerprint(db.metadata.sorted_tables)
        stop = fingerprint.listen(db.engine)
        try:
            checksum = fingerprint.checksum()
            counts = fingerprint.counts()
            failures, done, routes, pairs = [], 0, set(), set()
            started = time.monotonic()
            for label, url, method in list(plan(app, Picker(user))):
                fingerprint.committed.clear()
                response = client.open(url, method=method, data={"csrf_token": token},
                                       headers={"X-CSRFToken": token, "X-Requested-With": "matrix"})
                done += 1
                routes.add(label.split()[1])
                pairs.add((label.split()[1], method))
                if response.status_code not in DENIED:
                    failures.append(f"{method} {url} [{label}] -> {response.status_code}")
                if method in WRITE_METHODS or fingerprint.committed:
                    db.session.rollback()
                    now = fingerprint.counts()
                    changed = {t: (counts[t], now[t]) for t in now if now[t] != counts[t]}
                    if changed or fingerprint.committed:
                        failures.append(f"{method} {url} [{label}] wrote: {changed or fingerprint.committed[:3]}")
                        counts = now
            db.session.rollback()
            assert fingerprint.checksum() == checksum or failures, "the database changed during the matrix"
        finally:
            stop()
        elapsed = time.monotonic() - started
        with capsys.disabled():
            print(f"\nauthorization matrix [{role}]: {len(routes)} routes, {len(pairs)} route x method, {done} requests in {elapsed:.1f}s "
                  f"(world built in {world['built_in']:.1f}s); not formed: {len(plan.skipped)}")
            for line in plan.skipped:
                print("   not formed:", line)
        assert not failures, "\n".join(failures)


def test_anonymous_visitor_reaches_only_the_public_routes(app, world, capsys):
    """Every route of the URL map (record-bearing or not), every method, without a login: the login page,
    401, 403 or 404 — except the explicitly public endpoints."""
    stale = sorted(set(matrix.PUBLIC_ENDPOINTS) - {r.endpoint for r in app.url_map.iter_rules()})
    assert not stale, f"PUBLIC_ENDPOINTS names routes that no longer exist: {stale}"
    with app.app_context():
        limiter.reset()
        client = app.test_client()
        token = _token(client)
        fingerprint = matrix.Fingerprint(db.metadata.sorted_tables)
        stop = fingerprint.listen(db.engine)
        failures, done = [], 0
        try:
            counts = fingerprint.counts()
            for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
                if rule.endpoint in matrix.PUBLIC_ENDPOINTS:
                    continue
                for values in matrix.expansions(rule):
                    ids = {}
                    for arg in matrix.int_args(rule):
                        model = matrix.model_for(rule, arg, values.get("kind"))
                        ids[arg] = db.session.execute(select(model.id).order_by(model.id)).scalars().first() or 1
                    others = {a: "x" for a in rule.arguments if a not in ids and a not in values}
                    url = rule.build({**others, **values, **ids}, append_unknown=False)[1]
                    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                        fingerprint.committed.clear()
                        response = client.open(url, method=method, data={"csrf_token": token},
                                               headers={"X-CSRFToken": token})
                        done += 1
                        to_login = response.status_code == 302 and "/login" in response.headers.get("Location", "")
                        if not (to_login or response.status_code in (401, 403, 404)):
                            failures.append(f"{method} {url} [{rule.endpoint}] -> {response.status_code}")
                        if fingerprint.committed:
                            failures.append(f"{method} {url} wrote {fingerprint.committed[:3]}")
            db.session.rollback()
            changed = {t for t, n in fingerprint.counts().items() if counts[t] != n}
            assert not changed, f"anonymous requests changed {changed}"
        finally:
            stop()
        with capsys.disabled():
            print(f"\nauthorization matrix [anonymous]: {done} requests; {len(matrix.PUBLIC_ENDPOINTS)} public endpoints "
                  "allowed by name")
        assert not failures, "\n".join(failures)
