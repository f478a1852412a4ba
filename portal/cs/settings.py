"""The CS leader's settings (one row) with the seed's defaults: segmentation, phase durations, cadences and
health weights. Stored values are merged over the defaults, so a knob added later starts at its default."""
import copy

from sqlalchemy import select

from portal.accounts.audit import audit
from portal.cs.models import CsSettings
from portal.extensions import db

# Seed "Processo de CS": Enterprise when more than 100 employees, MRR over R$ 2K, more than 2 products,
# came from a competitor (Argo, Concur) or more than 4 points of contact.
DEFAULT_SEGMENTATION = {
    "mode": "any",          # any | all | at_least
    "at_least": 2,
    "criteria": [
        {"field": "employees", "op": "gt", "value": 100, "enabled": True},
        {"field": "mrr_cents", "op": "gt", "value": 200_000, "enabled": True},
        {"field": "products_count", "op": "gt", "value": 2, "enabled": True},
        {"field": "from_competitor", "op": "is_true", "value": None, "enabled": True},
        {"field": "contact_points", "op": "gt", "value": 4, "enabled": True},
    ],
}

# Expected days in each phase per segment (None: no expectation, e.g. ongoing lasts until renewal).
# Cadences: follow-up every N days per phase (None: on demand), annual visit and RTS (results meeting).
DEFAULT_JOURNEY = {
    "durations": {
        "onboarding": {"enterprise": 60, "smb": 30},
        "adoption": {"enterprise": 45, "smb": 45},
        "ongoing": {"enterprise": None, "smb": None},
        "renewal": {"enterprise": 90, "smb": 90},
    },
    "cadence": {
        "enterprise": {"onboarding": 7, "adoption": 7, "ongoing": 45, "renewal": 45, "visit_days": 365,
                       "rts_days": 90},
        "smb": {"onboarding": 15, "adoption": 15, "ongoing": None, "renewal": None, "visit_days": None,
                "rts_days": 180},
    },
}

MEASURES = {
    "usage": "Uso do produto",
    "engagement": "Engajamento em funcionalidades-chave",
    "support": "Suporte",
    "nps": "NPS",
    "finance": "Financeiro",
    "relationship": "Relacionamento",
}
MEASURES_SHORT = {"usage": "Uso", "engagement": "Engajamento", "support": "Suporte", "nps": "NPS",
                  "finance": "Financeiro", "relationship": "Relacionamento"}
DEFAULT_HEALTH = {
    "weights": {"usage": 30, "engagement": 20, "support": 15, "nps": 15, "finance": 10, "relationship": 10},
    "green_at": 70,         # score >= green_at: green
    "yellow_at": 40,        # score >= yellow_at: yellow; below: red
    "flag_cap": 39,         # the CSM's risk flag caps the score here (red by default)
    "sponsor_days": 180,    # a decision maker met within this many days counts as "sponsor met"
    "on_demand_days": 90,   # relationship clock for accounts whose cadence is "on demand"
}

# CSM capacity (issue: 1 CSM : 30 Enterprise, 1 : 40 ME/PME accounts, R$ 100.000,00 of MRR per CSM).
DEFAULT_CAPACITY = {"accounts_per_csm": {"enterprise": 30, "smb": 40}, "mrr_per_csm_cents": 10_000_000}

DEFAULTS = {"segmentation": DEFAULT_SEGMENTATION, "journey": DEFAULT_JOURNEY, "health": DEFAULT_HEALTH}
DEFAULTS["capacity"] = DEFAULT_CAPACITY


def _merge(default, stored):
    """Stored values win (None included: "on demand" is a choice); missing keys take the default."""
    if isinstance(default, dict) and isinstance(stored, dict):
        out = copy.deepcopy(default)
        for key, value in stored.items():
            out[key] = _merge(default[key], value) if key in default else copy.deepcopy(value)
        return out
    return copy.deepcopy(stored)


class Settings:
    """Read-only view of the settings with the defaults filled in."""

    def __init__(self, row: CsSettings | None):
        self.row = row
        self.segmentation = _merge(DEFAULT_SEGMENTATION, (row.segmentation if row else None) or {})
        self.journey = _merge(DEFAULT_JOURNEY, (row.journey if row else None) or {})
        self.health = _merge(DEFAULT_HEALTH, (row.health if row else None) or {})
        self.capacity = _merge(DEFAULT_CAPACITY, (getattr(row, "capacity", None) if row else None) or {})

    def duration(self, phase: str, segment: str) -> int | None:
        return self.journey["durations"].get(phase, {}).get(segment)

    def cadence(self, segment: str) -> dict:
        return self.journey["cadence"].get(segment, {})

    def follow_up_days(self, segment: str, phase: str) -> int | None:
        return self.cadence(segment).get(phase)


def get_settings() -> Settings:
    return Settings(db.session.execute(select(CsSettings).order_by(CsSettings.id).limit(1)).scalar_one_or_none())


def save_section(section: str, value: dict, user=None) -> Settings:
    """Replace one section (already validated by its service) and audit it."""
    if section not in DEFAULTS:
        raise KeyError(section)
    row = db.session.execute(select(CsSettings).order_by(CsSettings.id).limit(1).with_for_update()
                             ).scalar_one_or_none()
    if row is None:
        row = CsSettings(segmentation={}, journey={}, health={})
        db.session.add(row)
    setattr(row, section, copy.deepcopy(value))
    row.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    audit(f"cs.settings.{section}", row, user=user)
    return Settings(row)
