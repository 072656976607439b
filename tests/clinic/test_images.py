import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clinic.images import MAX_SIDE, normalise_image


def picture(fmt="PNG", size=(400, 300), name=None, mode="RGB") -> SimpleUploadedFile:
    out = io.BytesIO()
    colour = (20, 120, 140) if mode in ("RGB", "RGBA") else 1
    Image.new(mode, size, colour).save(out, format=fmt)
    return SimpleUploadedFile(name or f"pic.{fmt.lower()}", out.getvalue())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_are_re_encoded(fmt):
    result = normalise_image(picture(fmt))
    assert Image.open(io.BytesIO(result.read())).format == fmt


def test_large_pictures_are_scaled_to_print_resolution():
    result = normalise_image(picture("JPEG", size=(4000, 3000)))
    assert max(Image.open(io.BytesIO(result.read())).size) == MAX_SIDE


def test_svg_and_renamed_files_are_refused_with_a_clear_message():
    svg = SimpleUploadedFile("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    with pytest.raises(ValidationError, match="not a picture we can read"):
        normalise_image(svg)
    gif = picture("GIF", name="logo.png", mode="P")
    with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
        normalise_image(gif)


def test_decompression_bombs_are_refused():
    # A tiny file that claims 20,000 × 20,000 pixels.
    bomb = picture("PNG", size=(20000, 20000), mode="1")
    assert bomb.size < 200_000
    with pytest.raises(ValidationError, match="too many pixels"):
        normalise_image(bomb)


def test_oversized_uploads_and_tiny_pictures_are_refused():
    big = SimpleUploadedFile("big.jpg", b"\xff" * (6 * 1024 * 1024))
    with pytest.raises(ValidationError, match="limit is 5 MB"):
        normalise_image(big)
    with pytest.raises(ValidationError, match="too small"):
        normalise_image(picture(size=(10, 10)))
