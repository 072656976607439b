"""Brand colours that stay readable: WCAG contrast against white paper.

A clinic's brand colour prints the handout's headings and the white numbers on
its exercise badges, so it must reach 4.5:1 against white, the WCAG AA ratio for
text. ``contrast`` measures it (WCAG 2.2's relative luminance) and ``darkened``
finds the same hue dark enough to pass, which the settings form suggests.
"""

import colorsys
import re

from django.core.exceptions import ValidationError

WHITE = "#ffffff"
TEXT_CONTRAST = 4.5
HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def _channels(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in (red, green, blue))


def luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour: 0 for black, 1 for white."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str = WHITE) -> float:
    """The WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def is_readable(colour: str) -> bool:
    return contrast(colour) >= TEXT_CONTRAST


def darkened(colour: str) -> str:
    """The colour itself when it is readable on white, else the lightest shade of the
    same hue and saturation that is (lightness lowered a step at a time)."""
    if is_readable(colour):
        return colour.lower()
    hue, lightness, saturation = colorsys.rgb_to_hls(*_channels(colour))
    while lightness > 0:
        lightness = max(0.0, lightness - 0.005)
        shade = _hex(*colorsys.hls_to_rgb(hue, lightness, saturation))
        if is_readable(shade):
            return shade
    return "#000000"


def validate_readable(colour: str) -> None:
    """Refuse a brand colour too light for text on white, suggesting one that passes."""
    if not HEX.fullmatch(colour) or is_readable(colour):
        return  # the format is the hex validator's to report
    raise ValidationError(
        "%(colour)s is too light for text on white paper: its contrast is %(ratio).1f:1 and "
        "text needs at least 4.5:1. %(shade)s is the same colour, dark enough to read.",
        code="low_contrast",
        params={"colour": colour, "ratio": contrast(colour), "shade": darkened(colour)},
    )
