"""Buyer questions: the buyer's list and form per unit, the thread (both sides), the staff inbox, downloads.

Who sees what is scope.py's answer (a buyer only their units' questions and files, staff only their
developments'); anything else is 404. Uploads are plain multipart forms (no JavaScript needed on a phone).
"""
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from portal import normalize
from portal.accounts.decorators import roles_required
from portal.accounts.scope import get_scoped_or_404, scoped
from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.questions import QUESTION_STATUSES, QuestionAttachment
from portal.personalize.services import questions as qs
from portal.personalize.views import PEOPLE, STAFF, bp, my_units
from portal.realestate.models import Development, Unit


def _int(value):
    return normalize.row_id(value)


def _posted_files():
    """Each file read at most one byte past the per-file limit: enough to tell it is too big. (The whole
    request stays under MAX_CONTENT_LENGTH: the global CSRF check parses the form before any view runs.)"""
    limit = qs.max_bytes() + 1
    return [(f.filename, f.read(limit)) for f in request.files.getlist("attachments") if f and f.filename]


def _thread_or_404(question_id):
    question = qs.load_thread(question_id, current_user)
    if question is None:
        abort(404)
    return question


def _context() -> dict:
    from flask import current_app
    total = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return {"max_files": qs.MAX_FILES, "max_mb": qs.max_bytes() // (1024 * 1024), "total_mb": total // (1024 * 1024),
            "is_staff": current_user.role != "customer"}


@bp.route("/unidades/<int:unit_id>/duvidas", methods=["GET", "POST"])
@roles_required(*PEOPLE)
def unit_questions(unit_id):
    unit = get_scoped_or_404(current_user, Unit, unit_id)
    errors, form = {}, {}
    if request.method == "POST":
        if current_user.role != "customer":
            abort(403)  # questions are the buyer's; staff answer them
        files = _posted_files()
        form = request.form
        try:
            question = qs.open_question(unit, current_user, form.get("subject"), form.get("body"), files)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash("Dúvida enviada! A equipe de personalização vai responder por aqui e avisar você por e-mail.",
                  "success")
            return redirect(url_for(".question", question_id=question.id))
    return render_template("personalize/questions/unit.html", unit=unit, questions=qs.unit_questions(unit),
                           units=my_units() if current_user.role == "customer" else [], errors=errors, form=form,
                           **_context()), (422 if errors else 200)


@bp.route("/duvidas")
@roles_required(*STAFF)
def questions():
    status = request.args.get("situacao") if request.args.get("situacao") in QUESTION_STATUSES else None
    development_id = _int(request.args.get("empreendimento"))
    developments = db.session.execute(scoped(current_user, Development).order_by(Development.name)).scalars().all()
    if development_id and development_id not in {d.id for d in developments}:
        abort(404)
    pager = qs.staff_list(current_user, status, development_id, _int(request.args.get("page")) or 1)
    filters = {k: v for k, v in {"situacao": status, "empreendimento": development_id}.items() if v}
    return render_template("personalize/questions/list.html", pager=pager, filters=filters,
                           developments=developments, statuses=QUESTION_STATUSES,
                           counts=qs.status_counts(current_user, development_id), is_staff=True)


@bp.route("/duvidas/<int:question_id>")
@roles_required(*PEOPLE)
def question(question_id):
    return _render_thread(_thread_or_404(question_id))


def _render_thread(question, errors=None, body="", status=200):
    return render_template("personalize/questions/thread.html", q=question, unit=question.unit,
                           errors=errors or {}, body=body, **_context()), status


@bp.route("/duvidas/<int:question_id>/mensagens", methods=["POST"])
@roles_required(*PEOPLE)
def question_reply(question_id):
    question = _thread_or_404(question_id)
    files = _posted_files()
    try:
        qs.post_message(question, current_user, request.form.get("body"), files)
    except ServiceError as exc:
        db.session.rollback()
        return _render_thread(_thread_or_404(question_id), exc.errors, request.form.get("body", ""), 422)
    db.session.commit()
    flash("Resposta enviada ao comprador." if current_user.role != "customer" else "Mensagem enviada.", "success")
    return redirect(url_for(".question", question_id=question.id, _anchor="fim"))


@bp.route("/duvidas/<int:question_id>/<any(encerrar, reabrir):action>", methods=["POST"])
@roles_required(*PEOPLE)
def question_status(question_id, action):
    question = _thread_or_404(question_id)
    try:
        (qs.close if action == "encerrar" else qs.reopen)(question, current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash(next(iter(exc.errors.values())), "error")
        return redirect(url_for(".question", question_id=question_id))
    db.session.commit()
    flash("Dúvida encerrada." if action == "encerrar" else "Dúvida reaberta.", "success")
    return redirect(url_for(".question", question_id=question_id))


@bp.route("/duvidas/anexos/<int:attachment_id>")
@roles_required(*PEOPLE)
def question_attachment(attachment_id):
    row = get_scoped_or_404(current_user, QuestionAttachment, attachment_id)
    path = qs.file_path(row)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=row.content_type, as_attachment=True,
                         download_name=row.original_name or f"anexo-{row.id}.{qs.KINDS[row.content_type]}")
    response.headers["Cache-Control"] = "private, no-store"  # scoped content: never in a shared cache
    return response


@bp.cli.command("seed-rules", help="Create the default personalization rules (questions, survey) that are missing.")
def seed_rules_command():
    import click
    created = qs.ensure_default_rules()
    db.session.commit()
    click.echo(f"{len(created)} régua(s) criada(s): {', '.join(created) or 'nenhuma — já existiam'}")
