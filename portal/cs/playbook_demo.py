"""Demo of the migration playbooks: "Despesas v1" is legacy, succeeded by "Despesas" (with its current price
table); six demo accounts still run it, across the three touch models; four are mid-migration (one still on
both products after the agreed end of its parallel period, so the plan flags it). Idempotent by product name."""
from datetime import timedelta

from sqlalchemy import select

from portal.cs.models import Account, local_today
from portal.cs.playbook_models import STEPS
from portal.cs.services import accounts as account_services
from portal.cs.services import playbooks
from portal.dbtypes import utcnow
from portal.extensions import db

LEGACY, SUCCESSOR = "Despesas v1", "Despesas"
TABLE = [("Aprovação de despesas", "1,20"), ("Leitura de recibos", "0,80"), ("Relatório de economia", "0,50"),
         ("Políticas de gastos", "0,40"), ("Cartão virtual", "1,50")]
# account, touch model, steps done, parallel period (days from today; None: none), kept components
ACCOUNTS = [
    ("Hospital Santa Clara", "high", 4, 30, [("Aprovação de despesas", "0,95"), ("Relatório de economia", "0,40")]),
    ("Agropecuária Vale Verde", "mid", 6, -5, [("Aprovação de despesas", "1,00")]),
    ("Cooperativa Agro Campos", "mid", 1, None, []),
    ("Distribuidora Pampa", "tech", 0, None, []),
    ("Editora Ponto Final", "tech", None, None, []),
    ("Clínica Sorriso Pleno", "tech", None, None, []),
]
NOTES = {"negotiation": "Apresentação do novo produto com a documentação de integração; cliente aceitou migrar.",
         "swap": "Troca de produto registrada (não venda adicional); avisado que haverá novo ID de entidade.",
         "commercial": "Oportunidade seguiu o fluxo de troca de produto: novo contrato e nova precificação.",
         "credentials": "Credenciais de teste e produção criadas para o novo ID.",
         "go_live": "Cliente integrado e em produção na nova plataforma.",
         "logins": "Logins da interface solicitados ao suporte; avanço de produção registrado."}


def load_demo_playbooks(users):
    if account_services.product_by_name(LEGACY) is not None:
        return
    csm = users["csm@demo.portal"]
    successor = account_services.product_by_name(SUCCESSOR) or account_services.save_product({"name": SUCCESSOR})
    legacy = account_services.save_product({"name": LEGACY})
    db.session.flush()
    playbooks.save_lifecycle(legacy, {"legacy": "1", "successor_id": str(successor.id)}, csm)
    for name, price in TABLE:
        playbooks.save_component(successor, {"name": name, "price": price})
    today = local_today()
    for index, (name, touch, done, parallel, kept) in enumerate(ACCOUNTS):
        account = db.session.execute(select(Account).where(Account.name == name)).scalar_one_or_none()
        if account is None:
            continue
        account.products = [*account.products, legacy]
        account_services.update_account(account, {"touch_model": touch}, csm)
        if done is None:
            continue
        migration = playbooks.start_migrations(legacy, [account], csm)[0]
        started = today - timedelta(days=70 - index * 5)
        migration.created_at = utcnow() - timedelta(days=70 - index * 5)
        for i, key in enumerate(list(STEPS)[:done]):
            owner = users["lider.cs@demo.portal"] if key == "negotiation" and touch == "high" else csm
            playbooks.complete_step(migration, {"step": key, "owner_id": owner.id, "notes": NOTES.get(key, ""),
                                                "done_on": started + timedelta(days=6 * i + 1),
                                                "new_entity_id": f"ENT-{4100 + index}"}, csm)
        if parallel is not None:
            playbooks.save_details(migration, {"legacy_entity_id": f"ENT-{3100 + index}",
                                               "new_entity_id": migration.new_entity_id or f"ENT-{4100 + index}",
                                               "parallel_until": today + timedelta(days=parallel)}, csm)
        for component, price in kept:
            playbooks.save_price(migration, {"name": component, "kept": "1", "legacy_price": price}, csm)
        if kept:
            playbooks.save_price(migration, {"name": "Cartão virtual"}, csm)
    playbooks.ensure_parallel_rule()
