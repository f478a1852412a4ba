"""The one PDF renderer: every WeasyPrint call in the portal goes through `render_pdf` / `render_document`.

WeasyPrint fetches every URL a document names (`<img>`, `<link>`, `@import`, `url()`, SVG `<image>`,
`<a rel="attachment">`, which embeds the fetched file in the PDF) with its default fetcher: `file:` reads
any file the worker can read (`instance/secret_key`, `/etc/passwd`) and `http(s):` calls any host the worker
can reach. Contract templates are written by staff, and buyers' names, browsers and report parameters end
up in PDFs, so the fetcher here serves only what the app owns, without any network or arbitrary file read:

- the app's static files (`/static/...` under the static folder, never a path that resolves outside it);
- images the caller hands over by the app's own route (`images={"personalize.photo": by_id}`: the row is
  looked up by its id, the file path comes from the row, never from the URL);
- `data:` URLs up to `DATA_URL_MAX_CHARS`.

Relative URLs resolve against `BASE_URL`, a host that never resolves (`.invalid`, RFC 2606); absolute
URLs on it or on `PORTAL_BASE_URL` are mapped to the cases above and never fetched. Anything else is
refused with a WARNING naming the URL and the document; WeasyPrint then renders without it.
"""
import functools
import logging
import mimetypes
import os
import threading
from typing import Callable
from urllib.parse import unquote, urlsplit

from flask import current_app
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.security import safe_join

BASE_URL = "https://portal.invalid/static/"
DATA_URL_MAX_CHARS = 64 * 1024  # a logo-sized inline image; photos go by id, larger files by static

log = logging.getLogger(__name__)

# endpoint → function(**route values) → (bytes, mimetype) or None
ImageSources = dict[str, Callable[..., tuple[bytes, str] | None]]


class RefusedURL(ValueError):
    """A URL the PDF renderer will not fetch (WeasyPrint treats it as a missing resource)."""


@functools.cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppOnlyFetcher(URLFetcher):
        def __init__(self, document: str, images: ImageSources | None):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.document, self.images = document, images or {}
            self.app = current_app._get_current_object()

        def fetch(self, url, headers=None):
            try:
                if url[:5].lower() == "data:":
                    if len(url) > DATA_URL_MAX_CHARS:
                        raise RefusedURL(f"data: URL of {len(url)} characters (limit {DATA_URL_MAX_CHARS})")
                    return super().fetch(url, headers)  # decoded by urllib's DataHandler, no I/O
                body, mimetype = self._local(url)
                return URLFetcherResponse(url, body, {"Content-Type": mimetype})
            except RefusedURL as exc:
                log.warning("PDF %s: refused %.300s (%s)", self.document, url, exc)
                raise

        def _local(self, url: str) -> tuple[bytes, str]:
            path = _app_path(url, self.app.config.get("PORTAL_BASE_URL") or "")
            if path is None:
                raise RefusedURL("only the app's static files and uploaded images are served")
            static_prefix = (self.app.static_url_path or "/static").rstrip("/") + "/"
            if path.startswith(static_prefix):
                return _static_file(self.app.static_folder, path[len(static_prefix):])
            try:
                endpoint, values = self.app.url_map.bind("portal.invalid").match(path, method="GET")
            except (HTTPException, RequestRedirect):
                endpoint, values = None, {}
            source = self.images.get(endpoint)
            found = source(**values) if source else None
            if found is None:
                raise RefusedURL("not a static file or an image of this document")
            return found

    return AppOnlyFetcher


def _app_path(url: str, public_base: str) -> str | None:
    """The path of a URL on the renderer's base or the app's public base URL (query and fragment dropped)."""
    parts = urlsplit(url)
    for base, mounted in ((BASE_URL, False), (public_base, True)):
        b = urlsplit(base)
        if not b.netloc or (parts.scheme.lower(), parts.netloc.lower()) != (b.scheme.lower(), b.netloc.lower()):
            continue
        prefix = b.path.rstrip("/") if mounted else ""  # the app may live under a path of its public URL
        if parts.path.startswith(prefix + "/"):
            return unquote(parts.path[len(prefix):])
    return None


def _static_file(folder: str | None, name: str) -> tuple[bytes, str]:
    joined = safe_join(folder, name) if folder else None
    if joined is None:
        raise RefusedURL("outside the static folder")
    real, root = os.path.realpath(joined), os.path.realpath(folder)
    if os.path.commonpath([real, root]) != root or not os.path.isfile(real):
        raise RefusedURL("not a file inside the static folder")  # missing, a folder or a symlink leading out
    with open(real, "rb") as fh:
        return fh.read(), mimetypes.guess_type(real)[0] or "application/octet-stream"


class _PageProgress(logging.Handler):
    """WeasyPrint logs 'Step 5 - Creating layout - Page N' per page; turn it into a callback for
    the thread that is rendering."""
    local = threading.local()

    def emit(self, record):
        callback = getattr(self.local, "callback", None)
        if callback and str(record.msg).startswith("Step 5 - Creating layout - Page") and record.args:
            callback(int(record.args[0]))


_page_progress = None


def _listen_to_pages():
    global _page_progress
    if _page_progress is None:
        from weasyprint.logger import PROGRESS_LOGGER
        _page_progress = _PageProgress()
        PROGRESS_LOGGER.addHandler(_page_progress)
        PROGRESS_LOGGER.setLevel(logging.INFO)
        PROGRESS_LOGGER.propagate = False  # keep the per-page steps out of the worker's log


def render_document(html: str, *, document: str, images: ImageSources | None = None,
                    on_page: Callable[[int], None] | None = None):
    """Lay out `html` (a WeasyPrint Document: `.write_pdf(target)`). `document` names it in the refusal
    log; `images` maps the app's image routes to loaders by id; `on_page(n)` follows the layout."""
    from weasyprint import HTML
    if on_page is not None:
        _listen_to_pages()
        _PageProgress.local.callback = on_page
    try:
        return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()(document, images)).render()
    finally:
        _PageProgress.local.callback = None


def render_pdf(html: str, *, document: str, images: ImageSources | None = None) -> bytes:
    """The PDF bytes of `html`, fetching only what `render_document` allows."""
    return render_document(html, document=document, images=images).write_pdf()
