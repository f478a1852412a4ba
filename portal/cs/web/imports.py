"""CSV imports (CS leader): accounts, contacts and usage, each upload → preview → commit."""
from flask import render_template, url_for

from portal.accounts.decorators import roles_required
from portal.cs.imports import AccountImporter, ContactImporter, UsageImporter
from portal.cs.views import LEADERS, bp
from portal.web import csv_import

IMPORTERS = {"contas": AccountImporter, "contatos": ContactImporter, "uso": UsageImporter}
KINDS = "any(" + ", ".join(IMPORTERS) + ")"


def _importer(kind):
    links = csv_import.ImportLinks(upload=url_for(".import_upload", kind=kind),
                                   commit=url_for(".import_commit", kind=kind),
                                   template=url_for(".import_template", kind=kind),
                                   done=url_for(".accounts") if kind != "uso" else url_for(".imports"))
    return IMPORTERS[kind](), links


@bp.route("/importar")
@roles_required(*LEADERS)
def imports():
    return render_template("cs/imports.html", importers={k: cls for k, cls in IMPORTERS.items()})


@bp.route(f"/importar/<{KINDS}:kind>", methods=["GET", "POST"])
@roles_required(*LEADERS)
def import_upload(kind):
    return csv_import.upload_view(*_importer(kind))


@bp.route(f"/importar/<{KINDS}:kind>/confirmar", methods=["POST"])
@roles_required(*LEADERS)
def import_commit(kind):
    return csv_import.commit_view(*_importer(kind))


@bp.route(f"/importar/<{KINDS}:kind>/modelo.csv")
@roles_required(*LEADERS)
def import_template(kind):
    importer, _ = _importer(kind)
    return csv_import.template_response(importer)
