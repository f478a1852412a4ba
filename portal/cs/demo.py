"""Customer-success demo data: products with key features, a portfolio per CSM across the journey,
contacts, touchpoints (some follow-ups overdue), four months of usage (a few accounts falling) and of health
(weekly, then daily for the last five weeks), churns with their autopsy and expansions over the last months,
plus the default alerts. Idempotent: loaded once, when there is no account yet."""
import random
import unicodedata
from datetime import timedelta

from sqlalchemy import select
from validate_docbr import CNPJ

from portal.cs.models import PHASES, Account, local_today
from portal.cs.services import accounts as account_services
from portal.cs.services import alerts, churn, health, journey, usage
from portal.cs.services.journey import local_date
from portal.cs.services.risk import set_risk_flag
from portal.dbtypes import utcnow
from portal.extensions import db

PRODUCTS = {
    "Despesas": [("relatorio_economia", "Relatório de economia"), ("aprovacao", "Aprovação de despesas"),
                 ("ocr_recibos", "Leitura de recibos"), ("politicas", "Políticas de gastos")],
    "Viagens": [("reserva_aerea", "Reserva aérea"), ("reserva_hotel", "Reserva de hotel"),
                ("multi_agencia", "Comparação entre agências")],
    "Cartão corporativo": [("cartao_virtual", "Cartão virtual"), ("conciliacao", "Conciliação automática")],
}
# name, employees, MRR (R$), products, from competitor, contact points, phase, days in phase, CSM, trend
ACCOUNTS = [
    ("Construtora Horizonte S.A.", 850, "12.400,00", 3, True, 7, "ongoing", 200, "csm", "steady"),
    ("Agropecuária Vale Verde", 140, "3.900,00", 2, False, 5, "ongoing", 120, "csm", "falling"),
    ("Rede Farma Bem Estar", 320, "6.100,00", 2, True, 4, "adoption", 52, "csm", "steady"),
    ("Transportadora Rota Sul", 95, "1.850,00", 1, False, 3, "adoption", 20, "csm", "growing"),
    ("Grupo Educacional Saber", 410, "8.700,00", 3, False, 6, "renewal", 40, "csm", "falling"),
    ("Hospital Santa Clara", 1200, "18.000,00", 3, True, 9, "ongoing", 300, "csm", "steady"),
    ("Metalúrgica Ferraz", 60, "990,00", 1, False, 2, "onboarding", 12, "csm", "none"),
    ("Laticínios Serra Azul", 75, "1.200,00", 1, False, 2, "onboarding", 38, "csm", "none"),
    ("Cooperativa Agro Campos", 230, "2.600,00", 2, False, 4, "ongoing", 90, "csm", "growing"),
    ("Distribuidora Pampa", 40, "750,00", 1, False, 1, "ongoing", 150, "csm", "falling"),
    ("Editora Ponto Final", 35, "620,00", 1, False, 2, "renewal", 15, "csm", "steady"),
    ("Têxtil Boa Vista", 180, "2.150,00", 2, False, 3, "adoption", 30, "lider", "steady"),
    ("Clínica Sorriso Pleno", 25, "480,00", 1, False, 1, "ongoing", 60, "lider", "steady"),
    ("Logística Expressa Norte", 510, "7.300,00", 2, True, 5, "onboarding", 5, "lider", "none"),
    # former clients: their churn records below say when and why they left
    ("Supermercados Bom Preço", 260, "2.900,00", 2, False, 3, "ongoing", 330, "csm", "none"),
    ("Imobiliária Casa Nova", 45, "850,00", 1, False, 2, "ongoing", 60, "csm", "none"),
    ("Gráfica Impressão Viva", 70, "1.100,00", 1, True, 2, "ongoing", 180, "lider", "none"),
]
DECIDERS = [(n, "Diretora financeira" if n.split()[0][-1] == "a" else "Diretor financeiro", "decision") for n in (
    "Marina Figueiredo", "Roberto Amaral", "Cecília Prado", "Jorge Bittencourt", "Renata Moura", "Fernando Leal",
    "Adriana Couto", "Sérgio Pacheco", "Luciana Reis", "Otávio Brandão", "Tatiana Rezende")]
KEY_USERS = [(n, "Analista de despesas", "key_user") for n in (
    "Rafael Torres", "Bianca Sampaio", "Diego Fonseca", "Camila Arruda", "Thiago Vasconcelos", "Juliana Pires",
    "Marcos Antunes", "Paula Quintela", "André Lacerda")]
HISTORY_DAYS = 120  # usage and weekly health this far back, so the charts show months, not a fortnight
# account, kind, days ago, MRR lost (None: all of it), reason, what happened, signals, what changes
CHURNS = [
    ("Supermercados Bom Preço", "cancellation", 128, None, "Decisão top-down",
     "A matriz unificou fornecedores e cancelou o contrato.", "Queda de logins do financeiro em 6 semanas.",
     "Mapear o patrocinador na matriz, não só na filial."),
    ("Gráfica Impressão Viva", "non_renewal", 71, None, "Percepção de valor",
     "Não renovou: achou o plano caro para o volume de despesas.", "NPS 5 e nenhum relatório de economia aberto.",
     "Mostrar a economia em reais na revisão trimestral."),
    ("Imobiliária Casa Nova", "cancellation", 19, None, "Falta de uso",
     "Equipe nunca adotou a leitura de recibos; voltou para a planilha.", "Onboarding parado no passo 3.",
     "Não deixar o onboarding passar de 45 dias sem alerta."),
    ("Agropecuária Vale Verde", "downgrade", 44, "900,00", "Suporte",
     "Reduziu o plano de Viagens após chamados sem resposta.", "Três chamados com SLA estourado.",
     "Fila prioritária para contas mid touch com chamado reaberto."),
]
EXPANSIONS = [  # account, days ago, MRR before (today's is in ACCOUNTS), note
    ("Hospital Santa Clara", 112, "15.500,00", "Novo produto: Cartão corporativo para a diretoria."),
    ("Transportadora Rota Sul", 23, "1.400,00", "Mais usuários: filial de Curitiba entrou."),
    ("Cooperativa Agro Campos", 58, "2.100,00", "Upgrade do plano de Viagens."),
]


# support desk, NPS and billing inputs by usage trend: healthy accounts look healthy everywhere
HEALTH_INPUTS = {
    "steady": lambda r: {"open_tickets": r.choice([0, 1]), "sla_breaches": 0, "last_nps": r.choice([9, 10]),
                         "days_overdue": 0},
    "growing": lambda r: {"open_tickets": 0, "sla_breaches": 0, "last_nps": r.choice([8, 9, 10]), "days_overdue": 0},
    "falling": lambda r: {"open_tickets": r.choice([2, 3, 4]), "sla_breaches": 1, "last_nps": r.choice([5, 6, 7]),
                          "days_overdue": r.choice([12, 20, 35])},
    "none": lambda r: {"open_tickets": 0, "sla_breaches": 0, "last_nps": None, "days_overdue": 0},
}
PHASE_DAYS = {"onboarding": 35, "adoption": 50, "ongoing": 240}  # how long the demo's past phases lasted


def _products():
    out = {}
    for name, features in PRODUCTS.items():
        product = account_services.product_by_name(name) or account_services.save_product({"name": name})
        have = {f.code for f in product.features}
        for code, label in features:
            if code not in have:
                account_services.add_key_feature(product, {"code": code, "name": label})
        out[name] = product
    return out


def load_demo(users):
    if db.session.execute(select(Account.id).limit(1)).first():
        return  # already loaded
    rng = random.Random(7)
    products = list(_products().values())
    alerts.ensure_default_rules()
    from portal.cs.services.at_risk import ensure_weekly_rule
    ensure_weekly_rule()
    today = local_today()
    owners = {"csm": users["csm@demo.portal"], "lider": users["lider.cs@demo.portal"]}
    created = []
    for (name, employees, mrr, n_products, competitor, points, phase, days, owner, trend) in ACCOUNTS:
        before = list(PHASE_DAYS)[:list(PHASES).index(phase)]  # the phases already lived
        start = utcnow() - timedelta(days=days + sum(PHASE_DAYS[p] for p in before))
        renewal = (today + timedelta(days=max(10, 90 - days)) if phase == "renewal"
                   else local_date(start) + timedelta(days=365 * 2))
        account = account_services.create_account({
            "name": name, "cnpj": CNPJ().generate(), "employees": employees, "mrr": mrr,
            "product_ids": [p.id for p in products[:n_products]], "from_competitor": competitor,
            "competitor": "Concur" if competitor else None, "contact_points": points, "csm_id": owners[owner].id,
            "contract_start": local_date(start), "renewal_date": renewal,
            **HEALTH_INPUTS[trend](rng),
            "potential": f"{rng.randint(5, 40) * 100},00"}, owners[owner], started_at=start)
        domain = unicodedata.normalize("NFKD", name.split()[0]).encode("ascii", "ignore").decode().lower()
        for (person, title, role), k in ((DECIDERS[len(created) % len(DECIDERS)], 2 * len(created)),
                                         (KEY_USERS[len(created) % len(KEY_USERS)], 2 * len(created) + 1)):
            login = unicodedata.normalize("NFKD", person).encode("ascii", "ignore").decode().lower().replace(" ", ".")
            account_services.save_contact(account, {"name": person, "email": f"{login}@{domain}.exemplo.com.br",
                                                    "job_title": title, "role": role,
                                                    "phone": f"(11) 97{k:03d}-{1000 + 37 * k:04d}"})
        # walk the journey in the past so the history shows time in each phase
        at = utcnow() - timedelta(days=days)
        moves = []
        for prev, step in reversed(list(zip(list(PHASES), list(PHASES)[1:]))[:len(before)]):
            moves.insert(0, (step, at))
            at -= timedelta(days=PHASE_DAYS[prev])
        for step, when in moves:
            journey.change_phase(account, step, owners[owner], "", at=when)
        for key in list(journey.ONBOARDING_STEPS)[:6 if phase != "onboarding" else 3]:
            journey.set_step(account, key, True, owners[owner])
        contact_days = rng.choice([3, 10, 20] if trend in ("steady", "growing") else [25, 50, 70])
        journey.log_touchpoint(account, {"kind": rng.choice(["call", "meeting", "email"]),
                                         "summary": "Acompanhamento do uso e próximos passos",
                                         "occurred_at": utcnow() - timedelta(days=contact_days),
                                         "decision_maker": contact_days < 30}, owners[owner])
        created.append((account, trend))
    _usage(created, today, rng)
    # weekly scores for the months behind, daily for the last five weeks; each day scores the accounts that
    # were clients by then
    starts = {a.id: local_date(a.created_at) for a, _ in created}  # read once: recompute expires every object
    for back in [*range(HISTORY_DAYS - 1, 35, -7), *range(35, -1, -1)]:
        day = today - timedelta(days=back)
        ids = [account_id for account_id, start in starts.items() if start <= day]
        if ids:
            health.recompute(day, account_ids=ids)
    flagged = next(a for a, _ in created if a.name == "Distribuidora Pampa")
    set_risk_flag(db.session.get(Account, flagged.id), True,
                  "Novo diretor financeiro avalia trocar pelo concorrente", owners["csm"])
    _retention({a.name: a for a, _ in created}, owners, today)
    from portal.cs.playbook_demo import load_demo_playbooks  # a legacy product with accounts mid-migration
    load_demo_playbooks(users)
    from portal.cs.nps_demo import load_demo_nps  # NPS rounds, tagged topics, open detractors, the survey rule
    load_demo_nps()
    _date_history([a.id for a, _ in created])


def _date_history(account_ids: list[int]) -> None:
    """The services record the replayed history at today's time: date each step when it happened (the account's
    creation at its start, onboarding steps over its first weeks, each NPS answer when it was given), so an
    account's timeline reads as months, not as one minute."""
    from portal.automation.models import Event
    from portal.cs.models import OnboardingStep
    from portal.cs.nps_models import NpsResponse
    now = utcnow()
    for account in db.session.execute(select(Account).where(Account.id.in_(account_ids))).scalars():
        start = account.created_at
        steps = db.session.execute(select(OnboardingStep).where(OnboardingStep.account_id == account.id)
                                   .order_by(OnboardingStep.id)).scalars().all()
        for i, step in enumerate(steps):
            step.done_at = min(start + timedelta(days=2 + 5 * i), start + (now - start) * (i + 1) / (len(steps) + 1))
        events: dict[str, list] = {}
        for event in db.session.execute(select(Event).where(Event.subject_type == "account",
                                                            Event.subject_id == account.id).order_by(Event.id)
                                        ).scalars():
            events.setdefault(event.type, []).append(event)
        answers = db.session.execute(select(NpsResponse.answered_at).where(NpsResponse.account_id == account.id)
                                     .order_by(NpsResponse.id)).scalars().all()
        for event, at in [*((e, start) for e in events.get("account.created", [])),
                          *zip(events.get("account.onboarding_step", []), [s.done_at for s in steps]),
                          *zip(events.get("account.nps_answered", []), answers)]:
            event.created_at = at
    db.session.flush()


def _retention(accounts: dict, owners: dict, today) -> None:
    """Churns (with their autopsy) and expansions over the last months, so churn and retention show a trend."""
    churn.ensure_default_reasons()
    reasons = {r.name: r.id for r in churn.all_reasons()}
    for name, kind, days_ago, lost, reason, what, signals, changes in CHURNS:
        account = accounts[name]
        churn.record_churn(account, {"kind": kind, "churn_date": today - timedelta(days=days_ago),
                                     "mrr_lost": lost or "", "reason_id": reasons[reason], "what_happened": what,
                                     "signals": signals, "changes": changes}, owners["lider"])
        if kind != "downgrade":  # a former client pays nothing now
            account.mrr_cents = 0
            account.notes = f"Ex-cliente: {churn.CHURN_KINDS[kind].lower()} em " \
                            f"{(today - timedelta(days=days_ago)).strftime('%d/%m/%Y')}."
    for name, days_ago, before, note in EXPANSIONS:
        account = accounts[name]
        after = account.mrr_cents
        account.mrr_cents = account_services.parse_money_cents(before)  # what it paid before the expansion
        db.session.flush()
        churn.record_expansion(account, {"new_mrr": after, "change_date": today - timedelta(days=days_ago),
                                         "note": note}, owners["lider"])


def _usage(created, today, rng):
    rows = []
    for account, trend in created:
        if trend == "none":
            continue
        features = [code for p in account.products for code in [f.code for f in p.features][:3]]
        start = local_date(account.created_at)
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=back)
            if day < start:
                continue
            factor = {"steady": 1.0, "growing": 0.5 + 0.7 * (HISTORY_DAYS - back) / HISTORY_DAYS,
                      "falling": 1.2 if back > 14 else 0.35}[trend]
            weekend = 0.3 if day.weekday() >= 5 else 1.0
            for code in features:
                rows.append({"cnpj": account.cnpj, "day": day.isoformat(), "feature": code,
                             "count": int(rng.randint(8, 14) * factor * weekend)})
    for start in range(0, len(rows), usage.MAX_ROWS):
        usage.ingest(rows[start:start + usage.MAX_ROWS], today)
