"""CSV imports for customer success, on the shared preview-then-commit helper (portal.web.csv_import):
accounts (matched on CNPJ), contacts (matched on CNPJ + e-mail, or name when there is no e-mail) and usage
metrics (matched on CNPJ + day + feature; a re-import replaces the count). Blank optional cells keep what
is stored, so a partial spreadsheet never wipes data."""
from sqlalchemy import select

from portal import normalize
from portal.accounts.audit import audit
from portal.accounts.services import find_user_by_email
from portal.cs.models import CONTACT_ROLES, Account, Contact
from portal.cs.services import accounts as account_services
from portal.cs.services import usage
from portal.extensions import db
from portal.web.csv_import import Column, CsvImporter, RowError, fold

ROLE_NAMES = {**{fold(v): k for k, v in CONTACT_ROLES.items()}, **{k: k for k in CONTACT_ROLES},
              "patrocinador": "sponsor", "usuario_chave": "key_user", "tecnico": "technical", "outro": "other"}


def _cell(parse, value, errors, name):
    try:
        return parse(value)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _products(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.replace("|", ",").split(",")]
    return tuple(sorted({p for p in parts if p}, key=fold))


class AccountImporter(CsvImporter):
    title = "Importar contas"
    template_filename = "modelo-contas.csv"
    audit_action = "cs.accounts.imported"
    columns = [
        Column("nome", "Nome", aliases=("empresa", "razao_social", "cliente"), example="Viagens Andorinha Ltda"),
        Column("cnpj", "CNPJ", example="11.222.333/0001-81"),
        Column("colaboradores", "Colaboradores", required=False, aliases=("funcionarios", "colaboradores_prestando_contas"),
               example="120"),
        Column("mrr", "MRR (R$)", required=False, aliases=("mrr_r", "receita_mensal"), example="2.500,00"),
        Column("produtos", "Produtos", required=False, example="Despesas, Viagens",
               help="Separados por vírgula ou |. Produtos novos são cadastrados."),
        Column("inicio_contrato", "Início do contrato", required=False, aliases=("inicio",), example="01/02/2026"),
        Column("renovacao", "Renovação", required=False, aliases=("data_renovacao",), example="01/02/2027"),
        Column("veio_concorrente", "Veio de concorrente", required=False, aliases=("concorrente_sim_nao",),
               example="sim", help="sim / não"),
        Column("concorrente", "Concorrente", required=False, example="Argo"),
        Column("pontos_contato", "Pontos de contato", required=False, aliases=("pontos_de_contato",), example="5"),
        Column("csm", "CSM (e-mail)", required=False, aliases=("csm_email", "responsavel"), example="csm@empresa.com.br",
               help="E-mail de um usuário CSM ou líder de CS."),
    ]

    def __init__(self):
        self.accounts = {a.cnpj: a for a in db.session.execute(select(Account)).scalars()}
        self.products_created = 0

    def clean_row(self, row):
        errors, values = {}, {}
        values["nome"] = " ".join((row.get("nome") or "").split())
        if not values["nome"]:
            errors["nome"] = "Informe o nome."
        try:
            values["cnpj"] = normalize.cnpj(row.get("cnpj"))
        except normalize.InvalidValue as exc:
            errors["cnpj"] = str(exc)
        parsers = {"colaboradores": lambda v: account_services.parse_count(v, "os colaboradores"),
                   "mrr": account_services.parse_money_cents, "produtos": _products,
                   "inicio_contrato": account_services.parse_date, "renovacao": account_services.parse_date,
                   "veio_concorrente": self._yes_no, "concorrente": lambda v: v.strip()[:80],
                   "pontos_contato": lambda v: account_services.parse_count(v, "os pontos de contato"),
                   "csm": self._csm}
        for name, parse in parsers.items():
            if row.get(name):
                value = _cell(parse, row[name], errors, name)
                if name not in errors:
                    values[name] = value
        if values.get("inicio_contrato") and values.get("renovacao") and values["renovacao"] <= values["inicio_contrato"]:
            errors["renovacao"] = "A renovação precisa ser depois do início do contrato."
        if errors:
            raise RowError(errors)
        return values["cnpj"], values

    @staticmethod
    def _yes_no(value):
        folded = fold(value)
        if folded in ("sim", "s", "yes", "y", "1", "x", "true", "verdadeiro"):
            return True
        if folded in ("nao", "n", "no", "0", "false", "falso"):
            return False
        raise ValueError("Use sim ou não.")

    @staticmethod
    def _csm(value):
        user = find_user_by_email(value)
        if user is None or user.role not in account_services.CSM_ROLES or not user.active:
            raise ValueError("Nenhum CSM ativo com este e-mail.")
        return user.id

    def current(self, key):
        account = self.accounts.get(key)
        if account is None:
            return None
        return {"nome": account.name, "colaboradores": account.employees, "mrr": account.mrr_cents,
                "produtos": _products(", ".join(p.name for p in account.products)),
                "inicio_contrato": account.contract_start, "renovacao": account.renewal_date,
                "veio_concorrente": account.from_competitor, "concorrente": account.competitor,
                "pontos_contato": account.contact_points, "csm": account.csm_id}

    def apply(self, values):
        data = {"name": values["nome"], "cnpj": values["cnpj"]}
        for column, key in (("colaboradores", "employees"), ("mrr", "mrr"), ("inicio_contrato", "contract_start"),
                            ("renovacao", "renewal_date"), ("veio_concorrente", "from_competitor"),
                            ("concorrente", "competitor"), ("pontos_contato", "contact_points"), ("csm", "csm_id")):
            if column in values:
                data[key] = values[column]
        if "produtos" in values:
            ids = []
            for name in values["produtos"]:
                product = account_services.product_by_name(name)
                if product is None:
                    product = account_services.save_product({"name": name})
                    self.products_created += 1
                ids.append(product.id)
            data["product_ids"] = ids
        account = self.accounts.get(values["cnpj"])
        if account is None:
            self.accounts[values["cnpj"]] = account_services.create_account(data)
        else:
            account_services.update_account(account, data)

    def audit(self, counts):
        audit(self.audit_action, object_type="Account", created=counts["new"], updated=counts["updated"],
              unchanged=counts["unchanged"], products_created=self.products_created)


class ContactImporter(CsvImporter):
    title = "Importar contatos das contas"
    template_filename = "modelo-contatos.csv"
    audit_action = "cs.contacts.imported"
    columns = [
        Column("cnpj", "CNPJ da conta", aliases=("cnpj_conta",), example="11.222.333/0001-81"),
        Column("nome", "Nome", example="Marina Prado"),
        Column("email", "E-mail", required=False, example="marina@andorinha.com.br"),
        Column("telefone", "Telefone", required=False, aliases=("celular",), example="(11) 98765-4321"),
        Column("cargo", "Cargo", required=False, example="Diretora financeira"),
        Column("papel", "Papel", required=False, example="Decisor",
               help=" / ".join(CONTACT_ROLES.values()) + "."),
        Column("decisor", "Decisor", required=False, example="sim", help="sim / não"),
    ]

    def __init__(self):
        self.accounts = {a.cnpj: a for a in db.session.execute(select(Account)).scalars()}

    def clean_row(self, row):
        errors, values = {}, {}
        try:
            cnpj = normalize.cnpj(row.get("cnpj"))
            if cnpj not in self.accounts:
                errors["cnpj"] = "Nenhuma conta com este CNPJ (importe as contas antes)."
            values["cnpj"] = cnpj
        except normalize.InvalidValue as exc:
            errors["cnpj"] = str(exc)
        values["nome"] = " ".join((row.get("nome") or "").split())
        if not values["nome"]:
            errors["nome"] = "Informe o nome."
        if row.get("email"):
            values["email"] = _cell(normalize.email, row["email"], errors, "email")
        if row.get("telefone"):
            values["telefone"] = _cell(normalize.phone, row["telefone"], errors, "telefone")
        if row.get("cargo"):
            values["cargo"] = row["cargo"].strip()[:120]
        if row.get("papel"):
            role = ROLE_NAMES.get(fold(row["papel"]))
            if role is None:
                errors["papel"] = "Papel desconhecido."
            values["papel"] = role
        if row.get("decisor"):
            values["decisor"] = _cell(AccountImporter._yes_no, row["decisor"], errors, "decisor")
        if errors:
            raise RowError(errors)
        return (values["cnpj"], values.get("email") or fold(values["nome"])), values

    def _find(self, key) -> Contact | None:
        cnpj, who = key
        account = self.accounts.get(cnpj)
        if account is None:
            return None
        for contact in account.contacts:  # by e-mail when the row has one, else by name
            if (contact.email == who) if "@" in who else (fold(contact.name) == who):
                return contact
        return None

    def current(self, key):
        contact = self._find(key)
        if contact is None:
            return None
        return {"nome": contact.name, "telefone": contact.phone, "cargo": contact.job_title, "papel": contact.role,
                "decisor": contact.decision_maker}

    def apply(self, values):
        key = (values["cnpj"], values.get("email") or fold(values["nome"]))
        account = self.accounts[values["cnpj"]]
        contact = self._find(key)
        data = {"name": values["nome"], "email": values.get("email") or (contact.email if contact else None),
                "phone": values.get("telefone") or (contact.phone if contact else None),
                "job_title": values.get("cargo") or (contact.job_title if contact else ""),
                "role": values.get("papel") or (contact.role if contact else "other"),
                "decision_maker": values["decisor"] if "decisor" in values else
                (contact.decision_maker if contact else False)}
        account_services.save_contact(account, data, contact)


class UsageImporter(CsvImporter):
    title = "Importar dados de uso"
    template_filename = "modelo-uso.csv"
    audit_action = "cs.usage.imported"
    max_rows = usage.MAX_ROWS
    columns = [
        Column("cnpj", "CNPJ da conta", example="11.222.333/0001-81"),
        Column("dia", "Dia", aliases=("data", "day"), example="15/03/2026"),
        Column("funcionalidade", "Funcionalidade", aliases=("feature", "codigo"), example="relatorio_economia",
               help="Código da funcionalidade, como nos dados de uso enviados pela API."),
        Column("quantidade", "Quantidade", aliases=("count", "uso", "usos"), example="12"),
    ]

    def __init__(self):
        self.known: dict[str, int] = {}

    def clean_row(self, row):
        cnpj = normalize.digits(row.get("cnpj"))
        if cnpj and cnpj not in self.known:
            self.known.update(usage.accounts_by_cnpj([cnpj]))
        raw = {"cnpj": row.get("cnpj"), "day": row.get("dia"), "feature": row.get("funcionalidade"),
               "count": (row.get("quantidade") or "").strip().replace(".", "")}
        clean, errors = usage.clean_row(raw, self.known)
        if errors:
            names = {"day": "dia", "feature": "funcionalidade", "count": "quantidade", "cnpj": "cnpj"}
            raise RowError({names[k]: v for k, v in errors.items()})
        return (clean.account_id, clean.day, clean.feature), {"row": clean, "quantidade": clean.count}

    def current(self, key):
        count = usage.stored_count(*key)
        return None if count is None else {"quantidade": count}

    def apply(self, values):
        usage.store([values["row"]])

