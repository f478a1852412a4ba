"""App-wide web wiring: login, headers, errors, template context."""
from flask import g, jsonify, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.extensions import db, login_manager
from portal.web import filters
from portal.web.nav import navigation

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")

ERROR_TEXT = {
    400: ("Requisição inválida", "Os dados enviados não puderam ser processados."),
    403: ("Acesso negado", "Você não tem permissão para esta ação."),
    404: ("Página não encontrada", "O endereço não existe ou você não tem acesso a ele."),
    405: ("Método não permitido", "Esta ação não aceita este tipo de requisição."),
    413: ("Arquivo grande demais", "O arquivo enviado passa do limite permitido."),
    422: ("Dados inválidos", "Revise os campos e tente novamente."),
    429: ("Muitas tentativas", "Você fez muitas tentativas em pouco tempo. Aguarde um minuto e tente de novo."),
    500: ("Erro interno", "Algo deu errado do nosso lado. A equipe foi avisada."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(code: int, message: str | None = None):
    title, text = ERROR_TEXT.get(code, ("Erro", ""))
    text = message or text
    if wants_json():
        return jsonify({"error": title, "message": text}), code
    return render_template("errors/error.html", code=code, title=title, text=text), code


def _for_a_signed_in_user() -> bool:
    # g, not current_user: reading current_user would load the user (and maybe write the session) on
    # responses that never needed one, such as static files and /offline.
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated and request.endpoint
                and request.endpoint != "static" and not request.endpoint.endswith(".static"))


def _cacheable_private_asset(response) -> bool:
    """A view may let the browser alone keep a scoped but impersonal file (catalog photos): private, max-age."""
    return bool(response.cache_control.private and response.cache_control.max_age)


def init_app(app):
    from portal.accounts import sessions

    filters.register(app)

    login_manager.user_loader(sessions.user_for_session_id)
    login_manager.request_loader(sessions.user_from_remember_cookie)
    # Flask-Login's own remember cookie is never set (see portal.accounts.sessions); its loader, which runs
    # before request_loader whenever a cookie of its name is present, must not claim ours.
    app.config["REMEMBER_COOKIE_NAME"] = "flask_login_remember_unused"
    app.after_request(sessions.write_remember_cookie)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Entre para continuar."
    login_manager.login_message_category = "info"

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.headers.get("HX-Request"):
            response.headers.add("Vary", "HX-Request")
        if _for_a_signed_in_user() and not _cacheable_private_asset(response):
            # What a signed-in user sees (pages, exports, reports, contracts, attachments) is theirs: no
            # browser or proxy cache keeps it for the next person at a shared computer.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def layout_context():
        return {"nav": navigation(current_user), "company_name": app.config["COMPANY_NAME"]}

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(400, "O formulário expirou ou não veio do Portal (token CSRF ausente ou inválido). "
                                   "Recarregue a página e tente de novo.")

    def http_error(exc, code):
        if exc.response is not None:  # the refusal's own page (a Flask-Limiter `on_breach`, e.g. the login form)
            return exc.response
        response = make_response(error_response(code, exc.description if code in (400, 422) else None))
        # What werkzeug's own answer carries besides its body: Allow on a 405, Retry-After, WWW-Authenticate.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    for code in ERROR_TEXT:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: http_error(exc, code))

    @app.errorhandler(500)
    def server_error(exc):
        # close(), unlike rollback(), also frees a session left mid-COMMIT by a failing hook; the user it had
        # loaded is then read again from a fresh one for the layout.
        db.session.remove()
        g.pop("_login_user", None)
        try:
            return error_response(500)
        except Exception:  # the layout needs the database: still answer, without it
            app.logger.exception("the error page failed; answering the plain one")
            plain = app.jinja_env.get_template("errors/plain.html")  # no context processors either
            return plain.render(code=500, title=ERROR_TEXT[500][0], text=ERROR_TEXT[500][1]), 500
