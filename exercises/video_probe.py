"""What an uploaded video file is, and how long it runs, read from its container.

Pure Python and by content only (never the file name or the browser's claimed
type): an MP4 is an ISO base media file whose first box is ``ftyp`` with a brand
we know, and a WebM is an EBML document whose DocType is ``webm``. The length
comes from the container's own header: MP4 ``moov/mvhd`` (timescale and
duration, version 0 or 1; a fragmented file's ``mvex/mehd``), WebM
``Segment/Info`` (TimecodeScale and the Duration float). A file whose length
cannot be read is refused, so a limit on length always holds.

Only headers are read, by seeking from box to box (or element to element): a
video's media data is never loaded into memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

# Brands of MP4 files browsers play (the ISO family, MPEG-4 and the Apple M4V).
MP4_BRANDS = frozenset(
    {
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "iso7",
        "iso8",
        "iso9",
        "mp41",
        "mp42",
        "avc1",
        "av01",
        "dash",
        "mmp4",
        "M4V ",
        "M4VH",
        "M4VP",
        "MSNV",
    }
)
# The most of a header we read in one piece (an ``mvhd`` is 120 bytes at most).
HEADER_LIMIT = 4096
# Boxes or elements walked before giving up on finding the header.
STEP_LIMIT = 10_000


class VideoProblem(ValueError):
    """The file is not a video we accept; the message says why in plain words."""


@dataclass(frozen=True)
class VideoInfo:
    container: str  # "mp4" or "webm"
    seconds: float

    @property
    def content_type(self) -> str:
        return f"video/{self.container}"

    @property
    def extension(self) -> str:
        return f".{self.container}"


def probe_video(file: BinaryIO) -> VideoInfo:
    """The container and length of an MP4 or WebM video, or ``VideoProblem``."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    head = file.read(64)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return VideoInfo("mp4", _mp4_seconds(file, size))
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoInfo("webm", _webm_seconds(file, size))
    raise VideoProblem(
        f"This file is {describe(head)}, not a video we accept. Upload an MP4 or WebM video."
    )


# What a refused file most likely is, from its first bytes: named in the message.
_SIGNATURES = (
    (0, b"\x89PNG", "a PNG picture"),
    (0, b"\xff\xd8\xff", "a JPEG picture"),
    (0, b"GIF8", "a GIF picture"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (0, b"OggS", "an Ogg file"),
    (0, b"ID3", "an MP3 sound file"),
    (0, b"fLaC", "a FLAC sound file"),
    (8, b"WEBP", "a WebP picture"),
    (8, b"AVI ", "an AVI video"),
    (8, b"WAVE", "a WAV sound file"),
)


def describe(head: bytes) -> str:
    """What the first bytes of a file say it is, in words ("a PNG picture")."""
    if not head:
        return "empty"
    for offset, magic, words in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return words
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"<":
        return "a web page or XML document"
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "a file of an unknown kind"
    return "a text file"


# MP4 (ISO base media file format): boxes of a 32-bit size (1: a 64-bit size
# follows the type; 0: to the end of the file) and a four-character type.


def _boxes(file: BinaryIO, start: int, end: int):
    """(type, payload start, payload end) of each box between ``start`` and ``end``."""
    position = start
    for _ in range(STEP_LIMIT):
        if position + 8 > end:
            return
        file.seek(position)
        header = file.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:
            large = file.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:
            size = end - position
        if size < payload - position or position + size > end:
            raise VideoProblem("This MP4 file is damaged or cut short (a box runs past its end).")
        yield kind.decode("latin-1"), payload, position + size
        position += size
    raise VideoProblem("This MP4 file has too many parts to read.")


def _child(file: BinaryIO, start: int, end: int, wanted: str) -> tuple[int, int] | None:
    for kind, payload, box_end in _boxes(file, start, end):
        if kind == wanted:
            return payload, box_end
    return None


def _read(file: BinaryIO, start: int, end: int) -> bytes:
    file.seek(start)
    return file.read(min(end - start, HEADER_LIMIT))


def _mp4_seconds(file: BinaryIO, size: int) -> float:
    boxes = _boxes(file, 0, size)
    first = next(boxes, None)
    if first is None:
        raise VideoProblem("This MP4 file is damaged or cut short.")
    _, payload, end = first
    ftyp = _read(file, payload, end)
    brands = {ftyp[i : i + 4].decode("latin-1") for i in range(0, len(ftyp) - 3, 4) if i != 4}
    if ftyp[:4] == b"qt  ":
        raise VideoProblem(
            "This is a QuickTime (.mov) video. Save or export it as MP4 (on a phone, the "
            "'most compatible' format) and upload that."
        )
    if not brands & MP4_BRANDS:
        found = ftyp[:4].decode("latin-1").strip() or "none"
        raise VideoProblem(
            f"This MP4-like file is of a kind browsers may not play (brand {found!r}). "
            "Upload an MP4 (H.264) or WebM video."
        )
    moov = next(((p, e) for kind, p, e in boxes if kind == "moov"), None)
    if moov is None:
        raise VideoProblem("This MP4 file has no header with its length (no moov box).")
    if not _mp4_has_video(file, *moov):
        raise VideoProblem("This MP4 file holds no video track (only sound?).")
    mvhd = _child(file, *moov, "mvhd")
    if mvhd is None:
        raise VideoProblem("This MP4 file's length cannot be read (no mvhd box).")
    data = _read(file, *mvhd)
    try:
        if data[0] == 1:
            timescale, duration = struct.unpack(">IQ", data[20:32])
            unknown = duration == 2**64 - 1
        else:
            timescale, duration = struct.unpack(">II", data[12:20])
            unknown = duration == 2**32 - 1
    except (IndexError, struct.error):
        raise VideoProblem("This MP4 file's length cannot be read (a short mvhd box).") from None
    if duration in (0,) or unknown:
        # A fragmented MP4 keeps its length in mvex/mehd, in the same timescale.
        duration = _mp4_fragmented_duration(file, *moov)
    if not timescale or not duration:
        raise VideoProblem("This MP4 file does not say how long it is.")
    return duration / timescale


def _mp4_fragmented_duration(file: BinaryIO, start: int, end: int) -> int:
    mvex = _child(file, start, end, "mvex")
    mehd = _child(file, *mvex, "mehd") if mvex else None
    if mehd is None:
        return 0
    data = _read(file, *mehd)
    try:
        return (
            struct.unpack(">Q", data[4:12])[0]
            if data[0] == 1
            else struct.unpack(">I", data[4:8])[0]
        )
    except (IndexError, struct.error):
        return 0


def _mp4_has_video(file: BinaryIO, start: int, end: int) -> bool:
    """Whether a track's handler is ``vide`` (moov/trak/mdia/hdlr)."""
    for kind, payload, box_end in _boxes(file, start, end):
        if kind != "trak":
            continue
        mdia = _child(file, payload, box_end, "mdia")
        hdlr = _child(file, *mdia, "hdlr") if mdia else None
        if hdlr and _read(file, *hdlr)[8:12] == b"vide":
            return True
    return False


# WebM (EBML): elements of a variable-length ID (its marker bits kept) and a
# variable-length size (marker removed; all ones: unknown), then the data.
EBML = 0x1A45DFA3
DOCTYPE = 0x4282
SEGMENT = 0x18538067
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
TRACKS = 0x1654AE6B
TRACK_ENTRY = 0xAE
TRACK_TYPE = 0x83
CLUSTER = 0x1F43B675
VIDEO_TRACK = 1


def _vint(file: BinaryIO, *, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, length in bytes, all ones) of the variable-length integer at the file's position."""
    first = file.read(1)
    if not first:
        raise EOFError
    byte = first[0]
    length = next((n for n in range(1, 9) if byte & (0x80 >> (n - 1))), 0)
    if not length:
        raise VideoProblem("This WebM file is damaged (an element with no length).")
    rest = file.read(length - 1)
    if len(rest) < length - 1:
        raise EOFError
    value = byte if keep_marker else byte & (0xFF >> length)
    for b in rest:
        value = (value << 8) | b
    ones = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, ones


def _elements(file: BinaryIO, start: int, end: int | None):
    """(id, data start, data end or None when unknown) of each element from ``start``."""
    position = start
    for _ in range(STEP_LIMIT):
        if end is not None and position >= end:
            return
        file.seek(position)
        try:
            element, id_length, _ = _vint(file, keep_marker=True)
            size, size_length, unknown = _vint(file, keep_marker=False)
        except EOFError:
            return
        data = position + id_length + size_length
        yield element, data, None if unknown else data + size
        if unknown:
            return  # Its children follow; the caller walks into it or stops.
        position = data + size
    raise VideoProblem("This WebM file has too many parts to read.")


def _webm_seconds(file: BinaryIO, size: int) -> float:
    elements = _elements(file, 0, size)
    first = next(elements, None)
    if first is None:
        raise VideoProblem("This WebM file is damaged or cut short.")
    _, payload, end = first
    doctype = ""
    for element, data, data_end in _elements(file, payload, end or size):
        if element == DOCTYPE:
            doctype = _read(file, data, data_end or data).rstrip(b"\0").decode("latin-1")
    if doctype == "matroska":
        raise VideoProblem(
            "This is a Matroska (.mkv) video. Save or export it as MP4 or WebM and upload that."
        )
    if doctype != "webm":
        raise VideoProblem(f"This EBML file is not a WebM video (its type is {doctype!r}).")
    segment = next(((d, e) for element, d, e in elements if element == SEGMENT), None)
    if segment is None:
        raise VideoProblem("This WebM file holds no video (no Segment).")
    scale, duration, video = 1_000_000, None, False
    for element, data, data_end in _elements(file, segment[0], segment[1] or size):
        if element == CLUSTER or data_end is None:
            break  # The media itself: Info and Tracks come before it.
        if element == INFO:
            for child, child_data, child_end in _elements(file, data, data_end):
                raw = _read(file, child_data, child_end or child_data)
                if child == TIMECODE_SCALE and raw:
                    scale = int.from_bytes(raw, "big")
                elif child == DURATION and len(raw) in (4, 8):
                    duration = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]
        elif element == TRACKS:
            video = video or _webm_has_video(file, data, data_end)
    if not video:
        raise VideoProblem("This WebM file holds no video track (only sound?).")
    if duration is None or not scale or not duration > 0 or duration != duration:
        raise VideoProblem(
            "This WebM file does not say how long it is (recordings saved straight from a "
            "browser often do not). Save it again with a video editor and upload that."
        )
    return duration * scale / 1e9


def _webm_has_video(file: BinaryIO, start: int, end: int) -> bool:
    for element, data, data_end in _elements(file, start, end):
        if element == TRACK_ENTRY and data_end is not None:
            for child, child_data, child_end in _elements(file, data, data_end):
                if (
                    child == TRACK_TYPE
                    and child_end is not None
                    and int.from_bytes(_read(file, child_data, child_end), "big") == VIDEO_TRACK
                ):
                    return True
    return False
