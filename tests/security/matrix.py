"""The authorization matrix's map of the URL space: which model each URL argument names, who may reach a
record that has no `__scope__` of its own, and the database fingerprint that proves a request wrote
nothing.

Everything here is explicit on purpose: a new `<int:...>` argument that is not in ARG_MODELS fails the
matrix (`unmapped_arguments`) instead of being skipped, and a route that answers an anonymous visitor
must be listed in PUBLIC_ENDPOINTS with its reason."""
import hashlib
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event, select, text
from werkzeug.routing import AnyConverter

from portal.accounts import scope
from portal.accounts.models import Team, User
from portal.automation.models import Delivery, Holiday, Rule, Task
from portal.cs.models import Account, Contact, KeyFeature, Product
from portal.cs.nps_models import Churn, NpsResponse, NpsTopic
from portal.cs.playbook_models import Migration, MigrationComponent, ProductComponent
from portal.extensions import db
from portal.personalize.appointments import Appointment, AppointmentSlot
from portal.personalize.contracts import Contract
from portal.personalize.esign.models import Signer
from portal.personalize.models import (BuyerProfileField, Category, Item, Option, OptionPhoto,
                                       PersonalizationWindow)
from portal.personalize.questions import BuyerQuestion, QuestionAttachment
from portal.presales.models import (Campaign, Channel, CustomField, Lead, LossReason, Media, Offer,
                                    Pipeline, Queue, QueueMember, Schedule, Stage)
from portal.realestate.models import Development, Tower, Typology, Unit
from portal.reports.models import ReportRun

try:  # API clients are moving from presales to accounts (issue 15, API scopes)
    from portal.accounts.apiclients import ApiClient
except ImportError:  # pragma: no cover - before the move
    from portal.presales.models import ApiClient

# (blueprint, argument) -> model, or {value of the rule's `kind` argument: model}.
ARG_MODELS = {
    ("admin", "team_id"): Team,
    ("admin", "user_id"): User,
    ("automation", "holiday_id"): Holiday,
    ("automation", "delivery_id"): Delivery,
    ("automation", "rule_id"): Rule,
    ("realestate", "development_id"): Development,
    ("realestate", "item_id"): {"torres": Tower, "tipologias": Typology, "unidades": Unit},
    ("personalize", "appointment_id"): Appointment,
    ("personalize", "attachment_id"): QuestionAttachment,
    ("personalize", "category_id"): Category,
    ("personalize", "contract_id"): Contract,
    ("personalize", "development_id"): Development,
    ("personalize", "field_id"): BuyerProfileField,
    ("personalize", "item_id"): Item,
    ("personalize", "option_id"): Option,
    ("personalize", "photo_id"): OptionPhoto,
    ("personalize", "question_id"): BuyerQuestion,
    ("personalize", "signer_id"): Signer,
    ("personalize", "slot_id"): AppointmentSlot,
    ("personalize", "unit_id"): Unit,
    ("personalize", "user_id"): User,
    ("personalize", "window_id"): PersonalizationWindow,
    ("presales", "lead_id"): Lead,
    ("presales", "offer_id"): Offer,
    ("presales", "stage_id"): Stage,
    ("presales_work", "lead_id"): Lead,
    ("presales_work", "schedule_id"): Schedule,
    ("presales_work", "campaign_id"): Campaign,
    ("presales_admin", "item_id"): {"canais": Channel, "midias": Media, "motivos-de-perda": LossReason,
                                    "campos": CustomField},
    ("presales_admin", "queue_id"): Queue,
    ("presales_admin", "member_id"): QueueMember,
    ("presales_admin", "pipeline_id"): Pipeline,
    ("presales_admin", "stage_id"): Stage,
    ("presales_public", "client_id"): ApiClient,
    ("reports", "run_id"): ReportRun,
    ("cs", "account_id"): Account,
    ("cs", "churn_id"): Churn,
    ("cs", "contact_id"): Contact,
    ("cs", "feature_id"): KeyFeature,
    ("cs", "migration_id"): Migration,
    ("cs", "product_id"): Product,
    ("cs", "response_id"): NpsResponse,
    ("cs", "task_id"): Task,
    ("cs", "topic_id"): NpsTopic,
    # The same argument name means two tables in cs: a product's component on the settings page, a
    # migration's price line on the playbook page.
    ("cs", "component_id", "cs.settings_product_component_delete"): ProductComponent,
    ("cs", "component_id", "cs.playbook_price_delete"): MigrationComponent,
}

# Values for the string parts of record-bearing rules (any() converters are expanded to every value).
STRING_ARGS = {"step": "kickoff"}

# Records without `__scope__` reach the user through their parent: (attribute, parent model).
PARENTS = {
    Contact: ("account", Account),
    Signer: ("envelope", None),  # Envelope has its own __scope__
    QueueMember: ("queue", Queue),
    Stage: ("pipeline", Pipeline),
    MigrationComponent: ("migration", Migration),
    Migration: ("account", Account),
}

ALL = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What a role reaches by design beyond its scope: global settings (records without `__scope__` and without a
# scoped parent, which only admin reaches otherwise) and, for the roles outside personalization,
# development/unit records (their scope lets every staff member *read* them, e.g. a lead's development; the
# personalization and realestate screens are still not theirs). role -> {model: (methods, reason)}.
DESIGNED_ACCESS = {
    "manager": {
        Queue: (ALL, "QUEUE_MANAGERS: managers run the distribution queues"),
        QueueMember: (ALL, "QUEUE_MANAGERS: managers run the distribution queues"),
        Pipeline: (("GET",), "presales config VIEWERS: managers read the funnels"),
        Stage: (("GET",), "the board shows every stage to the sales roles"),
        Channel: (("GET",), "presales config VIEWERS"), Media: (("GET",), "presales config VIEWERS"),
        LossReason: (("GET",), "presales config VIEWERS"), CustomField: (("GET",), "presales config VIEWERS"),
        Development: (("GET",), "realestate VIEWERS: managers read developments"),
        Tower: (("GET",), "realestate VIEWERS"), Typology: (("GET",), "realestate VIEWERS"),
        Unit: (("GET",), "realestate VIEWERS"),
    },
    "personalization": {BuyerProfileField: (ALL, "the personalization team keeps the buyer profile fields")},
    "sdr": {Stage: (("GET",), "the board shows every stage to the sales roles")},
    "broker": {Stage: (("GET",), "the board shows every stage to the sales roles")},
    "csm": {NpsTopic: (("GET",), "NPS topics are shared by the CS roles")},
    "cs_leader": {
        NpsTopic: (("GET",), "NPS topics are shared by the CS roles"),
        Product: (ALL, "cs settings LEADERS: CS leaders keep the product catalog"),
        KeyFeature: (ALL, "cs settings LEADERS"), ProductComponent: (ALL, "cs settings LEADERS"),
    },
}
# Roles whose scope on development/unit records is the access rule itself (scope.py narrows them).
DEVELOPMENT_SCOPED_ROLES = ("admin", "personalization", "customer")


# Endpoints that answer a visitor who is not logged in, with the reason each is public.
PUBLIC_ENDPOINTS = {
    "static": "CSS/JS/icons",
    "cs.static": "the CS package's CSS/JS",
    "web.healthz": "load balancer health check, says only ok/failing part",
    "web.manifest": "PWA manifest",
    "web.offline": "PWA offline page",
    "web.service_worker": "PWA service worker",
    "web.index": "redirects to the login page or the user's home",
    "web.verify": "the public contract verification page",
    "auth.login": "the login page",
    "auth.logout": "logging out needs no login",
    "auth.forgot": "password recovery",
    "auth.reset": "password reset link (token-checked)",
    "automation.unsubscribe": "LGPD opt-out link in messages (token-checked)",
    "presales_public.form": "the public lead form of a development",
    "presales_public.thanks": "the public form's thank-you page",
    "presales_api.create_lead": "API: token-checked",
    "presales_api.openapi_document": "API documentation",
    "presales_api.rdstation_webhook": "RD Station webhook: token-checked",
    "presales_webhooks.sales_status": "sales CRM webhook: HMAC-checked",
    "cs_api.post_usage": "API: token-checked",
    "personalize.survey": "satisfaction survey link (token-checked)",
    "personalize.verify": "public check of a signed PDF",
    "cs.nps_survey": "NPS survey link (token-checked)",
    "esign_webhooks.signature_callback": "e-signature provider webhook: secret-checked",
}


def unmapped_arguments(app) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        for arg in int_args(rule):
            try:
                model_for(rule, arg, None)
            except KeyError:
                missing.append(f"{rule.endpoint} <{arg}> ({rule.rule})")
    return sorted(missing)


def int_args(rule) -> list[str]:
    """The rule's id arguments, in URL order."""
    names = re.findall(r"<(?:int(?:\([^)]*\))?):(\w+)>", rule.rule)
    return names


def model_for(rule, arg, kind):
    bp = rule.endpoint.split(".")[0]
    model = ARG_MODELS.get((bp, arg, rule.endpoint)) or ARG_MODELS[(bp, arg)]
    if isinstance(model, dict):
        if kind is None:  # only checking that the argument is mapped
            return next(iter(model.values()))
        return model[kind]
    return model


def expansions(rule) -> list[dict]:
    """One dict of the non-id values per expansion of the rule's any() parts and fixed string parts."""
    combos = [{}]
    for name, conv in rule._converters.items():
        if isinstance(conv, AnyConverter):
            values = sorted(conv.items)
            combos = [{**c, name: v} for c in combos for v in values]
        elif name in STRING_ARGS:
            combos = [{**c, name: STRING_ARGS[name]} for c in combos]
    return combos


def visible(user, model, row, method="GET") -> bool:
    """Whether `user` may reach `row` with `method` by the app's own rules (DESIGNED_ACCESS, scope.py for
    scoped models, the parent for their children; settings are admin's)."""
    methods, _reason = DESIGNED_ACCESS.get(user.role, {}).get(model, ((), ""))
    if method in methods:
        return True
    if hasattr(model, "__scope__"):
        if model.__scope__[0] in ("development", "unit") and user.role not in DEVELOPMENT_SCOPED_ROLES:
            return False
        return scope.can_see(user, row)
    if model is Offer:
        return row.user_id == user.id or user.role == "admin"
    if model in PARENTS:
        attr, parent_model = PARENTS[model]
        parent = getattr(row, attr)
        return visible(user, parent_model or type(parent), parent, method)
    return user.role == "admin"


@dataclass
class Fingerprint:
    """Row counts of every table in one round trip, plus every committed INSERT/UPDATE/DELETE seen on the
    engine (a change of a row's content does not change any count)."""
    tables: list
    committed: list = field(default_factory=list)
    _pending: list = field(default_factory=list)

    def counts(self) -> dict:
        sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t.name}")' for t in self.tables)
        return dict(zip((t.name for t in self.tables), db.session.execute(text(sql)).one()))

    def checksum(self) -> str:
        """SHA-256 over every row of every table (slow: once per role, around its whole loop)."""
        h = hashlib.sha256()
        for t in self.tables:
            order = [c for c in t.primary_key.columns] or list(t.columns)
            for row in db.session.execute(select(t).order_by(*order)):
                h.update(repr(tuple(row)).encode())
        return h.hexdigest()

    def listen(self, engine):
        def on_execute(conn, cursor, statement, params, context, executemany):
            if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
                self._pending.append(statement.split("\n")[0][:120])

        def on_commit(conn):
            self.committed.extend(self._pending)
            self._pending.clear()

        def on_rollback(conn):
            self._pending.clear()

        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        event.listen(engine, "rollback", on_rollback)

        def remove():
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)
            event.remove(engine, "rollback", on_rollback)
        return remove


@contextmanager
def module_world(app, build, **config):
    """One world for a whole test module (the module overrides the suite's per-test `_clean`): built from
    empty tables (as every test of the suite starts: rows the migrations seed are gone after the first test),
    handed over with the seconds it took, then the tables and the Redis db are emptied."""
    from portal import jobs
    from tests.conftest import _truncate
    with app.app_context():
        _truncate()
        jobs.get_redis().flushdb()
        started = time.monotonic()
        built = build()
        old = {key: app.config.get(key) for key in config}
        app.config.update(config)
        try:
            yield built, time.monotonic() - started
        finally:
            app.config.update(old)
            db.session.remove()
            _truncate()
            jobs.get_redis().flushdb()
