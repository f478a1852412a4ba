"""JSON API and webhooks for lead intake (bearer token per API client).

Every endpoint parses and checks the request, calls `intake()` and answers; nothing is written unless
the answer is a success (the session is rolled back on every error). The behaviour is described, for
people and machines, by the OpenAPI document served at /api/v1/openapi.json (see openapi.py).
"""
import json
import logging

import click
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from portal import normalize
from portal.errors import ServiceError
from portal.accounts import apiclients
from portal.extensions import csrf, db
from portal.presales.models import Media
from portal.presales.services.intake import intake
from portal.realestate.models import Development
from portal.realestate.services import slugify
from portal.web import apiauth

log = logging.getLogger(__name__)

# `portal api-token create NAME`: the blueprint's CLI group is registered with the blueprint.
bp = Blueprint("presales_api", __name__, url_prefix="/api/v1", cli_group="api-token")
csrf.exempt(bp)

MAX_BODY = 64 * 1024
MAX_WEBHOOK_LEADS = 100
LEAD_FIELDS = ("name", "email", "phone", "development", "channel", "media", "message", "extra")
TEXT_FIELDS = ("name", "email", "phone", "development", "channel", "media", "message")


class ApiError(Exception):
    TITLES = {400: "Requisição inválida", 401: "Não autorizado", 413: "Corpo grande demais",
              415: "Tipo de conteúdo não suportado", 422: "Dados inválidos"}

    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors

    def response(self):
        body = {"error": self.TITLES.get(self.status, "Erro"), "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        response = jsonify(body)
        response.status_code = self.status
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
        return response


def validation_error(errors: dict) -> ApiError:
    return ApiError(422, "Revise os campos indicados em errors.", errors)


# --- scopes, body -------------------------------------------------------------------------------------------

LEADS_WRITE = apiclients.register_scope("leads:write", "Enviar leads (POST /api/v1/leads)")
RDSTATION = apiclients.register_scope(apiclients.WEBHOOK_SCOPE,
                                      "Webhook do RD Station (endereço secreto /api/v1/webhooks/rdstation/…)")
bp.record_once(lambda state: apiauth.install_log_redaction(state.app))


def _reject_constant(name):
    raise ValueError(f"valor não permitido em JSON: {name}")


def json_body():
    """The parsed JSON body, checked for type and size before parsing (ApiError otherwise)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"O corpo passa do limite de {MAX_BODY // 1024} KB.")
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise ApiError(415, "Envie o corpo como JSON (Content-Type: application/json).")
    raw = request.stream.read(MAX_BODY + 1)  # the actual size: chunked bodies carry no Content-Length
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"O corpo passa do limite de {MAX_BODY // 1024} KB.")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, f"JSON malformado: {exc}") from None


def json_object() -> dict:
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "O corpo deve ser um objeto JSON ({...}).")
    return data


def lead_entry(data: dict) -> dict:
    """The intake entry for one API body; type errors are validation errors, like intake()'s own."""
    errors = {key: "Campo desconhecido." for key in data if key not in LEAD_FIELDS}
    for key in TEXT_FIELDS:
        if data.get(key) is not None and not isinstance(data[key], str):
            errors[key] = "Deve ser texto."
    if data.get("extra") is not None and not isinstance(data["extra"], dict):
        errors["extra"] = "O campo extra deve ser um objeto."
    if errors:
        raise validation_error(errors)
    entry = {key: data.get(key) for key in LEAD_FIELDS}
    entry["channel"] = entry["channel"] or "api"
    entry["extra"] = entry["extra"] or {}
    return entry


# --- RD Station conversion payload → intake entry ----------------------------------------------------
# RD Station Marketing's conversion webhook posts {"leads": [{...}]}; each lead carries name, email,
# personal_phone / mobile_phone, and first_conversion / last_conversion objects whose `content` holds
# the form fields (`identificador` is the conversion identifier) and whose `conversion_origin.source`
# is the traffic source. Flat `conversion_identifier` / `traffic_source` keys are accepted too.

IDENTIFIER_PATHS = (("conversion_identifier",), ("last_conversion", "content", "identificador"),
                    ("last_conversion", "conversion_identifier"), ("first_conversion", "content", "identificador"))
SOURCE_PATHS = (("traffic_source",), ("last_conversion", "conversion_origin", "source"),
                ("last_conversion", "content", "traffic_source"), ("last_conversion", "source"),
                ("first_conversion", "conversion_origin", "source"), ("first_conversion", "source"))
RD_EXTRA_KEYS = ("id", "uuid", "public_url", "lead_stage", "tags", "city", "state", "company", "job_title")


def _dig(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _text(value) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _first_text(item, paths) -> str | None:
    return next((v for v in (_text(_dig(item, p)) for p in paths) if v), None)


class RDMapping:
    """Lookups for one webhook call: media by traffic source, development by conversion identifier."""

    def __init__(self):
        self.media = list(db.session.execute(select(Media).where(Media.active.is_(True)).order_by(Media.id)).scalars())
        self.developments = list(db.session.execute(select(Development.slug)).scalars())

    @staticmethod
    def _contains(haystack: str, slug: str) -> bool:
        return f"-{slug}-" in f"-{haystack}-"

    def media_for(self, source: str | None) -> str | None:
        """Slug or name (case-insensitive, accents ignored), else a media slug among the source's words
        ("Busca Paga | Google" → google), else "outros". No source at all → no media."""
        if not source:
            return None
        wanted = slugify(source)
        for media in self.media:
            if wanted in (media.slug, slugify(media.name)):
                return media.slug
        for media in sorted(self.media, key=lambda m: -len(m.slug)):
            if media.slug != "outros" and self._contains(wanted, media.slug):
                return media.slug
        return "outros" if any(m.slug == "outros" for m in self.media) else None

    def development_for(self, identifier: str | None) -> str | None:
        """The development whose slug is the identifier, else the longest slug contained in it as whole
        words ("lp-jardim-europa-2025" → jardim-europa); None when nothing matches."""
        if not identifier:
            return None
        wanted = slugify(identifier)
        if wanted in self.developments:
            return wanted
        found = [slug for slug in self.developments if slug and self._contains(wanted, slug)]
        return max(found, key=len) if found else None

    def entry(self, item: dict, default_development: str | None) -> tuple[dict, dict]:
        """(intake entry, warnings). A phone RD could not validate is dropped (with a warning) when the
        lead has an e-mail, so a typo in one field does not lose the lead; the name falls back to the
        e-mail, since many RD conversions (newsletters, e-books) carry no name."""
        warnings = {}
        email = _text(item.get("email"))
        phones = [p for p in (_text(item.get("mobile_phone")), _text(item.get("personal_phone"))) if p]
        phone = None
        for candidate in phones:
            try:
                normalize.phone(candidate)
            except normalize.InvalidValue:
                continue
            phone = candidate
            break
        extra = {"rdstation": {k: item[k] for k in RD_EXTRA_KEYS if item.get(k) not in (None, "", [])}}
        if phone is None and phones:
            if email:
                warnings["phone"] = f"Telefone inválido ignorado: {phones[0]}."
                extra["rdstation"]["invalid_phone"] = phones[0]
            else:
                phone = phones[0]  # intake reports it
        identifier = _first_text(item, IDENTIFIER_PATHS)
        source = _first_text(item, SOURCE_PATHS)
        extra["rdstation"].update({k: v for k, v in (("conversion_identifier", identifier),
                                                     ("traffic_source", source)) if v})
        message = _text(_dig(item, ("last_conversion", "content", "mensagem"))) or ""
        if identifier:
            message = f"Conversão RD Station: {identifier}" + (f"\n{message}" if message else "")
        entry = {"name": _text(item.get("name")) or email or phone, "email": email, "phone": phone,
                 "development": self.development_for(identifier) or default_development,
                 "channel": "rdstation", "media": self.media_for(source), "message": message, "extra": extra}
        return entry, warnings


def _answer(fn):
    """Run `fn`; commit on success, roll back and answer JSON on any expected error."""
    try:
        body, status = fn()
    except ApiError as exc:
        db.session.rollback()
        return exc.response()
    except ServiceError as exc:
        db.session.rollback()
        return validation_error(exc.errors).response()
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return jsonify(body), status


# --- endpoints ---------------------------------------------------------------------------------------

@bp.post("/leads")
@apiauth.api_client_required(LEADS_WRITE)
def create_lead():
    def run():
        client = g.api_client
        entry = lead_entry(json_object())
        entry["extra"] = {**entry["extra"], "api_client": client.name}
        result = intake(entry)
        lead = result.lead
        if result.created:
            return {"number": lead.number, "status": "created", "owner": lead.owner.name if lead.owner else None}, 201
        return {"number": lead.number, "status": "duplicate"}, 200
    return _answer(run)


@bp.post("/webhooks/rdstation/<secret>")
@apiauth.api_client_required(RDSTATION, webhook_secret=True)
def rdstation_webhook():
    """RD Station Marketing conversion webhook: each entry of `leads` goes through intake on its own.

    RD Station can only be given a URL, so the client is named by a secret path segment (rotated in the
    admin page), never by its token in the query string. A bad entry does not block the others (RD resends
    the whole payload on a non-2xx answer, and a retry cannot fix bad data): each runs in its own savepoint,
    and the answer lists every entry's outcome. An unexpected failure (a bug, the database down) is a 500
    and writes nothing, so RD's retry delivers the whole payload again and no lead is lost.
    """
    return _rdstation()


@bp.post("/webhooks/rdstation")
@apiauth.api_client_required(RDSTATION)
def rdstation_webhook_bearer():
    """The same webhook for senders that can set the Authorization header (a token in ?token= is refused)."""
    return _rdstation()


def _rdstation():
    def run():
        client = g.api_client
        data = json_object()
        leads = data.get("leads")
        if not isinstance(leads, list) or not leads:
            raise validation_error({"leads": "Envie a lista leads com ao menos um contato."})
        if len(leads) > MAX_WEBHOOK_LEADS:
            raise validation_error({"leads": f"No máximo {MAX_WEBHOOK_LEADS} contatos por chamada."})
        default_development = (request.args.get("development") or "").strip() or None
        mapping = RDMapping()
        results, counts = [], {"created": 0, "duplicate": 0, "invalid": 0}
        for index, item in enumerate(leads):
            outcome = {"index": index}
            if not isinstance(item, dict):
                outcome.update(status="invalid", errors={"lead": "Cada contato deve ser um objeto."})
            else:
                entry, warnings = mapping.entry(item, default_development)
                entry["extra"]["api_client"] = client.name
                outcome["email"] = entry.get("email")
                try:
                    with db.session.begin_nested():
                        result = intake(entry)
                except ServiceError as exc:
                    outcome.update(status="invalid", errors=exc.errors)
                else:
                    outcome.update(status=result.status, number=result.lead.number)
                    if warnings:
                        outcome["warnings"] = warnings
            counts[outcome["status"]] += 1
            results.append(outcome)
        return {"received": len(leads), **counts, "results": results}, 200
    return _answer(run)


@bp.get("/openapi.json")
def openapi_document():
    from portal.presales.openapi import document
    response = jsonify(document(request.host_url.rstrip("/")))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- CLI: portal api-token create|list|revoke ----------------------------------------------------------

def _webhook_url(secret: str) -> str:
    base = (current_app.config.get("PORTAL_BASE_URL") or "").rstrip("/")
    return f"{base}{apiauth.WEBHOOK_PATH}{secret}"


@bp.cli.command("create", help="Create an API client and print its token (shown only this once).")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="What the token may do (repeat): leads:write, webhooks:rdstation, cs:usage:write…")
@click.option("--rate-limit", default=None, help='Own limit, e.g. "1200 per minute" (default: API_CLIENT_RATE_LIMIT).')
def create_token_command(name, scopes, rate_limit):
    try:
        client, token, secret = apiclients.create_client(name, scopes=scopes, rate_limit=rate_limit)
    except ServiceError as exc:
        raise click.ClickException("; ".join(exc.errors.values())) from None
    db.session.commit()
    click.echo(f"Cliente de API “{client.name}” criado com os escopos {client.scopes}. "
               "Guarde o token agora: ele não será mostrado de novo.")
    if secret:
        click.echo(f"Endereço do webhook do RD Station (secreto, também mostrado só agora): {_webhook_url(secret)}")
    click.echo(token)


@bp.cli.command("list", help="List API clients (name, token prefix, scopes, state, last use).")
def list_tokens_command():
    for client in apiclients.list_clients():
        state = "ativo" if client.active else "revogado"
        used = client.last_used_at.isoformat(timespec="seconds") if client.last_used_at else "nunca usado"
        click.echo(f"{client.name}\t{client.token_prefix}…\t{client.scopes}\t{state}\t{used}")


def _client_named(name: str):
    client = apiclients.by_name(name)
    if client is None:
        raise click.ClickException(f"Cliente de API não encontrado: {name}")
    return client


@bp.cli.command("rotate-webhook", help="Give a client a new RD Station webhook URL; the old one stops at once.")
@click.argument("name")
def rotate_webhook_command(name):
    client = _client_named(name)
    try:
        secret = apiclients.rotate_webhook_secret(client)
    except ServiceError as exc:
        raise click.ClickException("; ".join(exc.errors.values())) from None
    db.session.commit()
    click.echo(_webhook_url(secret))


@bp.cli.command("revoke", help="Revoke an API client's token by the client's name.")
@click.argument("name")
def revoke_token_command(name):
    client = _client_named(name)
    apiclients.revoke(client)
    db.session.commit()
    click.echo(f"Token de “{client.name}” revogado.")
