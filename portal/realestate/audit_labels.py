"""pt-BR names of what the real-estate catalog writes to the audit log (shown on Auditoria)."""
from portal.automation.subjects import RecordType, lifecycle_labels, register_audit_actions
from portal.realestate.models import DEVELOPMENT_STATUSES, UNIT_STATUSES

register_audit_actions(
    {**lifecycle_labels("development", "Empreendimento"), **lifecycle_labels("tower", "Torre", True),
     **lifecycle_labels("typology", "Tipologia", True), **lifecycle_labels("unit", "Unidade", True),
     "units.imported": "Unidades importadas (CSV)"},
    records={"Development": RecordType("Empreendimento", url=lambda d: f"/empreendimentos/{d.id}"),
             "Tower": RecordType("Torre", url=lambda t: f"/empreendimentos/{t.development_id}"),
             "Typology": RecordType("Tipologia", url=lambda t: f"/empreendimentos/{t.development_id}")},
    details={"slug": "Código", "development_id": "Empreendimento", "tower_id": "Torre", "number": "Número",
             "floor": "Andar", "private_area_m2": "Área privativa (m²)", "typology_id": "Tipologia"},
    # unit.updated carries the status change as [before, after]
    refs={"development_id": "Development", "tower_id": "Tower", "typology_id": "Typology"},
    formats={"unit.updated": {"status": ("change", UNIT_STATUSES)},
             "development.updated": {"status": DEVELOPMENT_STATUSES}},
)
