"""Personalization demo data: a finish catalog with photos and prices, windows, buyers in every status,
and the reminder rule "3 days before the deadline". Idempotent, like the rest of `portal demo`."""
import io
import random
from datetime import timedelta

from sqlalchemy import select

from portal.automation.models import Rule
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.models import Category, PersonalizationWindow
from portal.personalize.contracts import PaymentOption
from portal.personalize.services import buyers, catalog, contracts, photos, selections, windows
from portal.realestate.models import Development, Tower, Unit

# category → [(item, basis, quantity per typology (by position), [(option, R$, standard, description, look)])]
CATALOG = {
    "Piso": [
        ("Piso da sala e dormitórios", "area", ("42.50", "56.00"), [
            ("Porcelanato 60x60 acetinado bege", 0, True, "Padrão da construtora, retificado.", ("tiles", "#d8cbb3")),
            ("Porcelanato 90x90 polido cinza", "38.00", False, "Grandes formatos, poucas juntas.", ("tiles", "#9ca3af")),
            ("Vinílico amadeirado carvalho", "52.00", False, "Régua 20 cm, conforto térmico e acústico.",
             ("wood", "#a47148")),
            ("Porcelanato 120x120 marmorizado", "95.00", False, "Efeito mármore Calacata.", ("marble", "#eeeae4")),
        ]),
        ("Piso da cozinha e área de serviço", "area", ("9.80", "12.40"), [
            ("Cerâmica 45x45 branca", 0, True, "Padrão da construtora.", ("tiles", "#f1f1ee")),
            ("Porcelanato 60x60 cimentício", "29.00", False, "Acabamento fosco, antiderrapante.", ("tiles", "#8d8a85")),
            ("Porcelanato hexagonal", "64.00", False, "Hexágono 25 cm, cor grafite.", ("hex", "#4b5563")),
        ]),
    ],
    "Pintura": [
        ("Pintura das paredes", "fixed", ("1", "1"), [
            ("Branco neve", 0, True, "Tinta acrílica fosca.", ("flat", "#fafaf7")),
            ("Cor à escolha (catálogo Suvinil)", "1200.00", False, "Uma cor para todos os ambientes.",
             ("flat", "#c9b79c")),
            ("Duas cores com parede de destaque", "1850.00", False, "Uma parede por ambiente em cor de destaque.",
             ("split", "#335c67")),
        ]),
    ],
    "Metais": [
        ("Torneira da cozinha", "unit", ("1", "1"), [
            ("Torneira de mesa cromada", 0, True, "Bica alta.", ("metal", "#c0c4c8")),
            ("Torneira gourmet monocomando", "689.00", False, "Com ducha extensível.", ("metal", "#aab0b6")),
            ("Torneira gourmet preta fosca", "920.00", False, "Acabamento black matte.", ("metal", "#2b2b2b")),
        ]),
        ("Chuveiro", "unit", ("1", "2"), [
            ("Ducha cromada simples", 0, True, "Padrão da construtora.", ("metal", "#c0c4c8")),
            ("Ducha quadrada 30 cm", "540.00", False, "Efeito chuva, com braço de parede.", ("metal", "#9aa1a8")),
        ]),
    ],
    "Louças": [
        ("Bacia sanitária", "unit", ("1", "2"), [
            ("Bacia com caixa acoplada", 0, True, "Duplo acionamento.", ("flat", "#f4f4f2")),
            ("Bacia suspensa com caixa embutida", "1450.00", False, "Facilita a limpeza do piso.",
             ("flat", "#e9ebee")),
        ]),
    ],
    "Bancadas": [
        ("Bancada da cozinha", "fixed", ("1", "1"), [
            ("Granito São Gabriel", 0, True, "Padrão da construtora.", ("granite", "#2f3134")),
            ("Quartzo branco", "2900.00", False, "Superfície não porosa.", ("granite", "#ecebe8")),
            ("Porcelanato laminado", "3600.00", False, "Placa única, efeito mármore.", ("marble", "#e6e2da")),
        ]),
    ],
}

BUYERS = [  # name, e-mail, phone, cpf, (tower position, unit position), what they did
    ("Renata Albuquerque", "renata.albuquerque@exemplo.com.br", "+5511981110001", "39053344705", (0, 1), "draft"),
    ("Felipe Nogueira", "felipe.nogueira@exemplo.com.br", "+5511981110002", "71428793860", (0, 2), "submitted"),
    ("Camila Rocha", "camila.rocha@exemplo.com.br", "+5511981110003", "15350946056", (1, 0), "reopened"),
    ("Thiago Martins", "thiago.martins@exemplo.com.br", "+5511981110004", None, (1, 3), "none"),
    ("Beatriz Campos", "beatriz.campos@exemplo.com.br", "+5511981110005", None, (0, 3), "draft"),
    ("Gustavo Pires", "gustavo.pires@example.com", "+5511981110006", None, (0, 4), "draft"),
    ("Larissa Fontes", "larissa.fontes@exemplo.com.br", "+5511981110007", None, (0, 5), "submitted"),
    ("Roberto Siqueira", "roberto.siqueira@example.com", "+5511981110008", None, (0, 6), "sent"),
    ("Patrícia Lemos", "patricia.lemos@exemplo.com.br", "+5511981110009", None, (0, 7), "signed"),
    ("Eduardo Tavares", "eduardo.tavares@example.org", "+5511981110010", None, (1, 1), "draft"),
    ("Sílvia Andrade", "silvia.andrade@exemplo.com.br", "+5511981110011", None, (1, 2), "sent"),
    ("Marcelo Queiroz", "marcelo.queiroz@example.com", "+5511981110012", None, (1, 4), "submitted"),
    ("Cristina Barros", "cristina.barros@exemplo.com.br", "+5511981110013", None, (1, 5), "none"),
    ("Henrique Salgado", "henrique.salgado@example.org", "+5511981110014", None, (1, 6), "draft"),
]
# the Campinas development's window opens in 10 days: its buyers are registered and waiting
WAITING = [("Otávio Rezende", "otavio.rezende@exemplo.com.br", "+5519981110021", (0, 1)),
           ("Helena Prates", "helena.prates@example.com", "+5519981110022", (0, 5)),
           ("Vítor Assunção", "vitor.assuncao@exemplo.com.br", "+5519981110023", (0, 9))]
PAYMENTS = [("boleto", 12), ("pix", 1), ("cartao", 10), ("financiado", 48)]


def swatch(look: str, color: str, seed: int) -> bytes:
    """A small procedural texture standing in for a product photo."""
    from PIL import Image, ImageDraw

    rnd = random.Random(seed)
    size = 600
    base = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    img = Image.new("RGB", (size, size), base)
    draw = ImageDraw.Draw(img)

    def shade(delta):
        return tuple(max(0, min(255, c + delta)) for c in base)

    if look == "tiles":
        for x in range(0, size, 150):
            draw.line([(x, 0), (x, size)], fill=shade(-35), width=3)
            draw.line([(0, x), (size, x)], fill=shade(-35), width=3)
    elif look == "wood":
        for y in range(0, size, 60):
            draw.rectangle([0, y, size, y + 57], fill=shade(rnd.randint(-25, 20)))
            for _ in range(6):
                yy = y + rnd.randint(5, 52)
                draw.line([(0, yy), (size, yy + rnd.randint(-4, 4))], fill=shade(-40), width=1)
    elif look == "marble":
        for _ in range(14):
            pts = [(rnd.randint(0, size), rnd.randint(0, size)) for _ in range(4)]
            draw.line(pts, fill=shade(-60), width=rnd.randint(1, 3))
    elif look == "hex":
        for row in range(0, size + 60, 52):
            for col in range(0, size + 60, 90):
                x, y = col + (45 if (row // 52) % 2 else 0), row
                hexagon = [(x + 26 * dx, y + 26 * dy) for dx, dy in
                           ((1, 0), (0.5, 0.87), (-0.5, 0.87), (-1, 0), (-0.5, -0.87), (0.5, -0.87))]
                draw.polygon(hexagon, outline=shade(50), fill=shade(rnd.randint(-10, 10)))
    elif look == "granite":
        for _ in range(2500):
            x, y = rnd.randint(0, size), rnd.randint(0, size)
            r = rnd.randint(1, 4)
            draw.ellipse([x, y, x + r, y + r], fill=shade(rnd.choice((-60, -30, 40, 70))))
    elif look == "metal":
        for y in range(size):
            draw.line([(0, y), (size, y)], fill=shade(int(40 * (0.5 - abs(y / size - 0.5)))))
    elif look == "split":
        draw.rectangle([0, 0, size // 2, size], fill=(244, 242, 236))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _catalog(development: Development) -> None:
    if db.session.execute(select(Category.id).where(Category.development_id == development.id)).first():
        return
    typologies = sorted(development.typologies, key=lambda t: t.private_area_m2)
    seed = development.id * 1000
    for position, (category_name, items) in enumerate(CATALOG.items()):
        category = catalog.save_category(development, {"name": category_name, "position": position})
        for item_position, (name, basis, quantities, options) in enumerate(items):
            item = catalog.save_item(development, {
                "category_id": category.id, "name": name, "basis": basis, "position": item_position,
                "typologies": {str(t.id): quantities[min(i, len(quantities) - 1)] for i, t in enumerate(typologies)}})
            for opt_position, (opt_name, price, standard, description, (look, color)) in enumerate(options):
                option = catalog.save_option(item, {"name": opt_name, "price": price or "", "is_standard": standard,
                                                    "available": True, "description": description,
                                                    "position": opt_position})
                seed += 1
                photo = photos.add_photo(option, swatch(look, color, seed), f"{look}.png")
                photos.render_versions(photo)  # the demo has no worker yet: make the versions right away
                photo.status = "ready"


def _window(development: Development, name: str, opens_in: timedelta, length: timedelta) -> None:
    if db.session.execute(select(PersonalizationWindow.id).where(
            PersonalizationWindow.development_id == development.id)).first():
        return
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    opens = now + opens_in
    local = {"name": name, "opens_at": _local(opens), "closes_at": _local(opens + length)}
    windows.save_window(development, local)


def _local(when):
    from portal.personalize.services.common import local_input
    return local_input(when)


def _reminder_rule() -> None:
    name = "Personalização: lembrete 3 dias antes do prazo"
    if db.session.execute(select(Rule.id).where(Rule.name == name)).first():
        return
    from portal.automation.rules import save_rule
    save_rule({
        "name": name, "active": True, "trigger": "time", "subject_type": "selection",
        "date_field": "window.closes_at", "offset_amount": 3, "offset_unit": "days", "direction": "before",
        "quiet_hours": True,
        "conditions": [{"field": "status", "op": "in", "value": "not_started, draft, reopened"}],
        "actions": [{"type": "message", "channel": "email", "to": "contact",
                     "subject": "Faltam 3 dias para escolher os acabamentos",
                     "body": "Olá, {{ contato.nome }}! O prazo para personalizar a unidade "
                             "{{ selection.unit.number }} ({{ selection.unit.development.name }}) termina em "
                             "{{ selection.deadline_label }}. Acesse: {{ link }}"}]})


def _buyer_journeys(development: Development, users: dict) -> None:
    towers = sorted(development.towers, key=lambda t: t.name)
    for k, (name, email, phone, cpf, (tower_pos, unit_pos), journey) in enumerate(BUYERS):
        tower = towers[min(tower_pos, len(towers) - 1)]
        units = db.session.execute(select(Unit).where(Unit.tower_id == tower.id).order_by(Unit.number)).scalars().all()
        unit = units[min(unit_pos, len(units) - 1)]
        user, _ = buyers.register_buyer({"name": name, "email": email, "phone": phone, "cpf": cpf}, [unit])
        selection = selections.ensure_selection(unit)
        if journey == "none" or selection.status != "not_started":
            continue
        page = selections.unit_page(unit, user)
        choosable = [v for v in page.items if len(v.options) > 1]
        picks = (choosable[k % len(choosable):] + choosable[:k % len(choosable)])[:2 + k % 3]  # tastes differ
        for n, view in enumerate(picks):
            selections.choose(selection, view.item.id, view.options[1 + (n + k) % (len(view.options) - 1)].id, user)
        if journey in ("submitted", "sent", "signed"):
            method, installments = PAYMENTS[len(name) % len(PAYMENTS)]
            contracts.choose_payment(selection, method, installments, user)
        if journey in ("submitted", "reopened", "sent", "signed"):
            selections.submit(selection, selection.revision, user)
        if journey in ("sent", "signed"):
            _signature(selection, users["personalizacao@demo.portal"], journey == "signed")
        if journey == "reopened":
            selections.reopen(selection, users["personalizacao@demo.portal"], "Compradora pediu para trocar o piso")
    # João (the demo buyer) starts with a draft of one choice, so his page shows a running total.
    joao = users.get("cliente@demo.portal")
    unit = db.session.execute(select(Unit).join(Tower).where(Unit.development_id == development.id)
                              .order_by(Tower.name, Unit.number)).scalars().first()
    selection = selections.ensure_selection(unit)
    if joao is not None and selection.status == "not_started":
        view = next(v for v in selections.unit_page(unit, joao).items if len(v.options) > 2)
        selections.choose(selection, view.item.id, view.options[2].id, joao)


def _signature(selection, staff, sign: bool) -> None:
    """Render the contract now (the worker would) and send it for signature; `sign`: every signer signs
    (buyers, then the company) and the sealed PDF is stored, as the built-in e-signature leaves it."""
    from portal.personalize.esign import builtin, services as esign
    contract = contracts.current_contract(selection.id)
    contracts.render_contract(contract.id)  # commits, like the job
    db.session.refresh(contract)
    envelope = esign.send_contract(contract, staff, provider="builtin")
    if sign:
        for signer in sorted(envelope.signers, key=lambda s: s.position):
            esign.record_signature(signer, ip="127.0.0.1", user_agent="Demonstração", channel="email")
        builtin.finalize(envelope.id)


def _waiting_buyers(development: Development) -> None:
    towers = sorted(development.towers, key=lambda t: t.name)
    for name, email, phone, (tower_pos, unit_pos) in WAITING:
        tower = towers[min(tower_pos, len(towers) - 1)]
        units = db.session.execute(select(Unit).where(Unit.tower_id == tower.id).order_by(Unit.number)).scalars().all()
        unit = units[min(unit_pos, len(units) - 1)]
        buyers.register_buyer({"name": name, "email": email, "phone": phone}, [unit])
        selections.ensure_selection(unit)


def _contract_setup(development: Development, staff) -> None:
    """The standard contract text and the accepted payment methods, so submitted demo selections get their
    contract rendered by the worker and can be sent for signature."""
    if contracts.current_template(development.id) is None:
        contracts.save_template(development, contracts.DEFAULT_TEMPLATE, staff)
    if not db.session.execute(select(PaymentOption.id).where(PaymentOption.development_id == development.id)).first():
        contracts.save_payment_options(development, {
            "accept-pix": "1", "installments-pix": "1", "instructions-pix": "Chave enviada com o contrato assinado.",
            "accept-boleto": "1", "installments-boleto": "12",
            "accept-cartao": "1", "installments-cartao": "10",
            "accept-financiado": "1", "installments-financiado": "60",
            "instructions-financiado": "Somado às parcelas do financiamento da unidade."})


def load_demo(users: dict) -> None:
    for development in db.session.execute(select(Development).order_by(Development.id)).scalars():
        if not development.typologies:
            continue
        _catalog(development)
        if development.slug == "mirante-do-parque":
            _window(development, "Janela de acabamentos", timedelta(days=10), timedelta(days=30))
        else:
            _window(development, "1ª janela — acabamentos", -timedelta(days=2), timedelta(days=12))
        _contract_setup(development, users.get("personalizacao@demo.portal"))
    db.session.flush()
    for development in db.session.execute(select(Development).where(Development.slug == "jardim-das-acacias")).scalars():
        _buyer_journeys(development, users)
    for development in db.session.execute(select(Development).where(Development.slug == "mirante-do-parque")).scalars():
        _waiting_buyers(development)
    _reminder_rule()
    from portal.personalize.services.appointments import load_demo_slots
    load_demo_slots()
    from portal.personalize.services.questions import load_demo as load_demo_questions
    load_demo_questions(users)
