"""Admin screens: users, teams, background jobs, audit log."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import normalize
from portal.accounts import services, sessions
from portal.accounts.audit import audit
from portal.accounts.decorators import roles_required
from portal.accounts.forms import TeamForm, UserForm
from portal.accounts.models import ROLES, AuditLog, Team, User
from portal.accounts.scope import get_scoped_or_404, scoped, team_subtree_ids
from portal.extensions import db
from portal.web.forms import apply_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A manager may create and edit people of their own teams, in these roles only.
MANAGER_ROLES = ("sdr", "broker", "csm")


@bp.app_template_global()
def can_edit_user(actor, user) -> bool:
    """Whether `actor` may open and change `user` (the edit page, "Encerrar todas as sessões"); the route and the
    buttons ask this same question, so nobody sees a link that answers 403. Scope is checked by the caller."""
    return actor.role == "admin" or user.role in MANAGER_ROLES or user.id == actor.id


@bp.app_template_global()
def can_toggle_user(actor, user) -> bool:
    """Whether `actor` may deactivate or reactivate `user` (never themselves)."""
    return user.id != actor.id and (actor.role == "admin" or user.role in MANAGER_ROLES)


def _team_choices():
    stmt = select(Team).order_by(Team.name)
    if current_user.role != "admin":
        stmt = stmt.where(Team.id.in_(team_subtree_ids(current_user.id)))
    return [("", "— sem equipe —")] + [(str(t.id), t.name) for t in db.session.execute(stmt).scalars()]


def _user_form(user=None):
    form = UserForm(obj=user) if request.method == "GET" else UserForm()
    form.team_id.choices = _team_choices()
    if current_user.role != "admin":
        form.role.choices = [(k, v) for k, v in ROLES.items() if k in MANAGER_ROLES]
    if request.method == "GET" and user is not None:
        form.team_id.data = str(user.team_id or "")
    return form


def _check_assignable(form):
    """Managers only place people in their own subtree, in the roles they manage."""
    if current_user.role == "admin":
        return True
    ok = True
    if form.role.data not in MANAGER_ROLES:
        form.role.errors = list(form.role.errors) + ["Você não pode atribuir este perfil."]
        ok = False
    if form.team_id.data not in {v for v, _ in _team_choices() if v}:
        form.team_id.errors = list(form.team_id.errors) + ["Escolha uma das suas equipes."]
        ok = False
    return ok


@bp.route("/usuarios")
@roles_required("admin", "manager")
def users():
    q = (request.args.get("q") or "").strip()
    stmt = scoped(current_user, User).order_by(User.active.desc(), User.name)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where((User.name.ilike(like)) | (User.email.ilike(like)))
    page = db.paginate(stmt, per_page=50, page=normalize.row_id(request.args.get("page")) or 1)
    template = "admin/_users_table.html" if request.htmx else "admin/users.html"
    return render_template(template, page=page, q=q)


@bp.route("/usuarios/novo", methods=["GET", "POST"])
@roles_required("admin", "manager")
def user_new():
    form = _user_form()
    if form.validate_on_submit() and _check_assignable(form):
        try:
            user = services.create_user(form.data, password=form.password.data or None)
        except services.ServiceError as exc:
            apply_errors(form, exc)
        else:
            if not form.password.data:
                from portal.accounts.mail import send_invitation
                send_invitation(user)
            db.session.commit()
            flash(f"Usuário {user.name} criado." + ("" if form.password.data else " Enviamos um convite por e-mail."),
                  "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/usuarios/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin", "manager")
def user_edit(user_id):
    user = get_scoped_or_404(current_user, User, user_id)
    if not can_edit_user(current_user, user):
        abort(403)
    form = _user_form(user)
    del form.password
    if form.validate_on_submit() and _check_assignable(form):
        try:
            services.update_user(user, form.data)
        except services.ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Usuário atualizado.", "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    from portal.automation.timeline import timeline
    return render_template("admin/user_form.html", form=form, user=user, entries=timeline("user", user.id)), status


@bp.route("/usuarios/<int:user_id>/ativo", methods=["POST"])
@roles_required("admin", "manager")
def user_toggle(user_id):
    user = get_scoped_or_404(current_user, User, user_id)
    if user.id == current_user.id:
        flash("Você não pode desativar a si mesmo.", "error")
        return redirect(url_for("admin.users")), 409
    if not can_toggle_user(current_user, user):
        abort(403)
    services.set_active(user, not user.active)
    db.session.commit()
    flash(f"{user.name} {'reativado' if user.active else 'desativado'}.", "success")
    if request.htmx:
        return render_template("admin/_user_row.html", u=user)
    return redirect(url_for("admin.users"))


@bp.route("/usuarios/<int:user_id>/sessoes/encerrar", methods=["POST"])
@roles_required("admin", "manager")
def user_end_sessions(user_id):
    """For a lost phone or a colleague who left: every device of that person must log in again."""
    user = get_scoped_or_404(current_user, User, user_id)
    if not can_edit_user(current_user, user):
        abort(403)
    sessions.end_all_sessions(user, "user.sessions_ended")
    if user.id == current_user.id:
        sessions.log_in(user)  # ending one's own sessions means the other devices: this one goes on
    db.session.commit()
    flash(f"Sessões de {user.name} encerradas em todos os aparelhos.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/equipes")
@roles_required("admin")
def teams():
    roots = db.session.execute(select(Team).where(Team.parent_id.is_(None)).order_by(Team.name)).scalars().all()
    return render_template("admin/teams.html", roots=roots)


def _team_form(team=None):
    form = TeamForm(obj=team) if request.method == "GET" else TeamForm()
    form.parent_id.choices = [("", "— nenhuma (equipe raiz) —")] + [
        (str(t.id), t.name) for t in db.session.execute(select(Team).order_by(Team.name)).scalars() if t is not team]
    leaders = db.session.execute(select(User).where(User.role.in_(("manager", "cs_leader")), User.active.is_(True))
                                 .order_by(User.name)).scalars()
    form.manager_id.choices = [("", "— sem gestor —")] + [(str(u.id), f"{u.name} ({u.role_label})") for u in leaders]
    if request.method == "GET" and team is not None:
        form.parent_id.data = str(team.parent_id or "")
        form.manager_id.data = str(team.manager_id or "")
    return form


@bp.route("/equipes/nova", methods=["GET", "POST"])
@bp.route("/equipes/<int:team_id>", methods=["GET", "POST"])
@roles_required("admin")
def team_edit(team_id=None):
    team = db.get_or_404(Team, team_id) if team_id else None
    form = _team_form(team)
    if form.validate_on_submit():
        try:
            team = services.save_team(form.data, team)
        except services.ServiceError as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash("Equipe salva.", "success")
            return redirect(url_for("admin.teams"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/team_form.html", form=form, team=team), status


@bp.route("/tarefas")
@roles_required("admin")
def jobs():
    from portal.admin_jobs import job_overview
    return render_template("admin/jobs.html", overview=job_overview())


@bp.route("/tarefas/<job_id>/repetir", methods=["POST"])
@roles_required("admin")
def job_retry(job_id):
    from portal.admin_jobs import requeue_failed
    if requeue_failed(job_id):
        audit("job.requeued", object_type="Job", object_id=job_id)
        db.session.commit()
        flash("Tarefa recolocada na fila.", "success")
    else:
        flash("Tarefa não encontrada entre as que falharam.", "error")
    return redirect(url_for("admin.jobs"))


@bp.route("/auditoria", endpoint="audit")
@roles_required("admin")
def audit_log():
    page = db.paginate(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()), per_page=100,
                       page=normalize.row_id(request.args.get("page")) or 1)
    from portal.accounts.audit import describe
    return render_template("admin/audit.html", page=page, rows=describe(page.items))

