from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.dbtypes import JSONType, UTCDateTime, utcnow
from portal.extensions import db

RUN_STATUSES = {"queued": "Na fila", "running": "Gerando", "done": "Pronto", "failed": "Falhou",
                "expired": "Arquivo expirado"}


class ReportRun(db.Model):
    """One request for a report: parameters, progress, the file it produced."""
    __tablename__ = "report_runs"
    __scope__ = ("owner", "user_id")
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    report_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    format: Mapped[str] = mapped_column(String(10), default="pdf")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    rows: Mapped[int | None] = mapped_column()
    file_path: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def status_label(self):
        return RUN_STATUSES.get(self.status, self.status)
