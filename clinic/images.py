"""Uploaded pictures: checked, then re-encoded at print resolution.

Only JPEG, PNG and WebP are accepted, judged by what Pillow finds in the
bytes, not by the file name. Pillow's decompression-bomb guard is turned into
a refusal, and every accepted picture is re-encoded (which drops metadata and
anything hidden after the image data) and scaled down so the longest side is
at most ``MAX_SIDE`` pixels: large enough for print, small enough that the
handout renderer never decodes a 40-megapixel photo.
"""

import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, UnidentifiedImageError

ALLOWED = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
MIN_SIDE = 32


def normalise_image(upload, *, max_side: int = MAX_SIDE) -> SimpleUploadedFile:
    """A safe, re-encoded copy of an uploaded picture, or a ValidationError in plain words."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            f"The picture is {upload.size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB."
        )
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            kind = image.format
            if kind not in ALLOWED:
                raise ValidationError(
                    "Upload a JPEG, PNG or WebP picture (SVG and other formats are not accepted)."
                )
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError("The picture has too many pixels; use a smaller one.")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError("The picture has too many pixels; use a smaller one.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            "This file is not a picture we can read. Upload a JPEG, PNG or WebP picture."
        ) from error
    if min(image.size) < MIN_SIDE:
        raise ValidationError(f"The picture is too small; use one at least {MIN_SIDE} pixels wide.")
    image.thumbnail((max_side, max_side))
    extension, content_type = ALLOWED[kind]
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    options = {"quality": 88, "optimize": True} if kind in ("JPEG", "WEBP") else {"optimize": True}
    image.save(out, format=kind, **options)
    stem = (getattr(upload, "name", "") or "picture").rsplit("/", 1)[-1].rsplit(".", 1)[0][:60]
    return SimpleUploadedFile(f"{stem or 'picture'}.{extension}", out.getvalue(), content_type)
