
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import ForgotForm, LoginForm, ResetForm
from portal.extensions import db, limiter
from portal.web.urls import local_path

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append("E-mail ou senha incorretos.")
        elif not user.active:
            form.form_errors.append("Este usuário está desativado. Fale com o administrador.")
        else:
            login_user(user, remember=form.remember.data)
            services.record_login(user)
            db.session.commit()
            return redirect(local_path(request.args.get("next")) or url_for("web.index"))
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" or not form.errors and not form.form_errors else 422)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("Você saiu do Portal.", "info")
    return redirect(url_for("auth.login"))


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
        services.set_password(user, form.password.data)
        db.session.commit()
        flash("Senha definida. Entre com a nova senha.", "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, user=user)
