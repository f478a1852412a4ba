"""Navigation by role: each entry is (label, endpoint, roles)."""
from flask import url_for

ALL_STAFF = ("admin", "manager", "sdr", "broker", "csm", "cs_leader", "personalization")
MENU = [
    ("Início", "web.home", ALL_STAFF),
    ("Pré-vendas", "presales.home", ("admin", "manager", "sdr", "broker")),
    ("Painel de pré-vendas", "presales_dashboard.index", ("admin", "manager")),
    ("Config. pré-vendas", "presales_admin.index", ("admin", "manager")),
    ("Personalização", "personalize.home", ("admin", "personalization")),
    ("Compradores", "personalize.buyers", ("admin", "personalization")),
    ("Painel da personalização", "personalize.dashboard", ("admin", "personalization")),
    ("Dúvidas dos compradores", "personalize.questions", ("admin", "personalization")),
    ("Sucesso do cliente", "cs.home", ("admin", "csm", "cs_leader")),
    ("Empreendimentos", "realestate.developments", ("admin", "manager", "personalization")),
    ("Relatórios", "reports.index", ("admin", "manager", "cs_leader", "personalization")),
    ("Réguas", "automation.rules", ("admin",)),
    ("Clientes de API", "presales_public.api_clients", ("admin",)),
    ("Usuários", "admin.users", ("admin", "manager")),
    ("Equipes", "admin.teams", ("admin",)),
    ("Mensagens", "automation.deliveries", ("admin",)),
    ("Calendário", "automation.calendar", ("admin",)),
    ("Descadastros", "automation.optouts", ("admin",)),
    ("Tarefas", "admin.jobs", ("admin",)),
    ("Auditoria", "admin.audit", ("admin",)),
]
CUSTOMER_MENU = [("Minhas unidades", "personalize.portal", ("customer",))]


def navigation(user):
    if not getattr(user, "is_authenticated", False):
        return []
    menu = CUSTOMER_MENU if user.role == "customer" else MENU
    return [{"label": label, "url": url_for(endpoint), "endpoint": endpoint}
            for label, endpoint, roles in menu if user.role in roles]
