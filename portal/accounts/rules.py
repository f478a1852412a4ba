"""Users as rule subjects: welcome and access messages can be automated like any other record."""
from portal.accounts.models import User
from portal.automation.subjects import Contact, SubjectType, register_event, register_subject

register_subject(SubjectType(
    kind="user", model=User, label="Usuário",
    fields={"name": "Nome", "email": "E-mail", "phone": "Celular", "role": "Perfil", "role_label": "Perfil (nome)",
            "active": "Ativo", "team.name": "Equipe", "created_at": "Criado em", "last_login_at": "Último acesso"},
    date_fields={"created_at": "Criado em", "last_login_at": "Último acesso"},
    contact=lambda u: Contact(name=u.name, email=u.email, phone=u.phone, user_id=u.id),
    owner=lambda u: u,  # so "gestor do responsável" is the user's manager
    url=lambda u: f"/admin/usuarios/{u.id}",
    title=lambda u: f"{u.name} <{u.email}>",
))
register_event("user.created", "user", "Usuário criado")
register_event("user.deactivated", "user", "Usuário desativado")
