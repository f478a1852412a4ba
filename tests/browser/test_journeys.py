"""Key journeys in a real Chromium, each at phone (375 px) and desktop width, with screenshots."""
import re

from playwright.sync_api import expect

from portal.automation.models import Notification
from portal.extensions import db
from portal.realestate.models import Unit
from tests.browser.conftest import BROWSER
from tests.factories import PASSWORD, give_unit, make_development, make_team, make_user, sales_tree

pytestmark = BROWSER


def log_in(page, email, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha", exact=True).fill(password)
    page.get_by_role("button", name="Entrar").click()


def open_menu(page):
    """On a phone the navigation and the user box live behind the Menu button."""
    if page.viewport_name == "phone":
        page.get_by_role("button", name="Menu").click()


def go_to(page, label):
    open_menu(page)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name=label, exact=True).click()


def log_out(page):
    open_menu(page)
    page.get_by_role("button", name="Sair").click()


def manager_with_team():
    manager = make_user("manager", name="Paula Gestora")
    team = make_team("Zona Sul", manager=manager)
    manager.team_id = team.id
    db.session.commit()
    return manager, team


def test_manager_creates_a_broker_in_their_team(page):
    manager, _ = manager_with_team()
    make_user("broker", team=manager.team, name="Bruna Corretora")

    page.goto("/login")
    expect(page.get_by_role("heading", name="Entrar no Portal")).to_be_visible()
    page.shot("login")
    log_in(page, manager.email)
    expect(page).to_have_url(re.compile(r"/pre-vendas/$"))
    expect(page.get_by_role("heading", name="Pré-vendas")).to_be_visible()
    page.shot("manager-home")

    go_to(page, "Usuários")
    expect(page).to_have_url(re.compile(r"/admin/usuarios$"))
    expect(page.get_by_role("cell", name="Bruna Corretora")).to_be_visible()

    page.get_by_role("link", name="Novo usuário").click()
    page.get_by_role("button", name="Salvar").click()  # empty: every required field answers
    expect(page.get_by_text("Informe o nome.")).to_be_visible()
    expect(page.get_by_text("Informe o e-mail.")).to_be_visible()
    page.shot("user-form-errors")

    page.get_by_label("Nome").fill("Rafaela Corretora")
    page.get_by_label("E-mail", exact=True).fill("Rafaela.Corretora@Exemplo.com.br")
    page.get_by_label("Celular").fill("(11) 98765-4321")
    page.get_by_label("Perfil").select_option(label="Corretor")
    page.get_by_label("Equipe").select_option(label="Zona Sul")
    page.get_by_label("Senha inicial").fill("senha-forte-123")
    page.get_by_role("button", name="Salvar").click()

    expect(page).to_have_url(re.compile(r"/admin/usuarios$"))
    expect(page.locator(".flash-success")).to_have_text("Usuário Rafaela Corretora criado.")
    row = page.locator("tr", has=page.get_by_role("link", name="Rafaela Corretora"))
    expect(row).to_contain_text("rafaela.corretora@exemplo.com.br")
    expect(row).to_contain_text("Corretor")
    expect(row).to_contain_text("Zona Sul")
    expect(row).to_contain_text("Ativo")
    page.shot("users-list")

    # Deactivating goes through htmx (CSRF header from the meta tag) after a confirmation.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Desativar").click()
    expect(row).to_contain_text("Inativo")
    expect(row.get_by_role("button", name="Reativar")).to_be_visible()

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash-info")).to_have_text("Você saiu do Portal.")


def test_customer_lands_on_their_units(page):
    customer = make_user("customer", name="João Comprador")
    development = make_development("Residencial Jardim das Acácias", towers=("Torre A", "Torre B"))
    unit = db.session.scalars(db.select(Unit).where(Unit.development_id == development.id)
                              .order_by(Unit.id)).first()
    give_unit(customer, unit)
    make_development("Edifício de Outra Pessoa")

    log_in(page, customer.email)
    expect(page).to_have_url(re.compile(r"/personalizacao/portal$"))
    expect(page.get_by_role("heading", name="Olá, João")).to_be_visible()
    expect(page.get_by_role("heading", name="Residencial Jardim das Acácias")).to_be_visible()
    expect(page.get_by_text(unit.label)).to_be_visible()
    expect(page.get_by_text("Edifício de Outra Pessoa")).to_have_count(0)
    page.shot("customer-portal")
    open_menu(page)
    nav = page.get_by_role("navigation", name="Principal")
    expect(nav.get_by_role("link")).to_have_text(["Minhas unidades"])  # a customer sees only their own menu


def test_wrong_password_is_answered_on_the_form(page):
    user = make_user("broker")
    log_in(page, user.email, "senha-errada")
    card = page.locator(".auth-card")
    expect(card.get_by_role("alert")).to_have_text("E-mail ou senha incorretos.")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("E-mail")).to_have_value(user.email)
    expect(page.get_by_label("Senha", exact=True)).to_have_value("")
    page.shot("login-error")

    log_in(page, user.email)  # the right one still works afterwards
    expect(page).to_have_url(re.compile(r"/pre-vendas/$"))


def test_menu_button_opens_the_navigation_on_a_phone(page):
    log_in(page, make_user("admin").email)
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Principal")
    if page.viewport_name == "desktop":
        expect(menu).to_be_hidden()
        expect(nav.get_by_role("link", name="Usuários")).to_be_visible()
        return
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Usuários")).to_be_visible()
    page.shot("menu-open")
    menu.click()
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")


def test_admin_home_and_not_found_page(page):
    admin = make_user("admin", name="Ana Administradora")
    db.session.add(Notification(user_id=admin.id, title="Nova mensagem com falha"))
    db.session.commit()
    log_in(page, admin.email)
    expect(page).to_have_url(re.compile(r"/inicio$"))
    expect(page.locator(".bell .badge")).to_have_text("1")
    expect(page.get_by_role("heading", name="Olá, Ana")).to_be_visible()
    expect(page.get_by_text("usuários ativos")).to_be_visible()
    page.shot("admin-home")

    page.goto("/nao-existe")
    expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()
    page.get_by_role("link", name="Voltar ao início").click()
    expect(page).to_have_url(re.compile(r"/inicio$"))
    page.goto("/nao-existe")
    page.shot("404")


def test_forms_without_the_csrf_token_are_refused(page):
    """The live server really checks CSRF, so the journeys above prove the templates send the token."""
    user = make_user("broker")
    response = page.request.post("/login", form={"email": user.email, "password": PASSWORD}, max_redirects=0)
    assert response.status == 400
    assert "CSRF" in response.text()


def test_pwa_icons_are_served(page):
    manifest = page.request.get("/manifest.webmanifest").json()
    for icon in manifest["icons"]:
        response = page.request.get(icon["src"])
        assert response.ok, icon["src"]
        if icon["type"] == "image/png":
            body = response.body()
            assert body[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
            assert f"{width}x{height}" == icon["sizes"]


def test_admin_screens_and_password_reset_request(page):
    tree = sales_tree()
    admin = make_user("admin", name="Ana Administradora")
    page.goto("/senha/esqueci")
    expect(page.get_by_role("heading", name="Redefinir senha")).to_be_visible()
    page.shot("forgot")
    page.get_by_label("E-mail").fill(tree["head"].email)
    page.get_by_role("button", name="Enviar link").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".auth-card .flash-success")).to_contain_text("Se o e-mail estiver cadastrado")
    page.shot("login-flash")

    log_in(page, admin.email)
    go_to(page, "Equipes")
    expect(page.get_by_role("link", name="Zona Sul")).to_be_visible()
    page.shot("teams")
    page.get_by_role("link", name="Zona Sul").click()
    expect(page.get_by_role("heading", name="Zona Sul")).to_be_visible()
    expect(page.get_by_text("Bruna Corretora — Corretor")).to_be_visible()
    page.shot("team-form")
    go_to(page, "Tarefas")
    expect(page.get_by_role("heading", name="Tarefas em segundo plano")).to_be_visible()
    page.shot("jobs")
    go_to(page, "Auditoria")
    expect(page.get_by_role("heading", name="Auditoria")).to_be_visible()
    expect(page.get_by_role("cell", name="Usuário criado").first).to_be_visible()   # the label, not user.created
    expect(page.get_by_text("user.created")).to_have_count(0)
    page.shot("audit")
