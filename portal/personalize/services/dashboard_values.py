"""Valores contratados: per submitted unit the contracted total, payment, contract/envelope status and signed
date, with subtotals per tower and development. Split from services.dashboard (which re-exports these names);
the same scope and filters as every other figure there.
"""
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.personalize.contracts import PAYMENT_METHODS
from portal.personalize.esign.models import ENVELOPE_STATUSES
from portal.personalize.models import Selection
from portal.personalize.services.dashboard import Filters, Paperwork, _buyer_names, _unit_filters, paperwork
from portal.realestate.models import Development, Tower, Unit


# ---- valores contratados -----------------------------------------------------------------------------------------

def contract_status(p: Paperwork) -> str:
    if p.envelope is not None:
        return ENVELOPE_STATUSES.get(p.envelope.status, p.envelope.status)
    if p.contract is not None:
        return {"queued": "Contrato na fila", "rendered": "Contrato gerado",
                "failed": "Falha ao gerar o contrato"}.get(p.contract.status, p.contract.status_label)
    return "Sem contrato"


def payment_label(method: str | None, installments: int | None) -> str:
    if not method:
        return "A definir"
    label = PAYMENT_METHODS.get(method, method)
    return f"{label} em {installments or 1}x"


def contracted_units(user: User, f: Filters = Filters()) -> list[dict]:
    """One row per submitted unit (kind "unit")."""
    stmt = (select(Selection.id, Selection.total_cents, Unit.id, Unit.number, Tower.id, Tower.name, Development.id,
                   Development.name)
            .select_from(Selection).join(Unit, Unit.id == Selection.unit_id).join(Tower, Tower.id == Unit.tower_id)
            .join(Development, Development.id == Unit.development_id).where(Selection.status == "submitted")
            .order_by(Development.name, Development.id, Tower.name, Tower.id, Unit.floor, Unit.number, Unit.id))
    rows = db.session.execute(_unit_filters(stmt, user, f)).all()
    papers = paperwork([r[0] for r in rows])
    buyers = _buyer_names([r[2] for r in rows])
    out = []
    for sel_id, sel_total, unit_id, number, tower_id, tower, dev_id, dev in rows:
        p = papers[sel_id]
        rendered = p.contract is not None and p.contract.status == "rendered"
        method = (p.contract.payment_method if rendered and p.contract.payment_method
                  else getattr(p.payment, "method", None))
        installments = (p.contract.installments if rendered and p.contract.payment_method
                        else getattr(p.payment, "installments", None))
        signed = p.envelope is not None and p.envelope.status == "signed"
        out.append({"kind": "unit", "development_id": dev_id, "development": dev, "tower_id": tower_id,
                    "tower": tower, "unit_id": unit_id, "unit": number, "buyers": ", ".join(buyers.get(unit_id, [])),
                    "total_cents": p.contract.total_cents if rendered else (sel_total or 0),
                    "method": method, "payment": payment_label(method, installments),
                    "status": contract_status(p), "signed": signed,
                    "signed_at": p.envelope.completed_at if signed else None})
    return out


def _subtotal(rows: list[dict], kind: str, label: str, development: str = "", tower: str = "") -> dict:
    signed = [r for r in rows if r["signed"]]
    return {"kind": kind, "development": development, "tower": tower, "unit": label, "buyers": "",
            "units": len(rows), "total_cents": sum(r["total_cents"] for r in rows),
            "signed_units": len(signed), "signed_cents": sum(r["total_cents"] for r in signed),
            "payment": "", "status": f"{len(signed)} de {len(rows)} assinados", "signed_at": None, "signed": False,
            "method": None}


def contracted_rows(user: User, f: Filters = Filters()) -> list[dict]:
    """The units, each tower's subtotal (when the development has more than one tower in the rows), each
    development's total and, over several developments, the grand total."""
    units = contracted_units(user, f)
    out, devs = [], []
    for dev_id in dict.fromkeys(r["development_id"] for r in units):
        dev_rows = [r for r in units if r["development_id"] == dev_id]
        dev_name = dev_rows[0]["development"]
        towers = list(dict.fromkeys(r["tower_id"] for r in dev_rows))
        for tower_id in towers:
            tower_rows = [r for r in dev_rows if r["tower_id"] == tower_id]
            out += tower_rows
            if len(towers) > 1:
                out.append(_subtotal(tower_rows, "tower", "Total da torre", dev_name, tower_rows[0]["tower"]))
        out.append(_subtotal(dev_rows, "development", "Total do empreendimento", dev_name))
        devs.append(dev_rows)
    if len(devs) > 1:
        out.append(_subtotal(units, "total", "Total geral"))
    return out


def contracted_totals(rows: list[dict]) -> dict:
    """Grand figures of contracted_rows(): the page's and the PDF's summary."""
    units = [r for r in rows if r["kind"] == "unit"]
    signed = [r for r in units if r["signed"]]
    by_method: dict[str, dict] = {}
    for r in units:
        key = r["method"] or ""
        m = by_method.setdefault(key, {"method": key, "label": PAYMENT_METHODS.get(key, "A definir"), "units": 0,
                                       "total_cents": 0})
        m["units"] += 1
        m["total_cents"] += r["total_cents"]
    return {"units": len(units), "total_cents": sum(r["total_cents"] for r in units), "signed_units": len(signed),
            "signed_cents": sum(r["total_cents"] for r in signed),
            "by_method": sorted(by_method.values(), key=lambda m: (-m["total_cents"], m["label"])),
            "towers": [r for r in rows if r["kind"] in ("tower", "development", "total")]}
