"""Every change to users and teams goes through here (forms, CLI, demo and tests alike)."""
import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal import normalize
from portal.accounts import passwords
from portal.accounts.audit import audit
from portal.accounts.models import ROLES, Team, User
from portal.accounts.sessions import end_all_sessions
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.errors import ServiceError
from portal.extensions import db


def find_user_by_email(email: str) -> User | None:
    email = (email or "").strip().lower()
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def _clean_user_fields(data: dict, existing: User | None = None) -> dict:
    errors, clean = {}, {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = "Informe o nome."
    clean["name"] = name
    try:
        clean["email"] = normalize.email(data.get("email"))
        other = find_user_by_email(clean["email"])
        if other is not None and other is not existing:
            errors["email"] = "Já existe um usuário com este e-mail."
    except normalize.InvalidValue as exc:
        errors["email"] = str(exc)
    if data.get("phone"):
        try:
            clean["phone"] = normalize.phone(data["phone"])
        except normalize.InvalidValue as exc:
            errors["phone"] = str(exc)
    else:
        clean["phone"] = None
    if data.get("cpf"):
        try:
            clean["cpf"] = normalize.cpf(data["cpf"])
        except normalize.InvalidValue as exc:
            errors["cpf"] = str(exc)
    role = data.get("role") or (existing.role if existing else "")
    if role not in ROLES:
        errors["role"] = "Escolha um perfil válido."
    clean["role"] = role
    team_id = data.get("team_id") or None
    if team_id is not None and db.session.get(Team, int(team_id)) is None:
        errors["team_id"] = "Equipe não encontrada."
    clean["team_id"] = int(team_id) if team_id else None
    if errors:
        raise ServiceError(errors)
    return clean


def create_user(data: dict, password: str | None = None, *, allow_weak_password: bool = False) -> User:
    """`allow_weak_password` is for the demo data and test factories only: their shared passwords are known."""
    clean = _clean_user_fields(data)
    if password is not None:
        passwords.validate(password, (clean["name"], clean["email"]), allow_weak=allow_weak_password)
    user = User(**clean, active=True)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user.created", user, role=user.role)
    publish("user.created", user)
    return user


def update_user(user: User, data: dict) -> User:
    clean = _clean_user_fields(data, existing=user)
    changed = {k: v for k, v in clean.items() if getattr(user, k) != v}
    for key, value in changed.items():
        setattr(user, key, value)
    if changed:
        audit("user.updated", user, fields=sorted(changed))
    return user


def set_active(user: User, active: bool) -> User:
    if user.active != active:
        user.active = active
        audit("user.activated" if active else "user.deactivated", user)
        if not active:
            end_all_sessions(user)
            publish("user.deactivated", user)
    return user


def set_password(user: User, password: str, *, allow_weak_password: bool = False) -> None:
    passwords.validate(password, (user.name, user.email), allow_weak=allow_weak_password)
    user.set_password(password)
    end_all_sessions(user)  # a stolen cookie must not outlive the password it was stolen with
    audit("user.password_changed", user, user=user)


def authenticate(email: str, password: str) -> tuple[User | None, str | None]:
    """(user, None) when the password is right and the account active, else (user or None, why): unknown_email,
    password_not_set (invited, never accepted), wrong_password or inactive. Every path checks exactly one
    hash of the configured cost, so the answer's timing does not reveal who has an account."""
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        passwords.check_without_account(password)
        return user, "unknown_email" if user is None else "password_not_set"
    if not user.check_password(password or ""):
        return user, "wrong_password"
    if not user.active:
        return user, "inactive"
    return user, None


def record_login_failure(email: str, reason: str, user: User | None = None) -> None:
    audit("user.login_failed", user, object_type="User", email=(email or "").strip().lower()[:254], reason=reason)


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit("user.login", user, user=user)


# Password reset: the token carries a fingerprint of the current password hash, so it stops
# working once used (the hash changes) and after PASSWORD_RESET_MAX_AGE seconds.
def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def reset_token(user: User, invitation: bool = False) -> str:
    """Invitations (people invited in bulk open them days later) live longer than a reset link."""
    return _serializer().dumps({"uid": user.id, "fp": _fingerprint(user), "inv": invitation})


class TokenError(ValueError):
    pass


def user_for_reset_token(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
        if not data.get("inv"):
            _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise TokenError("Este link expirou. Peça um novo link de redefinição.") from exc
    except BadSignature as exc:
        raise TokenError("Link de redefinição inválido.") from exc
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or data.get("fp") != _fingerprint(user):
        raise TokenError("Este link já foi usado ou não é mais válido. Peça um novo link.")
    return user


# Teams
def _team_cycle(team: Team, parent: Team | None) -> bool:
    while parent is not None:
        if parent is team:
            return True
        parent = parent.parent
    return False


def save_team(data: dict, team: Team | None = None) -> Team:
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = "Informe o nome da equipe."
    parent = db.session.get(Team, normalize.row_id(data["parent_id"]) or 0) if data.get("parent_id") else None
    if data.get("parent_id") and parent is None:
        errors["parent_id"] = "Equipe superior não encontrada."
    manager = db.session.get(User, normalize.row_id(data["manager_id"]) or 0) if data.get("manager_id") else None
    if data.get("manager_id") and (manager is None or manager.role not in ("manager", "cs_leader", "admin")):
        errors["manager_id"] = "O gestor precisa ter perfil Gestor ou Líder de CS."
    if team is not None and parent is not None and _team_cycle(team, parent):
        errors["parent_id"] = "Uma equipe não pode ficar abaixo dela mesma."
    if errors:
        raise ServiceError(errors)
    created = team is None
    team = team or Team()
    team.name, team.parent, team.manager = name, parent, manager
    db.session.add(team)
    db.session.flush()
    audit("team.created" if created else "team.updated", team, parent_id=team.parent_id, manager_id=team.manager_id)
    return team
