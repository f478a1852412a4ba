"""Uploaded files are checked by decoding them, never by their first bytes alone; one validator for every upload.

- Images (JPEG, PNG, WebP): the pixel count is read from the header first (Pillow opens lazily: nothing is
  decoded yet) and refused above UPLOAD_MAX_PIXELS; then `verify()`, then a full decode on a fresh open.
  What is stored is the decoded image saved again in its own format (JPEG quality 90, PNG, WebP quality 90),
  turned upright from its EXIF orientation: metadata, colour profiles, extra chunks and anything appended
  after the image data (an HTML page behind a PNG header) are gone.
- PDFs are parsed with pypdf and refused when they carry JavaScript, automatic actions (/OpenAction with
  JavaScript, /AA), launch, form-submit or import actions, or embedded files. Every object in the file is
  looked at, reachable or not, and the raw bytes too, since another reader may rebuild a broken file
  differently. A PDF is stored as sent (there is nothing to re-encode).
- The same pixel limit is Pillow's own MAX_IMAGE_PIXELS, so the worker that decodes a stored image again
  (photo versions) stops at the same size.
"""
import io
import re
import warnings
from typing import NamedTuple

from flask import current_app

DEFAULT_MAX_PIXELS = 40_000_000  # a 48 MP phone photo is refused; a 12 MP one decodes in ~36 MB of RGB
PDF = "application/pdf"
IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
NAMES = {PDF: "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
SAVE_OPTIONS = {"JPEG": {"quality": 90, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 90}}
# Names whose presence anywhere in a PDF means something runs or something rides along.
PDF_REFUSED_KEYS = {"/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia"}
PDF_REFUSED_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/RichMediaExecute"}
PDF_RAW_REFUSED = re.compile(rb"/(?:JS|JavaScript|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9#])")


class UploadRefused(ValueError):
    """A file that must not be stored; the message is pt-BR, ready for the field's error."""


class Checked(NamedTuple):
    data: bytes  # what to store: the re-encoded image, or the PDF as sent
    content_type: str


def max_pixels() -> int:
    return int(current_app.config.get("UPLOAD_MAX_PIXELS") or DEFAULT_MAX_PIXELS)


def pillow():
    """PIL.Image with MAX_IMAGE_PIXELS set to this app's limit (Pillow warns above it and raises above twice
    it; both are refused here before anything is decoded)."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = max_pixels()
    return Image


def sniff(head: bytes) -> str | None:
    """The type the first bytes claim: only a first sort, the decoders below have the last word."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def describe(allowed) -> str:
    names = [NAMES[kind] for kind in allowed]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} ou {names[-1]}"
    return f"uma imagem {listed}" if PDF not in allowed else listed


def too_large(width: int | None = None, height: int | None = None) -> str:
    limit = max_pixels() / 1_000_000
    size = f" ({width} × {height} pixels)" if width and height else ""
    return (f"A imagem é grande demais{size}: o limite é {limit:.0f} megapixels. "
            "Reduza a imagem e envie de novo.")


def check(data: bytes, allowed, label: str = "O arquivo") -> Checked:
    """The bytes to store and their type, or UploadRefused saying why (`label` names the file)."""
    kind = sniff(data[:16])
    if kind not in allowed:
        raise UploadRefused(f"{label} não é {describe(allowed)}. Envie um desses formatos.")
    if kind == PDF:
        return Checked(check_pdf(data, label), kind)
    return Checked(reencode(data, kind, label), kind)


def open_image(source, fmt: str):
    """Pillow's lazy open (the header only) of a file in format `fmt`, refused with UploadRefused above the pixel
    limit before anything is decoded. Used by the upload check and by the worker that decodes stored photos."""
    Image = pillow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused just below, by size
            img = Image.open(source, formats=[fmt])
    except Image.DecompressionBombError:  # above twice the limit Pillow refuses to even open it
        raise UploadRefused(too_large()) from None
    width, height = img.size
    if width * height > max_pixels():
        img.close()
        raise UploadRefused(too_large(width, height))
    return img


def reencode(data: bytes, kind: str, label: str = "O arquivo") -> bytes:
    """The image decoded and saved again in its own format, upright, with no metadata."""
    from PIL import ImageOps
    fmt = IMAGES[kind]
    try:
        with open_image(io.BytesIO(data), fmt) as img:
            img.verify()
        with open_image(io.BytesIO(data), fmt) as img:  # verify() leaves the image unusable: open again
            img.load()
            clean = ImageOps.exif_transpose(img)  # the orientation is baked in before EXIF goes
            if fmt == "JPEG" and clean.mode not in ("L", "RGB", "CMYK"):
                clean = clean.convert("RGB")
            # Pillow's savers copy comments, colour profiles and XMP from .info: keep only what the pixels mean.
            clean.info = {key: clean.info[key] for key in ("transparency",) if key in clean.info}
            out = io.BytesIO()
            clean.save(out, fmt, **SAVE_OPTIONS[fmt])
    except UploadRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error (OSError, SyntaxError, struct...) means unreadable
        raise UploadRefused(f"{label} não é uma imagem {NAMES[kind]} válida (está corrompido ou incompleto).") from exc
    return out.getvalue()


def check_pdf(data: bytes, label: str = "O arquivo") -> bytes:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    unreadable = f"{label} não é um PDF válido (está corrompido ou incompleto)."
    active = (f"{label} contém JavaScript, ações automáticas ou arquivos embutidos, que o portal não aceita. "
              "Gere o PDF de novo sem esses recursos (por exemplo, com “Imprimir como PDF”).")
    if PDF_RAW_REFUSED.search(data):
        raise UploadRefused(active)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadRefused(f"{label} está protegido por senha. Envie o PDF sem senha.")
        len(reader.pages)  # the page tree must be there and readable
        stack = [reader.trailer]
        for generation, numbers in list(reader.xref.items()):
            stack += [IndirectObject(number, generation, reader) for number in numbers]
        stack += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
        seen = set()
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if (obj.idnum, obj.generation) in seen:
                    continue
                seen.add((obj.idnum, obj.generation))
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):  # stream dictionaries too
                if PDF_REFUSED_KEYS.intersection(obj.keys()) or obj.get("/S") in PDF_REFUSED_ACTIONS:
                    raise UploadRefused(active)
                stack += list(obj.values())
            elif isinstance(obj, ArrayObject):
                stack += list(obj)
    except UploadRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds (PdfReadError, KeyError, RecursionError...)
        raise UploadRefused(unreadable) from exc
    return data
