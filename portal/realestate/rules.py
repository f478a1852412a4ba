"""Units as rule subjects (buyers are their contacts)."""
from portal.automation.subjects import Contact, SubjectType, register_event, register_subject
from portal.realestate.models import Unit


def _first_buyer(unit):
    buyer = unit.buyers[0] if unit.buyers else None
    return Contact(name=buyer.name, email=buyer.email, phone=buyer.phone, user_id=buyer.id) if buyer else Contact()


register_subject(SubjectType(
    kind="unit", model=Unit, label="Unidade",
    fields={"number": "Número", "floor": "Andar", "status": "Situação", "status_label": "Situação (nome)",
            "private_area_m2": "Área privativa (m²)", "development.name": "Empreendimento",
            "development.slug": "Empreendimento (código)", "tower.name": "Torre", "typology.name": "Tipologia",
            "created_at": "Cadastrada em", "updated_at": "Atualizada em"},
    date_fields={"created_at": "Cadastrada em", "updated_at": "Atualizada em"},
    settable={"status": "Situação"},
    contact=_first_buyer,
    url=lambda u: f"/empreendimentos/{u.development_id}",
    title=lambda u: f"{u.development.name} — {u.tower.name} {u.number}",
))
register_event("unit.status_changed", "unit", "Situação da unidade mudou")
from portal.realestate import audit_labels  # noqa: E402,F401  (pt-BR names of its audit actions)
