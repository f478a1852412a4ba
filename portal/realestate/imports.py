"""Units CSV import for one development: rows matched on (torre, unidade), missing towers created."""
from sqlalchemy import select

from portal.accounts.audit import audit
from portal.extensions import db
from portal.realestate import services
from portal.realestate.models import UNIT_STATUSES, Development, Tower, Typology, Unit
from portal.web.csv_import import Column, CsvImporter, RowError, fold


class UnitImporter(CsvImporter):
    """A blank optional cell keeps what is stored (new units get the defaults: floor 0, the
    typology's area, Disponível), so a partial spreadsheet never wipes data."""

    title = "Importar unidades"
    template_filename = "modelo-unidades.csv"
    audit_action = "units.imported"
    columns = [
        Column("torre", "Torre", aliases=("bloco",), example="Torre A"),
        Column("unidade", "Unidade", aliases=("numero", "unidade_numero", "apto", "apartamento"), example="101"),
        Column("andar", "Andar", required=False, aliases=("pavimento",), example="1"),
        Column("tipologia", "Tipologia", required=False, aliases=("planta",), example="2 dormitórios",
               help="Precisa já estar cadastrada no empreendimento."),
        Column("area_privativa_m2", "Área privativa (m²)", required=False, aliases=("area", "area_privativa"),
               example="58,40", help="Vírgula ou ponto decimal. Em branco: a área da tipologia."),
        Column("status", "Situação", required=False, aliases=("situacao",), example="Disponível",
               help=" / ".join(UNIT_STATUSES.values()) + " (ou available / reserved / sold)."),
    ]

    def __init__(self, development: Development):
        self.development = self.audit_object = development
        self.towers = {fold(t.name): t for t in _rows(select(Tower).where(Tower.development_id == development.id))}
        self.typologies = {fold(t.name): t for t in _rows(select(Typology).where(
            Typology.development_id == development.id))}
        self.units = {(fold(name), u.number): u for u, name in db.session.execute(
            select(Unit, Tower.name).join(Tower).where(Unit.development_id == development.id))}
        self.towers_created = 0

    def clean_row(self, row):
        errors, values = {}, {}
        for name, parse, args in (("torre", services.parse_name, ("a torre", 80)),
                                  ("unidade", services.parse_name, ("o número da unidade", 20))):
            try:
                values[name] = parse(row.get(name), *args)
            except ValueError as exc:
                errors[name] = str(exc)
        optional = {"andar": lambda v: services.parse_int(v, -10, 300), "area_privativa_m2": services.parse_area,
                    "status": services.parse_unit_status, "tipologia": self._typology_id}
        for name, parse in optional.items():
            if row.get(name):
                try:
                    values[name] = parse(row[name])
                except ValueError as exc:
                    errors[name] = str(exc)
        if errors:
            raise RowError(errors)
        return (fold(values["torre"]), values["unidade"]), values

    def _typology_id(self, name):
        typology = self.typologies.get(fold(name))
        if typology is None:
            raise ValueError(f"Tipologia “{name}” não cadastrada neste empreendimento.")
        return typology.id

    def current(self, key):
        unit = self.units.get(key)
        if unit is None:
            return None
        return {"andar": unit.floor, "tipologia": unit.typology_id, "area_privativa_m2": unit.private_area_m2,
                "status": unit.status}

    def apply(self, values):
        tower = self.towers.get(fold(values["torre"]))
        if tower is None:
            tower = services.save_tower(self.development, {"name": values["torre"]}, audited=False)
            self.towers[fold(tower.name)] = tower
            self.towers_created += 1
        unit = self.units.get((fold(values["torre"]), values["unidade"]))
        data = {"tower_id": tower.id, "number": values["unidade"], "floor": unit.floor if unit else 0,
                "typology_id": unit.typology_id if unit else None,
                "private_area_m2": unit.private_area_m2 if unit else None, "status": unit.status if unit else None}
        data.update({field: values[col] for col, field in (("andar", "floor"), ("tipologia", "typology_id"),
                                                           ("area_privativa_m2", "private_area_m2"),
                                                           ("status", "status")) if col in values})
        services.save_unit(self.development, data, unit, audited=False)

    def audit(self, counts):
        audit(self.audit_action, self.development, created=counts["new"], updated=counts["updated"],
              unchanged=counts["unchanged"], towers_created=self.towers_created)


def _rows(stmt):
    return db.session.execute(stmt).scalars().all()
