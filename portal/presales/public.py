"""Public lead form per development (embeddable, no login), the customer portal's "Tenho interesse"
and the admin screen for API clients.

The public form is meant to be framed by the developer's own sites. Two consequences:
- its pages (and only they) allow framing: the app's default `X-Frame-Options: DENY` and
  `frame-ancestors 'none'` are replaced after the app's security headers are set;
- its CSRF token is not tied to the session. Inside a cross-site iframe the browser does not send
  the session cookie (SameSite=Lax), so Flask-WTF's session-bound token would refuse every embedded
  post. The form carries instead a token signed with the app's secret (development + time, 24 h),
  checked by the form itself; the page sets no cookie at all (nothing to consent to before sending).
"""
import logging

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms import BooleanField, EmailField, HiddenField, SelectMultipleField, StringField, TelField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts import apiclients
from portal.accounts.decorators import roles_required
from portal.errors import ServiceError
from portal.extensions import csrf, db, limiter
from portal.presales.services.config import media_by_name
from portal.presales.services.intake import MAX_MESSAGE, clean, intake
from portal.realestate.models import Development
from portal.web import apiauth
from portal.web.forms import apply_errors
from portal.web.setup import CSP

log = logging.getLogger(__name__)

bp = Blueprint("presales_public", __name__)

FORM_TOKEN_MAX_AGE = 24 * 3600
FRAMABLE_ENDPOINTS = {"presales_public.form", "presales_public.thanks"}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
TOO_LONG = "Use no máximo %(max)d caracteres."


# --- embedding ---------------------------------------------------------------------------------------

def framable_csp() -> str:
    directives = [d.strip() for d in CSP.split(";") if d.strip() and not d.strip().startswith("frame-ancestors")]
    return "; ".join(directives + ["frame-ancestors *"])


@bp.after_app_request
def allow_framing(response):
    """Registered with the blueprint, i.e. before the app's security_headers; after_request functions run
    in reverse order, so this one sees (and overrides) the defaults that one set."""
    if request.endpoint in FRAMABLE_ENDPOINTS:
        response.headers.pop("X-Frame-Options", None)
        response.headers["Content-Security-Policy"] = framable_csp()
    return response


# --- the public form -----------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="presales-public-form")


class SignedFormCSRF(CSRF):
    """Stateless CSRF token: the development slug signed with a timestamp (see the module docstring)."""

    def setup_form(self, form):
        self.context = form.meta.csrf_context
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field):
        return _serializer().dumps(self.context)

    def validate_csrf_token(self, form, field):
        try:
            value = _serializer().loads(field.data or "", max_age=FORM_TOKEN_MAX_AGE)
        except BadData:
            raise ValidationError("O formulário expirou. Confira os dados e envie de novo.") from None
        if value != self.context:
            raise ValidationError("O formulário expirou. Confira os dados e envie de novo.")


class PublicLeadForm(FlaskForm):
    class Meta:
        csrf = True  # always, whatever WTF_CSRF_ENABLED says: it is this form's own token
        csrf_class = SignedFormCSRF
        csrf_field_name = "csrf_token"

    name = StringField("Nome", validators=[DataRequired("Informe seu nome."), Length(max=160, message=TOO_LONG)])
    email = EmailField("E-mail", validators=[Length(max=254, message=TOO_LONG)])
    phone = TelField("Celular / WhatsApp", validators=[Length(max=40, message=TOO_LONG)])
    message = TextAreaField("Mensagem (opcional)", validators=[Length(max=MAX_MESSAGE, message=TOO_LONG)])
    consent = BooleanField("Concordo em ser contatado(a) sobre este empreendimento e com o uso dos meus dados "
                           "para esse fim, conforme a LGPD.",
                           validators=[DataRequired("Para enviarmos as informações, precisamos do seu "
                                                    "consentimento.")])
    website = StringField("Deixe este campo em branco")  # honeypot: hidden by CSS; people never fill it
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()


def _development_or_404(slug: str) -> Development:
    development = db.session.execute(select(Development).where(Development.slug == slug)).scalar_one_or_none()
    if development is None or not getattr(development, "active", True):
        abort(404)
    return development


def _public_limit() -> str:
    return current_app.config["PUBLIC_RATE_LIMIT"]


def _limited(request_limit):
    """The form's own 429 page: it stays inside the frame and sends nobody to the staff login."""
    slug = (request.view_args or {}).get("slug", "")
    return make_response(render_template("presales/public/limited.html", slug=slug), 429)


def _apply_service_errors(form: PublicLeadForm, errors: dict) -> None:
    for key, message in errors.items():
        field = getattr(form, key, None) if key in ("name", "email", "phone", "message") else None
        if field is not None:
            if not field.errors:  # the form's own message, if any, already says it
                field.errors = [message]
        elif key == "contact":
            form.form_errors.append("Informe um e-mail ou um telefone para podermos responder.")
        else:  # configuration problems (channel, funnel, …): not the visitor's to fix
            log.warning("public form for %s refused by intake: %s", request.path, errors)
            form.form_errors.append("Não foi possível registrar seu contato agora. Tente mais tarde.")


@bp.route("/f/<slug>", methods=["GET", "POST"], endpoint="form")
@limiter.limit(_public_limit, methods=["POST"], on_breach=_limited)
def public_form(slug):
    development = _development_or_404(slug)
    form = PublicLeadForm(meta={"csrf_context": development.slug})
    if request.method == "GET":
        form.utm_source.data = request.args.get("utm_source") or request.args.get("midia") or ""
        form.utm_medium.data = request.args.get("utm_medium", "")
        form.utm_campaign.data = request.args.get("utm_campaign", "")
        return render_template("presales/public/form.html", form=form, development=development)
    if form.website.data:
        # A bot filled the honeypot: answer as if it worked, write nothing.
        return redirect(url_for(".thanks", slug=development.slug))
    if not form.validate():
        if form.csrf_token.errors:
            return render_template("presales/public/form.html", form=form, development=development), 400
        try:  # the contact checks too, so every problem shows at once (clean() only reads)
            clean(_entry(form, development))
        except ServiceError as exc:
            _apply_service_errors(form, exc.errors)
        return render_template("presales/public/form.html", form=form, development=development), 422
    try:
        intake(_entry(form, development), consent=True)
    except ServiceError as exc:
        db.session.rollback()
        _apply_service_errors(form, exc.errors)
        return render_template("presales/public/form.html", form=form, development=development), 422
    db.session.commit()
    # Same page for a new lead and a duplicate: the form does not reveal who is already a lead.
    return redirect(url_for(".thanks", slug=development.slug))


def _entry(form: PublicLeadForm, development: Development) -> dict:
    utm = {key: (getattr(form, key).data or "")[:100] for key in UTM_FIELDS}
    media = media_by_name(utm["utm_source"]) if utm["utm_source"] else None  # unknown source: no media
    return {"name": form.name.data, "email": form.email.data, "phone": form.phone.data,
            "development": development.slug, "channel": "site", "media": media.slug if media else None,
            "message": form.message.data, "extra": {"form": "public", **{k: v for k, v in utm.items() if v}}}


csrf.exempt(public_form)  # the session-bound check cannot work in a cross-site frame; the form checks its own token


@bp.route("/f/<slug>/obrigado")
def thanks(slug):
    development = _development_or_404(slug)
    return render_template("presales/public/thanks.html", development=development)


# --- customer portal: "Tenho interesse" ----------------------------------------------------------------

@bp.route("/pre-vendas/tenho-interesse", methods=["POST"])
@roles_required("customer")
def interest():
    """A logged-in customer asks to be contacted about a development (channel "portal")."""
    slug = (request.form.get("development") or "").strip()
    development = _development_or_404(slug) if slug else None
    entry = {"name": current_user.name, "email": current_user.email, "phone": current_user.phone,
             "development": slug or None, "channel": "portal",
             "message": (request.form.get("message") or "")[:MAX_MESSAGE],
             "extra": {"customer_user_id": current_user.id}}
    try:
        intake(entry)
    except ServiceError as exc:
        db.session.rollback()
        log.warning("customer interest refused by intake: %s", exc.errors)
        flash("Não foi possível registrar seu interesse agora. Fale com a construtora.", "error")
    else:
        db.session.commit()
        what = f" em {development.name}" if development else ""
        flash(f"Recebemos seu interesse{what}. Um corretor vai falar com você em breve.", "success")
    return redirect(url_for("personalize.portal"))


# --- admin: API clients ------------------------------------------------------------------------------

class ApiClientForm(FlaskForm):
    name = StringField("Nome do sistema", validators=[DataRequired("Informe o nome do sistema."),
                                                      Length(max=120, message=TOO_LONG)])
    scopes = SelectMultipleField("Escopos", choices=[], validate_choice=False,
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    rate_limit = StringField("Limite de requisições (opcional)", validators=[Length(max=60, message=TOO_LONG)])


def _api_client_form() -> ApiClientForm:
    form = ApiClientForm()
    form.scopes.choices = sorted(apiclients.SCOPES.items())
    return form


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"  # a token or webhook URL must not stay in any cache
    return response


@bp.route("/pre-vendas/config/api-clients", methods=["GET", "POST"])
@roles_required()
def api_clients():
    form = _api_client_form()
    status = 200
    if form.validate_on_submit():
        try:
            client, token, secret = apiclients.create_client(form.name.data, scopes=form.scopes.data,
                                                             rate_limit=form.rate_limit.data, actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            return _no_store(make_response(render_template(
                "presales/admin/api_client_created.html", client=client, token=token,
                webhook_url=url_for("presales_api.rdstation_webhook", secret=secret, _external=True) if secret else None,
                scopes=apiclients.SCOPES), 201))
    if form.errors or form.form_errors:
        status = 422
    default_limit = current_app.config.get("API_CLIENT_RATE_LIMIT") or apiauth.DEFAULT_RATE_LIMIT
    return render_template("presales/admin/api_clients.html", form=form, clients=apiclients.list_clients(),
                           scopes=apiclients.SCOPES, webhook_scope=apiclients.WEBHOOK_SCOPE,
                           default_limit=default_limit), status


@bp.route("/pre-vendas/config/api-clients/<int:client_id>/webhook", methods=["POST"])
@roles_required()
def api_client_rotate_webhook(client_id):
    client = db.session.get(apiclients.ApiClient, client_id) or abort(404)
    try:
        secret = apiclients.rotate_webhook_secret(client, actor=current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "error")
        return redirect(url_for(".api_clients"))
    db.session.commit()
    return _no_store(make_response(render_template(
        "presales/admin/api_client_created.html", client=client, token=None, scopes=apiclients.SCOPES,
        webhook_url=url_for("presales_api.rdstation_webhook", secret=secret, _external=True))))


@bp.route("/pre-vendas/config/api-clients/<int:client_id>/revogar", methods=["POST"])
@roles_required()
def api_client_revoke(client_id):
    client = db.session.get(apiclients.ApiClient, client_id) or abort(404)
    apiclients.revoke(client, actor=current_user)
    db.session.commit()
    flash(f"Token de “{client.name}” revogado: os pedidos com ele passam a receber 401.", "success")
    return redirect(url_for(".api_clients"))


@bp.route("/pre-vendas/pesquisa/<token>", methods=["GET", "POST"])
def survey(token):
    """The lead's satisfaction survey (signed single-use expiring link, no login, made for a phone)."""
    from portal.presales.services import surveys
    from portal.surveys import survey_page
    return survey_page(token, surveys.link_state, surveys.answer, "presales/public/survey.html")
