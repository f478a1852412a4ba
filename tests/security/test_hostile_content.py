"""Hostile content in HTML and template sinks (issue 15): XSS and template-injection payloads stored in every
user-written field that pages show, then every page and htmx fragment that shows them rendered as the
people who read them. The payload must come back escaped, never live markup, never evaluated (`{{7*7}}`
stays `{{7*7}}`), never a config value. Rule and contract templates are Jinja by design: the sandbox must
refuse what reaches the app (`config`, `''.__class__`, globals) or render it harmlessly.

PDF/CSV/image/polyglot payloads are covered by their own files under tests/security/.

The world is the demo data set, built once for the module (this module overrides the suite's per-test
truncation and empties the tables itself at the end); each payload overwrites the texts and renders again."""
import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.extensions import db, limiter
from tests.security.matrix import module_world

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "{% raw %}{{ config }}{% endraw %}",
    "\"><svg onload=alert(1)>",
    "javascript:alert(1)",
]
# Markup that must never reach a page live, whatever the payload.
LIVE = ["<img src=x onerror", "<script>alert(1)", "<svg onload", 'href="javascript:', "href='javascript:"]
SINKS_SEEN: set = set()


@pytest.fixture(autouse=True)
def _clean():
    """Overrides the suite's per-test truncation: the world below is built once for the whole module."""
    yield


@pytest.fixture(scope="module")
def world(app):
    from portal.web.demo import load_demo

    def build():
        load_demo()
        db.session.commit()
    with module_world(app, build) as (_nothing, seconds):
        yield {"built_in": seconds}


def _targets():
    """Every stored text a page shows: (tag, row, attribute), and the pages that show them by role."""
    from portal.accounts.models import User
    from portal.automation.models import Delivery, Notification
    from portal.cs.models import Account, Contact
    from portal.cs.nps_models import NpsResponse
    from portal.personalize.models import Item, ItemTypology, Option
    from portal.personalize.questions import BuyerQuestion, QuestionMessage
    from portal.presales.models import Channel, Lead, Narrative
    from portal.realestate.models import Development, Tower, Unit, UnitBuyer

    first = lambda stmt: db.session.execute(stmt).scalars().first()  # noqa: E731
    customer = first(select(User).where(User.email == "cliente@demo.portal"))
    unit = first(select(Unit).join(UnitBuyer, UnitBuyer.unit_id == Unit.id).where(UnitBuyer.user_id == customer.id))
    dev = db.session.get(Development, unit.development_id)
    item = first(select(Item).join(ItemTypology).where(ItemTypology.typology_id == unit.typology_id,
                                                       Item.development_id == dev.id).order_by(Item.id))
    option = first(select(Option).where(Option.item_id == item.id).order_by(Option.id))
    # the newest lead's: the lists and the board show the latest leads first (the demo has a quarter of them)
    narrative = first(select(Narrative).where(Narrative.body != "").order_by(Narrative.id.desc()))
    lead = db.session.get(Lead, narrative.lead_id)
    question = first(select(BuyerQuestion).order_by(BuyerQuestion.id))
    message = first(select(QuestionMessage).where(QuestionMessage.question_id == question.id))
    contact = first(select(Contact).order_by(Contact.id))
    account = db.session.get(Account, contact.account_id)
    response = first(select(NpsResponse).where(NpsResponse.comment != "").order_by(NpsResponse.id))
    delivery = first(select(Delivery).where(Delivery.idempotency_key == "hostile-1"))
    if delivery is None:  # a message as a rule writes it (the demo sends none)
        delivery = Delivery(idempotency_key="hostile-1", channel="email", recipient="ana@exemplo.com.br",
                            subject="Aviso", body="", status="sent")
        db.session.add(delivery)
        db.session.flush()
    admin = first(select(User).where(User.email == "admin@demo.portal"))
    notification = first(select(Notification).where(Notification.idempotency_key == "hostile-1"))
    if notification is None:  # what a rule's in-app notification action writes
        notification = Notification(user_id=admin.id, title="Aviso", idempotency_key="hostile-1")
        db.session.add(notification)
    channel = db.session.get(Channel, lead.channel_id) if lead.channel_id else first(select(Channel).order_by(Channel.id))
    buyer = first(select(User).where(User.role == "customer").order_by(User.id))
    tower = first(select(Tower).where(Tower.development_id == dev.id).order_by(Tower.id))
    fields = [
        ("LEAD", lead, "name"), ("NOTE", narrative, "body"), ("DEV", dev, "name"), ("TOWER", tower, "name"),
        ("ITEM", item, "name"), ("OPTION", option, "name"), ("BUYER", buyer, "name"), ("QUESTION", message, "body"),
        ("TOPIC", question, "subject"),
        ("ACCOUNT", account, "name"), ("CONTACT", contact, "name"), ("NPS", response, "comment"),
        ("MESSAGE", delivery, "body"), ("SUBJECT", delivery, "subject"),
        ("NOTICE", notification, "title"), ("NOTICE_BODY", notification, "body"), ("CHANNEL", channel, "name"),
    ]
    admin_pages = {
        f"/pre-vendas/leads/{lead.id}": ("LEAD", "NOTE"), "/pre-vendas/leads": ("LEAD",),
        "/pre-vendas/funil": ("LEAD",), f"htmx:/pre-vendas/funil/etapas/{lead.stage_id}": ("LEAD",),
        "/empreendimentos/": ("DEV",), f"/empreendimentos/{dev.id}": ("DEV", "TOWER"),
        f"/personalizacao/empreendimentos/{dev.id}/catalogo": ("ITEM",),
        f"/personalizacao/catalogo/itens/{item.id}": ("ITEM", "OPTION"),
        "/personalizacao/compradores": ("BUYER",), f"/personalizacao/compradores/{buyer.id}": ("BUYER",),
        f"/personalizacao/duvidas/{question.id}": ("QUESTION", "TOPIC"), "/personalizacao/duvidas": ("TOPIC",),
        "/sucesso/contas": ("ACCOUNT",), f"/sucesso/contas/{account.id}": ("ACCOUNT", "CONTACT"),
        "/sucesso/jornada": ("ACCOUNT",), f"/sucesso/nps/respostas/{response.id}": ("NPS",),
        f"/automacao/mensagens/{delivery.id}": ("MESSAGE", "SUBJECT"), "/automacao/mensagens": ("SUBJECT",),
        "/automacao/notificacoes": ("NOTICE", "NOTICE_BODY"),
        "/pre-vendas/painel/": ("CHANNEL",),
    }
    customer_pages = {f"/personalizacao/unidades/{unit.id}": ("ITEM", "OPTION", "DEV"),
                      f"/personalizacao/unidades/{unit.id}/duvidas": ("TOPIC",),
                      f"/personalizacao/duvidas/{question.id}": ("QUESTION", "TOPIC")}
    return fields, {"admin@demo.portal": admin_pages, "cliente@demo.portal": customer_pages}


def _text(payload, tag):
    return f"{payload} {tag}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_escaped_in_every_page_that_shows_it(app, world, payload, capsys):
    with app.app_context():
        limiter.reset()
        fields, pages_by_user = _targets()
        for tag, row, attr in fields:
            setattr(row, attr, _text(payload, tag))
        db.session.commit()
        secret = app.config["SECRET_KEY"]
        failures, checked = [], 0
        for email, pages in pages_by_user.items():
            client = app.test_client()
            response = client.post("/login", data={"email": email, "password": "portal123"})
            assert response.status_code == 302, email
            for page, tags in pages.items():
                headers = {}
                if page.startswith("htmx:"):
                    page, headers = page[5:], {"HX-Request": "true"}
                response = client.get(page, headers=headers)
                if response.status_code != 200:
                    failures.append(f"{email} {page}: {response.status_code}")
                    continue
                html = response.get_data(as_text=True)
                for tag in tags:
                    checked += 1
                    SINKS_SEEN.add((page, tag))
                    shown = str(escape(_text(payload, tag)))
                    if shown not in html:
                        failures.append(f"{page}: {tag} not shown escaped ({shown!r})")
                    if "{{7*7}}" in payload and f"49 {tag}" in html:
                        failures.append(f"{page}: {tag} evaluated {{{{7*7}}}}")
                live = [m for m in LIVE if m in html]
                if live:
                    failures.append(f"{page}: live markup {live}")
                if secret in html or "&lt;Config" in html or "<Config" in html:
                    failures.append(f"{page}: config leaked")
        # The contract preview renders the development's template (Jinja, autoescaped) with a real unit whose
        # names now carry the payload.
        from portal.personalize.services import contracts
        client = app.test_client()
        client.post("/login", data={"email": "admin@demo.portal", "password": "portal123"})
        preview = client.post(f"/personalizacao/empreendimentos/{fields[2][1].id}/contrato",
                              data={"body": contracts.DEFAULT_TEMPLATE, "action": "preview"})
        checked += 1
        if preview.status_code != 200 or _leaks(app, preview.get_data(as_text=True)):
            failures.append(f"contract preview: {preview.status_code} {_leaks(app, preview.get_data(as_text=True))}")
        elif str(escape(_text(payload, "DEV"))) not in preview.get_data(as_text=True):
            failures.append("contract preview: DEV not shown escaped")
        with capsys.disabled():
            print(f"\nhostile content [{payload}]: {checked} (page, field) sinks checked "
                  f"(world built in {world['built_in']:.1f}s)")
        assert not failures, "\n".join(failures)


SSTI = [
    "{{ config }}", "{{ config.SECRET_KEY }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__ }}", "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os }}", "{{ request.application.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}", "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ (7*7)|attr('__class__') }}",
]


@pytest.mark.parametrize("source", SSTI)
def test_message_and_contract_templates_refuse_reaching_the_app(app, world, source):
    """The sandbox that renders rule messages (plain text) and contracts (HTML) either refuses the template
    with a message for the admin or renders nothing of the app: no config, no class, no module."""
    from portal.automation import templating
    with app.app_context():
        secret = app.config["SECRET_KEY"]
        for env in (templating.environment(), templating.environment(autoescape=True)):
            try:
                out = templating.render(source, {"lead": {"name": "Ana"}}, env)
            except templating.TemplateProblem:
                continue
            assert secret not in out and "Config" not in out and "<class" not in out and "module" not in out, out


def test_record_text_in_a_rule_message_is_not_a_template(app, world):
    """A lead named `{{7*7}}` reaches a rule's message as text: rendering the admin's template does not render
    the lead's name a second time, and the contract (HTML) escapes it."""
    from portal.automation import templating
    with app.app_context():
        for payload in PAYLOADS:
            plain = templating.render("Olá {{ lead.name }}", {"lead": {"name": payload}})
            assert plain == f"Olá {payload}"
            html = templating.render("<p>{{ lead.name }}</p>", {"lead": {"name": payload}},
                                     templating.environment(autoescape=True))
            assert html == f"<p>{escape(payload)}</p>"


def _leaks(app, html: str) -> list[str]:
    found = [m for m in LIVE if m in html]
    for marker in (app.config["SECRET_KEY"], "<Config", "&lt;Config", "<class ", "&lt;class ", "<module ", "&lt;module "):
        if marker in html:
            found.append(marker)
    return found


@pytest.mark.parametrize("source", SSTI)
def test_rule_editor_and_contract_editor_refuse_reaching_the_app(app, world, source):
    """The same sources typed into the real editors, previewed with a real record and saved: a clear refusal
    (422) or a harmless page; nothing of the app in any answer."""
    from portal.automation.models import Rule
    from portal.accounts.models import User
    from portal.realestate.models import Development
    with app.app_context():
        limiter.reset()
        admin = db.session.execute(select(User).where(User.email == "admin@demo.portal")).scalar_one()
        dev = db.session.execute(select(Development).order_by(Development.id)).scalars().first()
        rules_before = db.session.scalar(select(db.func.count(Rule.id)))
        client = app.test_client()
        assert client.post("/login", data={"email": admin.email, "password": "portal123"}).status_code == 302
        rule = {"name": "Régua hostil", "active": "y", "trigger": "event", "subject_type": "user",
                "event_type": "user.created", "actions-0-type": "message", "actions-0-channel": "email",
                "actions-0-to": "contact", "actions-0-subject": source, "actions-0-body": f"Olá {source}",
                "preview_record": str(admin.id)}
        answers = [client.post("/automacao/regras/nova", data={**rule, "action": action}) for action in ("preview", "save")]
        contract_url = f"/personalizacao/empreendimentos/{dev.id}/contrato"
        answers += [client.post(contract_url, data={"body": f"<p>{source}</p>", "action": "preview"})]
        for answer in answers:
            assert answer.status_code in (200, 422), answer.status_code
            assert not _leaks(app, answer.get_data(as_text=True)), _leaks(app, answer.get_data(as_text=True))
        assert answers[1].status_code == 422 and db.session.scalar(select(db.func.count(Rule.id))) == rules_before
