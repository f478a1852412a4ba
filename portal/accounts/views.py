
import hashlib

from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.accounts import services, sessions
from portal.accounts.forms import ChangePasswordForm, ForgotForm, LoginForm, ResetForm
from portal.errors import ServiceError
from portal.extensions import db, limiter
from portal.web.forms import apply_errors
from portal.web.urls import local_path

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_failed(response) -> bool:
    """Only failures count toward the login limits: colleagues behind one office IP all get in."""
    return g.get("login_failure") is not None


def _account_key() -> str:
    # Per e-mail tried, known or not, from any address; hashed so Redis keys carry no e-mail.
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _login_throttled(request_limit):
    services.record_login_failure(request.form.get("email"), "throttled")
    db.session.commit()
    form = LoginForm()
    form.form_errors.append("Muitas tentativas de entrada sem sucesso. Aguarde alguns minutos e tente de novo, "
                            "ou use \"Esqueci minha senha\".")
    return make_response(render_template("auth/login.html", form=form), 429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"], methods=["POST"], key_func=_account_key,
               deduct_when=_login_failed, on_breach=_login_throttled)
@limiter.limit(lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"],
               deduct_when=_login_failed, on_breach=_login_throttled)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user, g.login_failure = services.authenticate(form.email.data, form.password.data)
        if g.login_failure is not None:
            services.record_login_failure(form.email.data, g.login_failure, user)
            db.session.commit()
        if g.login_failure == "inactive":
            form.form_errors.append("Este usuário está desativado. Fale com o administrador.")
        elif g.login_failure is not None:
            form.form_errors.append("E-mail ou senha incorretos.")
        else:
            sessions.log_in(user, remember=form.remember.data)
            services.record_login(user)
            db.session.commit()
            return redirect(local_path(request.args.get("next")) or url_for("web.index"))
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" or not form.errors and not form.form_errors else 422)


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user._get_current_object()
    if user.is_authenticated:
        sessions.log_out(user)
        db.session.commit()
    flash("Você saiu do Portal.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/conta/senha", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"])
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not user.check_password(form.current.data):
            form.current.errors = list(form.current.errors) + ["Senha atual incorreta."]
        else:
            try:
                services.set_password(user, form.password.data)
            except ServiceError as exc:
                apply_errors(form, exc)
            else:
                # Every other device is out; this one goes on, remembered again if it was.
                sessions.log_in(user, remember=sessions.REMEMBER_COOKIE in request.cookies)
                db.session.commit()
                flash("Senha alterada. As sessões em outros aparelhos foram encerradas.", "success")
                return redirect(url_for("web.index"))
    return render_template("auth/change_password.html", form=form), (422 if request.method == "POST" else 200)


@bp.route("/senha/esqueci", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and user.active:
            from portal.accounts.mail import send_password_reset
            send_password_reset(user)
            db.session.commit()
        # Same answer either way, so the form does not reveal who has an account.
        flash("Se o e-mail estiver cadastrado, enviamos um link para redefinir a senha. Ele vale por 2 horas.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/senha/redefinir/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset(token):
    try:
        user = services.user_for_reset_token(token)
    except services.TokenError as exc:
        return render_template("auth/reset_invalid.html", reason=str(exc)), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Senha definida. Entre com a nova senha.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user), (422 if request.method == "POST" else 200)
