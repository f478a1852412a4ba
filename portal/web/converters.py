"""The web input layer: what the URL, the query string and form posts may carry before any view runs.

- `<int:...>` in every route is `IdConverter`: ASCII digits within INTEGER range (werkzeug's own takes
  any Unicode digit, e.g. '١', and any size), so an odd id is a 404 like a missing row.
- `refuse_forbidden_text` (a `before_request` hook) answers for NUL and lone surrogates, which no database
  driver stores (PostgreSQL refuses NUL, UTF-8 cannot encode a surrogate): 404 in a path part, 400 in the
  query string, 422 naming the field in a form post. Browsers cannot type either character, so a page-level
  422 that names the field is enough; there is no form state worth keeping.
- JSON bodies are not read here (the APIs read their own stream with a size cap): lead intake refuses these
  characters per field in `intake.clean`, per contact in the RD Station batch, and CSV imports per cell.
"""
from flask import abort, request
from werkzeug.routing import IntegerConverter

from portal import normalize

FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class IdConverter(IntegerConverter):
    regex = r"[0-9]+"  # not \d: re's \d matches every script's digits

    def __init__(self, map, fixed_digits=0, min=None, max=normalize.ID_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_forbidden_text():
    if any(normalize.has_forbidden_text(v) for v in (request.view_args or {}).values()):
        abort(404)
    if any(normalize.has_forbidden_text(k) or normalize.has_forbidden_text(v)
           for k, v in request.args.items(multi=True)):
        abort(400, "O endereço contém caracteres não permitidos.")
    if request.mimetype not in FORM_MIMETYPES:
        return
    for key, value in request.form.items(multi=True):
        if normalize.has_forbidden_text(key) or normalize.has_forbidden_text(value):
            abort(422, f"O campo “{_label(key)}” contém caracteres não permitidos (caractere nulo ou inválido). "
                       "Apague-os e envie de novo.")
    for key, upload in request.files.items(multi=True):
        if normalize.has_forbidden_text(upload.filename):
            abort(422, f"O nome do arquivo em “{_label(key)}” contém caracteres não permitidos.")


def _label(key: str) -> str:
    return key if not normalize.has_forbidden_text(key) else "?"


def init_app(app) -> None:
    """Call before any blueprint is registered: rules pick their converter class when they are added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_forbidden_text)
