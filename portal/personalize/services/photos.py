"""Option photos: checked on upload by decoding them (portal.uploads: size, pixel count, a full decode),
stored re-encoded, resized in the worker.

The stored "original" is already the upload validator's re-encoded copy (no EXIF, nothing smuggled after the
image data); buyers only ever get the worker's versions (thumb and large), staff may download the original.
The worker decodes under the same pixel limit as the upload, so a file stored before that check existed
fails with a clear reason instead of filling the worker's memory.
"""
import secrets
from pathlib import Path

from flask import current_app

from portal import jobs
from portal.accounts.audit import audit
from portal.errors import ServiceError
from portal.extensions import db
from portal.personalize.models import Option, OptionPhoto
from portal.uploads import IMAGES, UploadRefused, check, open_image

DEFAULT_MAX_MB = 5
MAX_PHOTOS_PER_OPTION = 8
SIZES = {"thumb": 480, "large": 1600}  # longest side in pixels
KINDS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def max_bytes() -> int:
    return int(current_app.config.get("PHOTO_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def photos_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "personalize" / "photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def original_path(photo: OptionPhoto) -> Path:
    return photos_dir() / f"{photo.stored_name}.{KINDS[photo.content_type]}"


def version_path(photo: OptionPhoto, size: str) -> Path:
    return photos_dir() / f"{photo.stored_name}-{size}.jpg"


def add_photo(option: Option, data: bytes, filename: str = "") -> OptionPhoto:
    if not data:
        raise ServiceError({"photo": "Escolha uma foto."})
    limit = max_bytes()
    if len(data) > limit:
        raise ServiceError({"photo": f"A foto passa de {limit // (1024 * 1024)} MB. Reduza-a e envie de novo."})
    if len(option.photos) >= MAX_PHOTOS_PER_OPTION:
        raise ServiceError({"photo": f"Cada opção aceita até {MAX_PHOTOS_PER_OPTION} fotos."})
    try:
        data, kind = check(data, KINDS)
    except UploadRefused as exc:
        raise ServiceError({"photo": str(exc)}) from None
    photo = OptionPhoto(option_id=option.id, development_id=option.development_id, stored_name=secrets.token_hex(16),
                        original_name=(filename or "")[:255], content_type=kind, size_bytes=len(data),
                        status="pending")
    db.session.add(photo)
    db.session.flush()
    path = original_path(photo)
    path.write_bytes(data)
    photo_id = photo.id
    from portal.personalize.jobs import make_photo_versions
    jobs.after_commit(db.session, lambda: jobs.enqueue(make_photo_versions, photo_id, queue_name="low"))
    audit("finish_photo.added", option, photo_id=photo.id, size=len(data), content_type=kind)
    return photo


def delete_photo(photo: OptionPhoto) -> None:
    audit("finish_photo.deleted", photo.option, photo_id=photo.id)
    paths = [original_path(photo)] + [version_path(photo, s) for s in SIZES]
    db.session.delete(photo)
    db.session.flush()
    # Files go only once the row is gone for good; a rollback keeps both.
    jobs.after_commit(db.session, lambda: [p.unlink(missing_ok=True) for p in paths])


def render_versions(photo: OptionPhoto) -> None:
    """Decode the original with Pillow and write each size as a plain JPEG (no metadata). Above the upload's
    pixel limit it raises UploadRefused before decoding anything."""
    from PIL import Image, ImageOps

    with open_image(original_path(photo), IMAGES[photo.content_type]) as img:
        # Shrink first, in place (a JPEG even decodes at 1/2..1/8 scale): only the decoded original is ever
        # full size in memory; copies, the alpha flattening and the rotation work on at most 1600 px.
        img.thumbnail((max(SIZES.values()),) * 2)
        img = ImageOps.exif_transpose(img)  # phone photos carry rotation in EXIF; bake it in
        if img.mode not in ("RGB", "L"):
            background = Image.new("RGB", img.size, (255, 255, 255))
            rgba = img.convert("RGBA")
            background.paste(rgba, mask=rgba.split()[-1])
            img = background
        for size, longest in SIZES.items():
            copy = img.copy()
            copy.thumbnail((longest, longest))
            copy.save(version_path(photo, size), "JPEG", quality=82, optimize=True, progressive=True)
