"""Buyers: customer users linked to units. One by one, by CSV import, and their invitations.

Who is the same person: the e-mail (unique on users) or the CPF identifies a buyer; a phone only
blocks — a new e-mail and CPF with a phone another buyer already has is refused, not silently merged
(spouses share phones; silently merging two people would hand one the other's unit). The database
holds CPF and phone unique in `buyer_keys`, so two imports racing cannot create twins.
"""
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal import normalize, signed_links
from portal.accounts import services as accounts
from portal.accounts.audit import audit
from portal.accounts.mail import send_invitation
from portal.accounts.models import User
from portal.accounts.scope import scoped
from portal.errors import ServiceError
from portal.automation.events import publish
from portal.dbtypes import utcnow
from portal.extensions import db
from portal.personalize.link_requests import LinkRequest
from portal.personalize.models import BuyerKey, BuyerProfile, BuyerProfileField
from portal.personalize.services.selections import ensure_selection
from portal.realestate.models import Unit, UnitBuyer

NOT_CUSTOMER = "Este e-mail é de um usuário da equipe, não de um comprador."
CPF_TAKEN = "Este CPF já está cadastrado para outro comprador."
PHONE_TAKEN = ("Este telefone já está cadastrado para outro comprador. Se for a mesma pessoa, use o e-mail "
               "dela; se não, deixe o telefone em branco.")


def clean_buyer(data: dict) -> dict:
    """Normalized name, e-mail, phone (E.164) and CPF (digits); ServiceError with pt-BR messages."""
    errors, clean = {}, {}
    clean["name"] = " ".join(str(data.get("name") or "").split())
    if not clean["name"]:
        errors["name"] = "Informe o nome."
    elif len(clean["name"]) > 120:
        errors["name"] = "Use no máximo 120 caracteres."
    if not str(data.get("email") or "").strip():
        errors["email"] = "Informe o e-mail (é o login do comprador)."
    else:
        try:
            clean["email"] = normalize.email(data.get("email"))
        except normalize.InvalidValue as exc:
            errors["email"] = str(exc)
    clean["phone"] = clean["cpf"] = None
    if str(data.get("phone") or "").strip():
        try:
            clean["phone"] = normalize.phone(data["phone"])
        except normalize.InvalidValue as exc:
            errors["phone"] = str(exc)
    if str(data.get("cpf") or "").strip():
        try:
            clean["cpf"] = normalize.cpf(data["cpf"])
        except normalize.InvalidValue as exc:
            errors["cpf"] = str(exc)
    if errors:
        raise ServiceError(errors)
    return clean


class Resolver:
    """Finds the existing buyer a row means, or says why the row clashes with someone else.

    `pending` lets the CSV preview treat people met earlier in the same file as if they existed.
    """

    def __init__(self):
        self._phones: dict[str, int] | None = None

    def by_email(self, email):
        return accounts.find_user_by_email(email) if email else None

    def _key_owner(self, key: str):
        row = db.session.get(BuyerKey, key)
        return db.session.get(User, row.user_id) if row else None

    def by_cpf(self, cpf):
        if not cpf:
            return None
        return self._key_owner(f"cpf:{cpf}") or db.session.execute(
            select(User).where(User.cpf == cpf, User.role == "customer").order_by(User.id).limit(1)).scalar()

    def by_phone(self, phone):
        if not phone:
            return None
        owner = self._key_owner(f"phone:{phone}")
        if owner is not None:
            return owner
        if self._phones is None:  # users made outside personalization have no keys: one scan, then a dict
            self._phones = {}
            for uid, p in db.session.execute(select(User.id, User.phone).where(User.role == "customer",
                                                                               User.phone.is_not(None))):
                self._phones.setdefault(p, uid)
        uid = self._phones.get(phone)
        return db.session.get(User, uid) if uid else None

    def match(self, clean: dict, exclude: User | None = None) -> User | None:
        """The existing buyer for these contacts (None: a new person); ServiceError on a clash."""
        user = self.by_email(clean.get("email"))
        if user is not None and user is exclude:
            user = None
        if user is not None and user.role != "customer":
            raise ServiceError({"email": NOT_CUSTOMER})
        errors = {}
        cpf_owner = self.by_cpf(clean.get("cpf"))
        if cpf_owner is not None and cpf_owner is not exclude:
            if user is None and exclude is None:
                errors["cpf"] = CPF_TAKEN + " Use o e-mail já cadastrado para ele."
            elif cpf_owner is not (user or exclude):
                errors["cpf"] = CPF_TAKEN
        me = user or exclude
        if user is not None and clean.get("cpf") and user.cpf and user.cpf != clean["cpf"]:
            errors["cpf"] = "O comprador com este e-mail tem outro CPF cadastrado."
        phone_owner = self.by_phone(clean.get("phone"))
        if phone_owner is not None and phone_owner is not me:
            errors["phone"] = PHONE_TAKEN
        if errors:
            raise ServiceError(errors)
        return user


def take_keys(user: User) -> None:
    """Hold the buyer's CPF and phone in buyer_keys (drop keys the buyer no longer has)."""
    wanted = set()
    if user.cpf:
        wanted.add(f"cpf:{user.cpf}")
    if user.phone:
        wanted.add(f"phone:{user.phone}")
    db.session.execute(delete(BuyerKey).where(BuyerKey.user_id == user.id, BuyerKey.key.not_in(wanted or {""})))
    for key in wanted:
        row = db.session.get(BuyerKey, key)
        if row is not None:
            if row.user_id != user.id:
                raise ServiceError({key.split(":")[0]: CPF_TAKEN if key.startswith("cpf:") else PHONE_TAKEN})
            continue
        try:
            with db.session.begin_nested():
                db.session.add(BuyerKey(key=key, user_id=user.id))
        except IntegrityError as exc:  # someone else took it a moment ago
            raise ServiceError({key.split(":")[0]: CPF_TAKEN if key.startswith("cpf:") else PHONE_TAKEN}) from exc


def profile_of(user: User, create: bool = False) -> BuyerProfile | None:
    profile = db.session.get(BuyerProfile, user.id)
    if profile is None and create:
        profile = BuyerProfile(user_id=user.id, values={})
        db.session.add(profile)
        db.session.flush()
    return profile


def link_unit(user: User, unit: Unit, *, audited: bool = True) -> bool:
    """Make `user` a buyer of `unit` (co-buyers: several per unit). False when already linked."""
    if db.session.get(UnitBuyer, (unit.id, user.id)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(UnitBuyer(unit_id=unit.id, user_id=user.id))
    except IntegrityError:
        return False
    ensure_selection(unit)
    if audited:
        audit("buyer.unit_linked", user, unit_id=unit.id, unit=str(unit))
    return True


def unlink_unit(user: User, unit: Unit) -> None:
    link = db.session.get(UnitBuyer, (unit.id, user.id))
    if link is None:
        raise ServiceError({"unit": "Este comprador não está vinculado a esta unidade."})
    db.session.delete(link)
    db.session.flush()
    audit("buyer.unit_unlinked", user, unit_id=unit.id, unit=str(unit))


def register_buyer(data: dict, units: list[Unit], *, audited: bool = True, actor: User | None = None
                   ) -> tuple[User, bool]:
    """Create the buyer (or find the same person) and link the units. Returns (user, created).

    A customer who already has an account but is not a buyer the actor may see (another development's) is
    not linked: a link request goes to them by e-mail and the units are linked when they accept
    (`visible_to(actor, user)` stays False until then). The actor is the logged-in user by default;
    without one (CLI, demo) the link is made at once."""
    clean = clean_buyer(data)
    if not units:
        raise ServiceError({"unit_id": "Escolha a unidade do comprador."})
    actor = actor or _request_user()
    existing = accounts.find_user_by_email(clean["email"])
    if existing is not None and existing.role == "customer" and actor is not None and not visible_to(actor, existing):
        for unit in units:
            request_link(existing, unit, clean["email"], actor)
        return existing, False
    user = Resolver().match(clean)
    created = user is None
    if created:
        user = accounts.create_user({**clean, "role": "customer"})  # no password: the invitation sets it
    else:
        changed = [k for k in ("name", "phone", "cpf") if clean.get(k) and getattr(user, k) != clean[k]]
        for key in changed:
            setattr(user, key, clean[key])
        if changed and audited:
            audit("buyer.updated", user, fields=changed)
    take_keys(user)
    profile_of(user, create=True)
    for unit in units:
        link_unit(user, unit, audited=audited)
    db.session.flush()
    return user, created


def _request_user() -> User | None:
    from flask import has_request_context
    from flask_login import current_user
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()
    return None


def visible_to(actor: User, user: User) -> bool:
    """Is `user` a buyer within the actor's scope (admin: every customer)?"""
    if actor.role == "admin":
        return True
    from portal.personalize.queries import buyer_query
    return db.session.execute(buyer_query(actor).where(User.id == user.id).with_only_columns(User.id)).first() \
        is not None


# ---- linking an existing customer: a request the buyer accepts ------------------------------------------

LINK_SALT = "buyer-link-request"


def request_link(user: User, unit: Unit, email: str, actor: User) -> LinkRequest:
    """Ask `user` (by e-mail) to accept being linked to `unit`. Asking again re-sends the request."""
    row = db.session.execute(select(LinkRequest).where(LinkRequest.unit_id == unit.id, LinkRequest.user_id == user.id)
                             ).scalar_one_or_none()
    if row is None:
        row = LinkRequest(unit_id=unit.id, development_id=unit.development_id, user_id=user.id, email=email,
                          nonce=secrets.token_urlsafe(24))
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # the same request made a moment ago: that one stands
            return db.session.execute(select(LinkRequest).where(LinkRequest.unit_id == unit.id,
                                                                LinkRequest.user_id == user.id)).scalar_one()
    row.email, row.requested_by_id, row.requested_at = email, actor.id, utcnow()
    row.accepted_at = row.declined_at = None
    row.nonce = secrets.token_urlsafe(24)  # a new request: an earlier e-mail's link stops working
    db.session.flush()
    from portal.automation.deliveries import send_template_email
    from portal.web.urls import external_url
    send_template_email(to=user.email, name=user.name, template="buyer_link_request",
                        key=f"buyer-link:{row.id}:{row.nonce[:16]}", user=user, unit=unit,
                        development=unit.development, actor=actor,
                        link=external_url("personalize.link_request", token=signed_links.dumps(LINK_SALT, row.nonce)))
    audit("buyer.link_requested", user, user=actor, unit_id=unit.id, unit=str(unit))
    return row


def link_request_for(token: str, max_age_seconds: int) -> tuple[LinkRequest | None, bool]:
    """(request, expired) for the link in the buyer's e-mail; None when forged or superseded."""
    nonce, expired = signed_links.loads(LINK_SALT, token, max_age_seconds)
    if nonce is None:
        return None, False
    row = db.session.execute(select(LinkRequest).where(LinkRequest.nonce == nonce)).scalar_one_or_none()
    return row, expired and row is not None


def answer_link_request(row: LinkRequest, user: User, accept: bool) -> None:
    """The buyer's answer; only the asked buyer may give it, once."""
    if row.user_id != user.id:
        raise ServiceError({"request": "Este pedido de vínculo não é para você."})
    if not row.pending:
        raise ServiceError({"request": "Este pedido de vínculo já foi respondido."})
    if accept:
        row.accepted_at = utcnow()
        link_unit(user, row.unit)
    else:
        row.declined_at = utcnow()
        audit("buyer.link_declined", user, unit_id=row.unit_id, unit=str(row.unit))
    db.session.flush()


def pending_link_requests(actor: User, development_id: int | None = None) -> list[LinkRequest]:
    stmt = scoped(actor, LinkRequest).where(LinkRequest.accepted_at.is_(None), LinkRequest.declined_at.is_(None))
    if development_id:
        stmt = stmt.where(LinkRequest.development_id == development_id)
    return db.session.execute(stmt.order_by(LinkRequest.requested_at.desc(), LinkRequest.id.desc())).scalars().all()


def update_buyer(user: User, data: dict) -> User:
    clean = clean_buyer(data)
    other = accounts.find_user_by_email(clean["email"])
    if other is not None and other is not user:
        raise ServiceError({"email": "Já existe um usuário com este e-mail."})
    Resolver().match(clean, exclude=user)
    changed = [k for k in ("name", "email", "phone", "cpf") if getattr(user, k) != clean[k]]
    for key in changed:
        setattr(user, key, clean[key])
    take_keys(user)
    if changed:
        audit("buyer.updated", user, fields=changed)
    return user


def invite(user: User, actor: User | None = None) -> None:
    """E-mail the set-password link (again, if asked). Sent through automation, after commit."""
    if not user.active:
        raise ServiceError({"user": "Este comprador está desativado."})
    send_invitation(user)
    profile = profile_of(user, create=True)
    profile.invited_at = utcnow()
    profile.invitations = (profile.invitations or 0) + 1
    audit("buyer.invited", user, user=actor, count=profile.invitations)
    publish("buyer.invited", user, actor=actor)


INLINE_INVITATIONS = 50


def invite_pending(user_ids, actor: User) -> tuple[int, bool]:
    """Invite everyone in `user_ids` never invited nor logged in. A few go out now; a whole imported
    development goes to the worker. Returns (how many, queued?)."""
    people = never_invited(list(user_ids))
    if len(people) <= INLINE_INVITATIONS:
        for user in people:
            invite(user, actor)
        return len(people), False
    from portal import jobs
    from portal.personalize.jobs import invite_buyers
    jobs.enqueue_after_commit(db.session, invite_buyers, [u.id for u in people], actor.id, queue_name="low")
    return len(people), True


def never_invited(user_ids) -> list[User]:
    rows = db.session.execute(select(User).outerjoin(BuyerProfile, BuyerProfile.user_id == User.id)
                              .where(User.id.in_(user_ids), User.active.is_(True), User.role == "customer",
                                     BuyerProfile.invited_at.is_(None), User.last_login_at.is_(None))
                              .order_by(User.id)).scalars().all()
    return rows


# Extra profile fields (per company)
def active_profile_fields() -> list[BuyerProfileField]:
    return db.session.execute(select(BuyerProfileField).where(BuyerProfileField.active.is_(True))
                              .order_by(BuyerProfileField.position, BuyerProfileField.id)).scalars().all()


def save_profile_field(data: dict, row: BuyerProfileField | None = None) -> BuyerProfileField:
    from portal.personalize.models import PROFILE_KINDS
    from portal.personalize.services.common import as_bool, field, parse_position, parse_text
    from portal.web.csv_import import fold

    errors: dict[str, str] = {}
    label = field(errors, "label", parse_text, data.get("label"), "o nome do campo", 80)
    kind = data.get("kind") or "text"
    if kind not in PROFILE_KINDS:
        errors["kind"] = "Escolha um tipo."
    choices = [c.strip() for c in str(data.get("choices") or "").replace("\n", ",").split(",") if c.strip()]
    if kind == "choice" and not choices:
        errors["choices"] = "Informe as opções, separadas por vírgula."
    position = field(errors, "position", parse_position, data.get("position"))
    key = row.key if row else fold(label or "")[:40]
    if not row and key and db.session.execute(select(BuyerProfileField.id).where(BuyerProfileField.key == key)).first():
        errors["label"] = "Já existe um campo com este nome."
    if errors:
        raise ServiceError(errors)
    created = row is None
    row = row or BuyerProfileField(key=key)
    row.label, row.kind, row.choices, row.position = label, kind, choices if kind == "choice" else [], position
    row.active = as_bool(data.get("active", True))
    db.session.add(row)
    db.session.flush()
    audit("buyer_field.created" if created else "buyer_field.updated", row, label=label, kind=kind)
    return row


def set_profile_values(user: User, data: dict) -> BuyerProfile:
    from portal.web.csv_import import parse_decimal

    errors, values = {}, {}
    for f in active_profile_fields():
        raw = str(data.get(f"field_{f.key}") or "").strip()
        if not raw:
            continue
        if f.kind == "choice" and raw not in f.choices:
            errors[f"field_{f.key}"] = "Escolha uma das opções."
        elif f.kind == "number":
            try:
                values[f.key] = str(parse_decimal(raw))
            except ValueError as exc:
                errors[f"field_{f.key}"] = str(exc)
            continue
        elif f.kind == "yesno" and raw not in ("sim", "nao"):
            errors[f"field_{f.key}"] = "Escolha sim ou não."
        elif len(raw) > 500:
            errors[f"field_{f.key}"] = "Use no máximo 500 caracteres."
        values[f.key] = raw
    if errors:
        raise ServiceError(errors)
    profile = profile_of(user, create=True)
    old = dict(profile.values or {})
    # Keep values of fields that were switched off since: the company may switch them back on.
    keep = {k: v for k, v in old.items() if k not in {f.key for f in active_profile_fields()}}
    profile.values = {**keep, **values}
    if profile.values != old:
        audit("buyer.profile_updated", user, fields=sorted(k for k in set(old) | set(values)
                                                            if old.get(k) != profile.values.get(k)))
    return profile
