"""Tiny MP4 and WebM files built byte by byte, as the container formats lay them out:
enough structure for exercises.video_probe (no codec data, no ffmpeg)."""

import struct


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def mvhd(*, timescale: int, duration: int, version: int = 0) -> bytes:
    rest = b"\0" * 80  # rate, volume, reserved, matrix, pre-defined, next track id
    if version == 1:
        return full_box(b"mvhd", 1, struct.pack(">QQIQ", 0, 0, timescale, duration) + rest)
    return full_box(b"mvhd", 0, struct.pack(">IIII", 0, 0, timescale, duration) + rest)


def trak(handler: bytes = b"vide") -> bytes:
    hdlr = full_box(b"hdlr", 0, b"\0" * 4 + handler + b"\0" * 12 + b"\0")
    return box(b"trak", box(b"tkhd", b"\0" * 84) + box(b"mdia", box(b"mdhd", b"\0" * 24) + hdlr))


def mp4(
    seconds: float = 12,
    *,
    timescale: int = 1000,
    version: int = 0,
    brands: tuple[bytes, ...] = (b"isom", b"iso2", b"avc1", b"mp41"),
    handler: bytes = b"vide",
    moov_last: bool = True,
    mdat: int = 2048,
    fragmented: float | None = None,
) -> bytes:
    """An MP4 of ``seconds`` (mvhd version 0 or 1); ``fragmented``: mvhd says 0 and
    mvex/mehd holds the length."""
    ftyp = box(b"ftyp", brands[0] + struct.pack(">I", 512) + b"".join(brands))
    duration = 0 if fragmented is not None else round(seconds * timescale)
    parts = mvhd(timescale=timescale, duration=duration, version=version) + trak(handler)
    if fragmented is not None:
        parts += box(
            b"mvex", full_box(b"mehd", 0, struct.pack(">I", round(fragmented * timescale)))
        )
    moov = box(b"moov", parts)
    media = box(b"mdat", b"\0" * mdat)
    return ftyp + (media + moov if moov_last else moov + media)


def element(element_id: int, data: bytes, *, unknown_size: bool = False) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    if unknown_size:
        size = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    elif len(data) < 127:
        size = bytes([0x80 | len(data)])
    else:
        size = b"\x01" + len(data).to_bytes(7, "big")
    return id_bytes + size + data


def uint(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def webm(
    seconds: float | None = 12,
    *,
    doctype: bytes = b"webm",
    float_bytes: int = 8,
    scale: int = 1_000_000,
    track_type: int = 1,
    unknown_segment: bool = False,
    cluster: int = 2048,
) -> bytes:
    header = element(
        0x1A45DFA3,
        uint(0x4286, 1)
        + uint(0x42F7, 1)
        + uint(0x42F2, 4)
        + uint(0x42F3, 8)
        + element(0x4282, doctype)
        + uint(0x4287, 4)
        + uint(0x4285, 2),
    )
    info = uint(0x2AD7B1, scale) + element(0x4D80, b"tests")
    if seconds is not None:
        ticks = seconds * 1e9 / scale
        info += element(0x4489, struct.pack(">d" if float_bytes == 8 else ">f", ticks))
    track = element(0xAE, uint(0xD7, 1) + uint(0x83, track_type) + element(0x86, b"V_VP9"))
    body = (
        element(0x1549A966, info)
        + element(0x1654AE6B, track)
        + element(0x1F43B675, uint(0xE7, 0) + element(0xA3, b"\0" * cluster))
    )
    return header + element(0x18538067, body, unknown_size=unknown_segment)
