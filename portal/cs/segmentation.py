"""Segmentation: Enterprise or ME/PME from the leader's rules (any / all / at least N criteria).

`classify` is pure (unit-tested on the seed's edge values); `preview` says which accounts a new rule set
would move before `apply_rules` saves it and moves them, in one transaction.
"""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.errors import ServiceError
from portal.cs.models import DEFAULT_TOUCH, SEGMENTS, Account
from portal.extensions import db

FIELDS = {  # field → (label, kind)
    "employees": ("Colaboradores prestando contas", "int"),
    "mrr_cents": ("MRR", "money"),
    "products_count": ("Produtos contratados", "int"),
    "from_competitor": ("Veio de concorrente", "bool"),
    "contact_points": ("Pontos de contato", "int"),
}
OPS = {"gt": "mais de", "ge": "a partir de", "is_true": "sim"}
MODES = {"any": "Qualquer critério", "all": "Todos os critérios", "at_least": "Pelo menos N critérios"}


def account_values(account: Account) -> dict:
    return {"employees": account.employees or 0, "mrr_cents": account.mrr_cents or 0,
            "products_count": account.products_count, "from_competitor": bool(account.from_competitor),
            "contact_points": account.contact_points or 0}


def criterion_holds(criterion: dict, values: dict) -> bool:
    actual = values.get(criterion["field"])
    if criterion["op"] == "is_true":
        return bool(actual)
    if actual is None:
        return False
    limit = criterion.get("value") or 0
    return actual > limit if criterion["op"] == "gt" else actual >= limit


def classify(values: dict, rules: dict) -> str:
    """'enterprise' when the enabled criteria are met as the mode says, else 'smb'."""
    criteria = [c for c in rules.get("criteria", []) if c.get("enabled")]
    if not criteria:
        return "smb"
    met = sum(1 for c in criteria if criterion_holds(c, values))
    mode = rules.get("mode", "any")
    if mode == "all":
        hit = met == len(criteria)
    elif mode == "at_least":
        hit = met >= max(1, int(rules.get("at_least") or 1))
    else:
        hit = met >= 1
    return "enterprise" if hit else "smb"


def reasons(values: dict, rules: dict) -> list[str]:
    """The criteria an account meets, in words (shown next to its segment)."""
    out = []
    for c in rules.get("criteria", []):
        if c.get("enabled") and criterion_holds(c, values):
            out.append(describe(c))
    return out


def describe(criterion: dict) -> str:
    label, kind = FIELDS[criterion["field"]]
    if criterion["op"] == "is_true":
        return label
    value = criterion.get("value") or 0
    if kind == "money":
        from portal.web.filters import brl
        shown = brl(value)
    else:
        shown = str(value)
    return f"{label} {OPS[criterion['op']]} {shown}"


def clean_rules(data: dict) -> dict:
    """Form data (mode, at_least, <field>_enabled / _op / _value) → rules, or ServiceError."""
    from portal.web.csv_import import parse_decimal
    errors, criteria = {}, []
    mode = data.get("mode") or "any"
    if mode not in MODES:
        errors["mode"] = "Escolha como combinar os critérios."
    for field, (label, kind) in FIELDS.items():
        enabled = bool(data.get(f"{field}_enabled"))
        if kind == "bool":
            criteria.append({"field": field, "op": "is_true", "value": None, "enabled": enabled})
            continue
        op = data.get(f"{field}_op") or "gt"
        if op not in ("gt", "ge"):
            errors[f"{field}_op"] = "Escolha a comparação."
        raw = data.get(f"{field}_value")
        try:
            number = parse_decimal(raw) if raw not in (None, "") else None
        except ValueError:
            number = None
        if number is None or number < 0:
            errors[f"{field}_value"] = "Informe um número (0 ou mais)."
            value = 0
        else:
            value = int(round(number * 100)) if kind == "money" else int(number)
        criteria.append({"field": field, "op": op, "value": value, "enabled": enabled})
    at_least = data.get("at_least")
    try:
        at_least = int(at_least or 1)
    except (TypeError, ValueError):
        at_least = 0
    enabled = sum(1 for c in criteria if c["enabled"])
    if mode == "at_least" and not 1 <= at_least <= max(enabled, 1):
        errors["at_least"] = f"Informe um número entre 1 e {max(enabled, 1)} (critérios ativos)."
    if not enabled:
        errors["mode"] = "Ative ao menos um critério."
    if errors:
        raise ServiceError(errors)
    return {"mode": mode, "at_least": max(at_least, 1), "criteria": criteria}


@dataclass
class Move:
    account: Account
    current: str
    proposed: str

    @property
    def current_label(self):
        return SEGMENTS[self.current]

    @property
    def proposed_label(self):
        return SEGMENTS[self.proposed]


def preview(rules: dict) -> tuple[list[Move], int]:
    """(accounts whose segment would change, accounts looked at). Writes nothing."""
    accounts = db.session.execute(select(Account).options(selectinload(Account.products))
                                  .order_by(Account.name)).scalars().all()
    moves = []
    for account in accounts:
        proposed = classify(account_values(account), rules)
        if proposed != account.segment:
            moves.append(Move(account, account.segment, proposed))
    return moves, len(accounts)


def apply_rules(rules: dict, user) -> list[Move]:
    """Save the rules and re-segment every account (one transaction; the caller commits)."""
    from portal.cs.settings import save_section
    save_section("segmentation", rules, user)
    moves, _ = preview(rules)
    for move in moves:
        set_segment(move.account, move.proposed, user)
    return moves


def set_segment(account: Account, segment: str, user=None, reschedule_now: bool = True) -> bool:
    """Move an account to a segment: touch model follows unless the CSM chose another, cadence is redone."""
    if account.segment == segment:
        return False
    from portal.accounts.audit import audit
    from portal.automation.events import publish
    from portal.cs.services.journey import refresh_cadence, reschedule
    old = account.segment
    if account.touch_model == DEFAULT_TOUCH.get(old):
        account.touch_model = DEFAULT_TOUCH[segment]
    account.segment = segment
    moved = refresh_cadence(account)
    audit("account.segment_changed", account, user=user, **{"from": old, "to": segment})
    publish("account.segment_changed", account, actor=user, **{"from": old, "to": segment,
                                                                "de": SEGMENTS[old], "para": SEGMENTS[segment]})
    if reschedule_now:
        reschedule(account, moved)
    return True
