"""Buyers CSV import: one row per buyer and unit (co-buyers and buyers of two units take two rows).

Rows match on (e-mail, unit), so importing the same file again changes nothing. People met earlier in
the same file count as known: a CPF or phone that clashes inside the file is caught in the preview,
before anything is written.
"""
from sqlalchemy import select

from portal.accounts.audit import audit
from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.services import buyers as services
from portal.realestate.models import Development, Tower, Unit, UnitBuyer
from portal.web.csv_import import Column, CsvImporter, RowError, fold


class BuyerImporter(CsvImporter):
    title = "Importar compradores"
    template_filename = "modelo-compradores.csv"
    audit_action = "buyers.imported"
    columns = [
        Column("nome", "Nome", aliases=("name", "comprador", "cliente"), example="Maria da Silva"),
        Column("email", "E-mail", aliases=("e_mail",), example="maria.silva@exemplo.com.br",
               help="É o login do comprador."),
        Column("telefone", "Telefone", required=False, aliases=("phone", "celular", "fone"), example="(11) 98765-4321"),
        Column("cpf", "CPF", required=False, example="529.982.247-25", help="Com ou sem pontuação."),
        Column("empreendimento", "Empreendimento", aliases=("development",), example="Residencial Jardim das Acácias",
               help="O nome ou o código do empreendimento."),
        Column("torre", "Torre", aliases=("bloco", "tower"), example="Torre A"),
        Column("unidade", "Unidade", aliases=("apto", "apartamento", "unit", "numero"), example="101"),
    ]

    def __init__(self, user):
        self.user = user
        developments = db.session.execute(scoped(user, Development)).scalars().all()
        self.developments = {}
        for d in developments:
            self.developments[fold(d.name)] = d
            self.developments[fold(d.slug)] = d
        ids = [d.id for d in developments]
        self.units = {(u.development_id, fold(name), fold(u.number)): u for u, name in db.session.execute(
            select(Unit, Tower.name).join(Tower).where(Unit.development_id.in_(ids or [0])))}
        self.links = {(uid, email) for uid, email in db.session.execute(
            select(UnitBuyer.unit_id, User.email).join(User, User.id == UnitBuyer.user_id)
            .where(UnitBuyer.unit_id.in_(select(Unit.id).where(Unit.development_id.in_(ids or [0])))))}
        self.resolver = services.Resolver()
        # people met earlier in this file: e-mail → (cpf, phone); cpf/phone → e-mail
        self.file_people: dict[str, tuple] = {}
        self.file_cpfs: dict[str, str] = {}
        self.file_phones: dict[str, str] = {}
        self.audit_object = None
        self.created_people = 0

    def clean_row(self, row):
        errors = {}
        try:
            clean = services.clean_buyer({"name": row.get("nome"), "email": row.get("email"),
                                          "phone": row.get("telefone"), "cpf": row.get("cpf")})
        except ServiceError as exc:
            names = {"name": "nome", "email": "email", "phone": "telefone", "cpf": "cpf"}
            errors.update({names.get(k, k): v for k, v in exc.errors.items()})
            clean = None
        unit = self._unit(row, errors)
        if clean is not None:
            try:
                self._check_person(clean)
            except ServiceError as exc:
                names = {"name": "nome", "email": "email", "phone": "telefone", "cpf": "cpf"}
                errors.update({names.get(k, k): v for k, v in exc.errors.items()})
        if errors:
            raise RowError(errors)
        self._remember(clean)
        values = {"nome": clean["name"], "email": clean["email"], "unit_id": unit.id}
        if clean["phone"]:
            values["telefone"] = clean["phone"]
        if clean["cpf"]:
            values["cpf"] = clean["cpf"]
        return (clean["email"], unit.id), values

    def _unit(self, row, errors):
        names = {"empreendimento": "o empreendimento", "torre": "a torre", "unidade": "a unidade"}
        for col, what in names.items():
            if not row.get(col):
                errors[col] = f"Informe {what}."
        if any(col in errors for col in names):
            return None
        development = self.developments.get(fold(row["empreendimento"]))
        if development is None:
            errors["empreendimento"] = f"Empreendimento “{row['empreendimento']}” não encontrado."
            return None
        unit = self.units.get((development.id, fold(row["torre"]), fold(row["unidade"])))
        if unit is None:
            errors["unidade"] = f"Unidade {row['unidade']} não encontrada na {row['torre']} de {development.name}."
        return unit

    def _check_person(self, clean):
        email, cpf, phone = clean["email"], clean["cpf"], clean["phone"]
        seen = self.file_people.get(email)
        errors = {}
        if seen is not None:  # the same person again (another unit): must not contradict the earlier row
            if cpf and seen[0] and cpf != seen[0]:
                errors["cpf"] = "Este e-mail aparece antes no arquivo com outro CPF."
        if cpf and self.file_cpfs.get(cpf, email) != email:
            errors["cpf"] = "Este CPF aparece antes no arquivo com outro e-mail."
        if phone and self.file_phones.get(phone, email) != email:
            errors["phone"] = "Este telefone aparece antes no arquivo com outro e-mail."
        if errors:
            raise ServiceError(errors)
        self.resolver.match(clean)

    def _remember(self, clean):
        email = clean["email"]
        old = self.file_people.get(email, (None, None))
        self.file_people[email] = (clean["cpf"] or old[0], clean["phone"] or old[1])
        if clean["cpf"]:
            self.file_cpfs[clean["cpf"]] = email
        if clean["phone"]:
            self.file_phones[clean["phone"]] = email

    def current(self, key):
        email, unit_id = key
        if (unit_id, email) not in self.links:
            return None  # a new person, or a known one getting this unit
        user = self.resolver.by_email(email)
        return {"nome": user.name, "telefone": user.phone, "cpf": user.cpf}

    def apply(self, values):
        unit = db.session.get(Unit, values["unit_id"])
        data = {"name": values["nome"], "email": values["email"], "phone": values.get("telefone"),
                "cpf": values.get("cpf")}
        _, created = services.register_buyer(data, [unit], audited=False)
        self.created_people += created

    def audit(self, counts):
        audit(self.audit_action, object_type="User", created=counts["new"], updated=counts["updated"],
              unchanged=counts["unchanged"], people_created=self.created_people)
