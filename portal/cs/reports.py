"""The weekly at-risk accounts report (PDF/CSV through portal.reports): red health, the CSM's manual flag or
a score drop of more than N points in 7 days. A seeded schedule rule e-mails it to the CS leaders every
Monday 08:00 (portal.cs.services.at_risk.ensure_weekly_rule); it is always downloadable in Relatórios."""
from sqlalchemy import or_
from wtforms.fields import IntegerField
from wtforms.validators import NumberRange, Optional

from portal.accounts.scope import scoped
from portal.cs.models import Account
from portal.extensions import db
from portal.reports.forms import ParamsForm
from portal.reports.registry import Column, Report, register
from portal.web import filters

KEY = "cs.at_risk"
DEFAULT_DROP = 10


class AtRiskParams(ParamsForm):
    drop = IntegerField("Queda da nota em 7 dias maior que (pontos)", default=DEFAULT_DROP,
                        validators=[Optional(), NumberRange(min=1, max=100)])


def _drop(params) -> int:
    value = (params or {}).get("drop")
    return int(value) if value else DEFAULT_DROP


def reasons(account: Account, drop: int) -> list[str]:
    """Why the account is on the list, then the weak measures of its latest score breakdown."""
    from portal.cs.services import health
    out = []
    if account.health_grade == "red":
        out.append(f"Saúde vermelha ({account.health_score})")
    if account.risk_flag:
        out.append("Sinalizada pelo CSM" + (f": {account.risk_reason}" if account.risk_reason else ""))
    if account.health_change_7d is not None and account.health_change_7d < -drop:
        out.append(f"Nota caiu {-account.health_change_7d} pontos em 7 dias")
    explained = health.why(account)
    if explained is not None:
        weak = [line for line in explained.lines if line.score is not None and line.score < 50]
        out.extend(f"{line.label}: {line.score}" for line in sorted(weak, key=lambda line: line.score))
    return out


def at_risk_accounts(user, drop: int = DEFAULT_DROP) -> list[Account]:
    stmt = (scoped(user, Account)
            .where(or_(Account.health_grade == "red", Account.risk_flag.is_(True), Account.health_change_7d < -drop))
            .order_by(Account.mrr_cents.desc(), Account.name))
    return db.session.execute(stmt).scalars().all()


@register
class AtRiskAccounts(Report):
    key = KEY
    title = "Contas em risco (semanal)"
    description = ("Contas com saúde vermelha, sinalizadas pelo CSM ou com queda da nota acima do limite em 7 dias: "
                   "CSM, MRR em risco, motivos do detalhamento da nota, último contato e próxima ação.")
    roles = ("cs_leader",)
    form = AtRiskParams
    landscape = True
    columns = [
        Column("account", "Conta", width="18%"),
        Column("csm", "CSM", width="12%"),
        Column("mrr_cents", "MRR em risco", "money"),
        Column("score", "Nota", "number"),
        Column("reasons", "Motivos", width="30%"),
        Column("last_touchpoint_at", "Último contato", "date"),
        Column("next_action", "Próxima ação", width="16%"),
    ]

    def rows(self, user, params):
        drop = _drop(params)
        for account in at_risk_accounts(user, drop):
            follow = account.next_follow_up_at
            yield {"account": account.name, "csm": account.csm.name if account.csm else "Sem CSM",
                   "mrr_cents": account.mrr_cents, "score": account.health_score,
                   "reasons": "; ".join(reasons(account, drop)), "last_touchpoint_at": account.last_touchpoint_at,
                   "next_action": f"Follow-up em {filters.date_br(follow)}" if follow else "Agendar contato"}

    def count(self, user, params):
        return None

    def summary(self, rows, params):
        return [("Contas em risco", filters.number(len(rows))),
                ("MRR em risco", filters.brl(sum(r["mrr_cents"] or 0 for r in rows)))]
