from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.dbtypes import JSONType, TimestampMixin, UTCDateTime, utcnow
from portal.extensions import db

ROLES = {
    "admin": "Administrador",
    "manager": "Gestor",
    "sdr": "SDR",
    "broker": "Corretor",
    "csm": "CSM",
    "cs_leader": "Líder de CS",
    "personalization": "Equipe de personalização",
    "customer": "Cliente",
}
STAFF_ROLES = [r for r in ROLES if r != "customer"]


class Team(TimestampMixin, db.Model):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)

    parent: Mapped["Team | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Team"]] = relationship(back_populates="parent")
    manager: Mapped["User | None"] = relationship(foreign_keys=[manager_id])
    members: Mapped[list["User"]] = relationship(back_populates="team", foreign_keys="User.team_id")

    def __str__(self):
        return self.name


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __scope__ = ("user",)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Always stored lower-cased (portal.normalize.email), so a plain unique index is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    cpf: Mapped[str | None] = mapped_column(String(11), index=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session id (get_id): raising it ends every session and remember-me token issued before.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])

    def set_password(self, password: str) -> None:
        from flask import current_app
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self):
        # What the session cookie carries: the user loader refuses it once the generation has moved on.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_label(self):
        return ROLES.get(self.role, self.role)

    def has_role(self, *roles):
        return self.role in roles

    def __str__(self):
        return self.name


class RememberToken(db.Model):
    """A "Manter conectado" login: the cookie holds a random secret, the table only its sha256, so a
    leaked table logs nobody in and each token can be revoked alone."""
    __tablename__ = "remember_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSONType)

    user: Mapped[User | None] = relationship()
