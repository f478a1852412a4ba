"""Contracts: templates per development (versioned, rendered in a Jinja sandbox), the PDF of a submitted
selection rendered by a worker job (WeasyPrint) and stored with its SHA-256, and the buyer's payment choice.

The web process never renders a PDF: `request_contract` records a queued contract and enqueues
`render_contract` after the commit; the preview renders the HTML only.
"""
import hashlib
import os
import uuid
from decimal import Decimal

from flask import current_app
from num2words import num2words
from sqlalchemy import func, select, update

from portal import jobs, normalize
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.automation import templating
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.contracts import PAYMENT_METHODS, Contract, ContractTemplate, PaymentChoice, PaymentOption
from portal.personalize.models import OptionPhoto, Selection
from portal.personalize.services import photos
from portal.personalize.services.common import quantity_text
from portal.reports import pdf as pdf_renderer
from portal.web import filters

MAX_INSTALLMENTS = 12
MAX_TEMPLATE_CHARS = 100_000


# ---- money in words ---------------------------------------------------------------------------

def money_words(cents: int) -> str:
    """12345,67 → 'doze mil, trezentos e quarenta e cinco reais e sessenta e sete centavos'."""
    cents = int(cents or 0)
    reais, rest = divmod(abs(cents), 100)
    if reais == 0 and rest:
        words = num2words(rest, lang="pt_BR") + (" centavo" if rest == 1 else " centavos")
    else:
        words = num2words(Decimal(abs(cents)) / 100, lang="pt_BR", to="currency")
    return ("menos " + words) if cents < 0 else words


def money_full(cents: int) -> str:
    """'R$ 12.345,67 (doze mil, ... centavos)'."""
    return f"{filters.brl(cents)} ({money_words(cents)})"


# ---- templates --------------------------------------------------------------------------------

ContractTemplateProblem = templating.TemplateProblem
_env = templating.environment(autoescape=True, extenso=money_words, valor_completo=money_full)

DEFAULT_TEMPLATE = """<h1>Contrato de personalização de unidade</h1>
<p><strong>Empreendimento:</strong> {{ empreendimento.nome }} — <strong>Unidade:</strong> {{ unidade.numero }}
({{ unidade.torre }}, {{ unidade.tipologia }})</p>
<h2>Contratante(s)</h2>
<ul>
{% for c in compradores %}
  <li>{{ c.nome }} — CPF {{ c.cpf|cpf }} — {{ c.email }}</li>
{% endfor %}
</ul>
<h2>Opções escolhidas</h2>
<table class="lines">
  <thead><tr><th>Categoria</th><th>Item</th><th>Opção</th><th>Qtd.</th><th>Preço unit.</th><th>Valor</th></tr></thead>
  <tbody>
  {% for l in linhas %}
    <tr><td>{{ l.categoria }}</td><td>{{ l.item }}</td><td>{{ l.opcao }}</td><td class="num">{{ l.quantidade }}</td>
        <td class="num">{{ l.preco_unitario_cents|brl }}</td><td class="num">{{ l.total_cents|brl }}</td></tr>
  {% endfor %}
  </tbody>
</table>
<p class="total"><strong>Valor total:</strong> {{ total_cents|valor_completo }}</p>
<h2>Pagamento</h2>
<p>{% if pagamento %}{{ pagamento.metodo }} em {{ pagamento.parcelas }}x{% else %}A definir{% endif %}</p>
<p>Data: {{ hoje|data }}</p>
<h2>Assinaturas</h2>
{% for c in compradores %}
<p class="signature">______________________________<br>{{ c.nome }} — CPF {{ c.cpf|cpf }}</p>
{% endfor %}
<p class="signature">______________________________<br>{{ empreendimento.nome }}</p>
"""

PDF_STYLE = """@page { size: A4; margin: 2cm; @bottom-right { content: counter(page) "/" counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 1.2em; }
table { width: 100%; border-collapse: collapse; } th, td { border-bottom: 1px solid #999; padding: 3px 4px;
text-align: left; vertical-align: top; } .num { white-space: nowrap; text-align: right; } .signature { margin-top: 2.5em; }"""


def check_syntax(source: str) -> None:
    templating.check_syntax(source, _env)


def render_body(source: str, context: dict) -> str:
    return templating.render(source, context, _env)


def current_template(development_id: int) -> ContractTemplate | None:
    return db.session.execute(select(ContractTemplate).where(ContractTemplate.development_id == development_id)
                              .order_by(ContractTemplate.version.desc()).limit(1)).scalar_one_or_none()


def template_versions(development_id: int) -> list[ContractTemplate]:
    return db.session.execute(select(ContractTemplate).where(ContractTemplate.development_id == development_id)
                              .order_by(ContractTemplate.version.desc())).scalars().all()


def preview_selection(development) -> Selection | None:
    """A real unit to preview with: the latest submitted selection, else any with lines."""
    for status in (("submitted",), ("draft", "reopened", "submitted")):
        found = db.session.execute(
            select(Selection).where(Selection.development_id == development.id, Selection.status.in_(status),
                                    Selection.total_cents >= 0)
            .order_by(Selection.submitted_at.desc().nullslast(), Selection.id.desc()).limit(1)).scalar_one_or_none()
        if found is not None:
            return found
    return None


def _validated_body(body) -> str:
    body = str(body or "").replace("\r\n", "\n")
    if not body.strip():
        raise ServiceError({"body": "Escreva o texto do contrato."})
    if len(body) > MAX_TEMPLATE_CHARS:
        raise ServiceError({"body": f"Use no máximo {MAX_TEMPLATE_CHARS} caracteres."})
    try:
        check_syntax(body)
    except ContractTemplateProblem as exc:
        raise ServiceError({"body": str(exc)}) from exc
    return body


def preview(development, body, selection: Selection | None = None) -> str:
    """The template rendered with a real unit (HTML). Errors come back as ServiceError on `body`."""
    body = _validated_body(body)
    selection = selection or preview_selection(development)
    context = contract_context(selection) if selection is not None else sample_context(development)
    try:
        return render_body(body, context)
    except ContractTemplateProblem as exc:
        raise ServiceError({"body": str(exc)}) from exc


def save_template(development, body, actor) -> ContractTemplate:
    """A new version (never an edit in place); the body must parse and render with a real unit."""
    body = _validated_body(body)
    preview(development, body)
    current = current_template(development.id)
    if current is not None and current.body == body:
        return current
    version = (db.session.execute(select(func.max(ContractTemplate.version))
                                  .where(ContractTemplate.development_id == development.id)).scalar() or 0) + 1
    template = ContractTemplate(development_id=development.id, version=version, body=body,
                                created_by_id=getattr(actor, "id", None))
    db.session.add(template)
    db.session.flush()
    audit("contract_template.saved", template, development_id=development.id, version=version)
    return template


# ---- context ----------------------------------------------------------------------------------

def contract_context(selection: Selection) -> dict:
    unit = selection.unit
    lines = sorted(selection.lines, key=lambda line: (line.item.category.position, line.item.category.name,
                                                     line.item.position, line.item.id))
    choice = db.session.get(PaymentChoice, selection.id)
    return {
        "empreendimento": {"nome": unit.development.name},
        "unidade": {"numero": unit.number, "torre": unit.tower.name if unit.tower else "",
                    "tipologia": unit.typology.name if unit.typology else ""},
        "compradores": [{"nome": b.name, "cpf": b.cpf or "", "email": b.email or "",
                         "telefone": getattr(b, "phone", "") or ""} for b in unit.buyers],
        "linhas": [{"categoria": line.item.category.name, "item": line.item.name, "opcao": line.option.name,
                    "quantidade": quantity_text(line.quantity) if line.item.basis != "fixed" else "1",
                    "preco_unitario_cents": line.unit_price_cents, "total_cents": line.total_cents}
                   for line in lines],
        "total_cents": sum(line.total_cents for line in lines),
        "total_extenso": money_words(sum(line.total_cents for line in lines)),
        "pagamento": ({"metodo": PAYMENT_METHODS.get(choice.method, choice.method),
                       "parcelas": choice.installments} if choice else None),
        "enviado_em": selection.submitted_at,
        "hoje": utcnow(),
    }


def sample_context(development) -> dict:
    """When no unit has chosen yet: placeholders with example values, so syntax and fields are checked."""
    return {"empreendimento": {"nome": development.name},
            "unidade": {"numero": "101", "torre": "Torre A", "tipologia": "2 quartos"},
            "compradores": [{"nome": "Comprador Exemplo", "cpf": "52998224725", "email": "exemplo@exemplo.com.br",
                             "telefone": ""}],
            "linhas": [{"categoria": "Piso", "item": "Piso da sala", "opcao": "Porcelanato", "quantidade": "20",
                        "preco_unitario_cents": 5000, "total_cents": 100000}],
            "total_cents": 100000, "total_extenso": money_words(100000),
            "pagamento": {"metodo": "PIX", "parcelas": 1}, "enviado_em": utcnow(), "hoje": utcnow()}


# ---- payment choice ---------------------------------------------------------------------------

def payment_options(development_id: int) -> list[PaymentOption]:
    """The methods a development accepts (unsaved defaults when staff configured none)."""
    rows = db.session.execute(select(PaymentOption).where(PaymentOption.development_id == development_id)).scalars()
    configured = {row.method: row for row in rows}
    if not configured:
        return [PaymentOption(development_id=development_id, method=m, instructions="",
                              max_installments=1 if m == "pix" else MAX_INSTALLMENTS) for m in PAYMENT_METHODS]
    return [configured[m] for m in PAYMENT_METHODS if m in configured]


def save_payment_options(development, data) -> list[PaymentOption]:
    """Staff: which methods are accepted (`accept-<method>`), up to how many installments, instructions."""
    errors, wanted = {}, {}
    for method in PAYMENT_METHODS:
        if not data.get(f"accept-{method}"):
            continue
        raw = str(data.get(f"installments-{method}") or "1").strip()
        n = normalize.row_id(raw) or 0
        if not 1 <= n <= 120:
            errors[f"installments-{method}"] = "Informe de 1 a 120 parcelas."
        instructions = str(data.get(f"instructions-{method}") or "").strip()
        if len(instructions) > 2000:
            errors[f"instructions-{method}"] = "Use no máximo 2.000 caracteres."
        wanted[method] = (n, instructions)
    if not wanted and not errors:
        errors["methods"] = "Aceite pelo menos uma forma de pagamento."
    if errors:
        raise ServiceError(errors)
    existing = {row.method: row for row in db.session.execute(
        select(PaymentOption).where(PaymentOption.development_id == development.id)).scalars()}
    for method, row in existing.items():
        if method not in wanted:
            db.session.delete(row)
    for method, (n, instructions) in wanted.items():
        row = existing.get(method) or PaymentOption(development_id=development.id, method=method)
        row.max_installments, row.instructions = n, instructions
        db.session.add(row)
    db.session.flush()
    audit("payment_options.saved", development, methods=sorted(wanted))
    return payment_options(development.id)


def choose_payment(selection: Selection, method, installments, actor) -> PaymentChoice:
    """The buyer's payment method (shown in the contract; nothing is charged, no boleto is generated)."""
    errors = {}
    accepted = {o.method: o for o in payment_options(selection.development_id)}
    if method not in accepted:
        errors["method"] = "Escolha uma forma de pagamento."
    most = accepted[method].max_installments if method in accepted else MAX_INSTALLMENTS
    raw = str(installments if installments is not None else "").strip()
    # a one-payment method needs no answer; otherwise a missing number is asked for, never assumed to be 1x
    n = normalize.row_id(raw) or (1 if not raw and most == 1 else 0)
    if not errors and not raw and most > 1:
        errors["installments"] = f"Escolha em quantas parcelas (de 1 a {most})."
    elif not errors and not 1 <= n <= most:
        errors["installments"] = f"Escolha de 1 a {most} parcelas." if most > 1 else "Esta forma é à vista (1x)."
    if errors:
        raise ServiceError(errors)
    choice = db.session.get(PaymentChoice, selection.id)
    if choice is None:
        choice = PaymentChoice(selection_id=selection.id, method=method, installments=n)
        db.session.add(choice)
    choice.method, choice.installments, choice.chosen_at = method, n, utcnow()
    choice.chosen_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit("selection.payment_chosen", selection, method=method, installments=n)
    return choice


# ---- contracts --------------------------------------------------------------------------------

def contracts_dir() -> str:
    return current_app.config.get("CONTRACTS_DIR") or os.path.join(current_app.config["INSTANCE_DIR"], "contracts")


def current_contract(selection_id: int) -> Contract | None:
    return db.session.execute(select(Contract).where(Contract.selection_id == selection_id,
                                                     Contract.status != "superseded")
                              .order_by(Contract.id.desc()).limit(1)).scalar_one_or_none()


def supersede(selection: Selection) -> int:
    """Void the selection's contracts (reopened or regenerated): never two valid contracts for a unit.
    An envelope in signature is cancelled; a signed contract refuses the change (ServiceError)."""
    from portal.personalize.esign.services import void_for_selection
    void_for_selection(selection, "A personalização foi alterada; um novo contrato será gerado.")
    return db.session.execute(update(Contract).where(Contract.selection_id == selection.id,
                                                     Contract.status != "superseded")
                              .values(status="superseded").execution_options(synchronize_session=False)).rowcount


def request_contract(selection: Selection, actor=None) -> Contract:
    """Record a queued contract for a submitted selection (older ones superseded); rendered by the worker."""
    if selection.status != "submitted":
        raise ServiceError({"contract": "O contrato só é gerado para uma personalização enviada."})
    if current_template(selection.development_id) is None:
        raise ServiceError({"contract": "Cadastre o modelo de contrato do empreendimento primeiro."})
    supersede(selection)
    contract = Contract(selection_id=selection.id, development_id=selection.development_id, status="queued",
                        selection_revision=selection.revision, total_cents=selection.total_cents)
    db.session.add(contract)
    db.session.flush()
    audit("contract.requested", contract, selection_id=selection.id)
    jobs.enqueue_after_commit(db.session, render_contract, contract.id, job_id=f"contract-{contract.id}")
    return contract


def contract_html(selection: Selection, template: ContractTemplate) -> str:
    body = render_body(template.body, contract_context(selection))
    return (f'<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><style>{PDF_STYLE}</style></head>'
            f"<body>{body}</body></html>")


def _photo_loader(development_id: int):
    """Option photos a contract of this development may show, by the app's own photo URL
    (`/personalizacao/fotos/<id>/thumb|large`): only the worker's re-encoded versions, of this development."""
    def load(photo_id: int, size: str):
        photo = db.session.get(OptionPhoto, photo_id)
        if (photo is None or photo.development_id != development_id or photo.status != "ready"
                or size not in photos.SIZES):  # the original is not re-encoded: never embedded
            return None
        path = photos.version_path(photo, size)
        return (path.read_bytes(), "image/jpeg") if path.is_file() else None
    return load


def render_contract(contract_id: int) -> str:
    """Job: render the queued contract's PDF with the development's current template; store it with its hash."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.status != "queued":
        return "not-queued"
    selection = contract.selection
    template = current_template(contract.development_id)
    if template is None:
        return _fail(contract, "Sem modelo de contrato.")
    try:
        html = contract_html(selection, template)
        pdf = pdf_renderer.render_pdf(html, document=f"contract {contract_id}",
                                      images={"personalize.photo": _photo_loader(contract.development_id)})
    except Exception as exc:  # the failure is shown to staff, who can generate again
        db.session.rollback()
        current_app.logger.warning("contract %s failed", contract_id, exc_info=True)
        return _fail(db.session.get(Contract, contract_id), str(exc)[:255])
    folder = os.path.join(contracts_dir(), str(contract.development_id))
    os.makedirs(folder, exist_ok=True)
    name = f"contrato-{contract.id}-{uuid.uuid4().hex[:12]}.pdf"
    path = os.path.join(folder, name)
    with open(path, "wb") as fh:
        fh.write(pdf)
    done = db.session.execute(update(Contract).where(Contract.id == contract_id, Contract.status == "queued").values(
        status="rendered", template_id=template.id, file_path=os.path.relpath(path, contracts_dir()),
        sha256=hashlib.sha256(pdf).hexdigest(), total_cents=sum(line.total_cents for line in selection.lines),
        payment_method=(db.session.get(PaymentChoice, selection.id) or PaymentChoice()).method,
        installments=(db.session.get(PaymentChoice, selection.id) or PaymentChoice()).installments,
        rendered_at=utcnow(), error=None)).rowcount
    db.session.commit()
    if not done:  # superseded while rendering
        os.remove(path)
        return "superseded"
    return "rendered"


def _fail(contract: Contract, message: str) -> str:
    db.session.execute(update(Contract).where(Contract.id == contract.id).values(status="failed", error=message))
    db.session.commit()
    return "failed"


def contract_file(contract: Contract) -> str | None:
    if not contract.file_path:
        return None
    root = os.path.realpath(contracts_dir())
    path = os.path.realpath(os.path.join(root, contract.file_path))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path
