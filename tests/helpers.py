import io
import re
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pypdf import PdfReader
from pypdf.generic import ContentStream


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Join lines: a long sentence may wrap anywhere on the page.
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def http_listener():
    """A web server on loopback that records every request it receives."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def printed_pictures(page) -> list:
    """A PDF page's images that are not QR codes. A QR code is printed as a PNG of one
    pixel per module: square, 25 to 181 pixels (versions 1 to 40 with a 2-module border),
    black and white only."""

    def is_qr(picture) -> bool:
        image = picture.image
        return (
            image.width == image.height
            and 25 <= image.width <= 181
            and {colour for _, colour in image.convert("L").getcolors(2) or [(0, 127)]} <= {0, 255}
        )

    return [picture for picture in page.images if not is_qr(picture)]


def pdf_page_images(data: bytes, *, dpi: int = 150):
    """The PDF's pages as PIL images, rendered by poppler's pdftoppm."""
    import subprocess
    import tempfile
    from pathlib import Path

    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(source), str(Path(folder) / "page")],
            check=True,
        )
        return [Image.open(path).copy() for path in sorted(Path(folder).glob("page*.png"))]


def emailed_path(message, route: str) -> str:
    """The path of the link to ``route`` (e.g. ``/accounts/reset/``) in an email's body."""
    link = re.search(rf"https?://[^/\s]+({re.escape(route)}\S+/)", message.body)
    assert link, f"No {route} link in: {message.body}"
    return link.group(1)


def admin_change_data(client, url: str) -> dict:
    """The fields of an admin change form as it stands, ready to post back changed."""
    form = client.get(url).context["adminform"].form
    return {
        name: (value if value is not None else "")
        for name, value in form.initial.items()
        if not isinstance(value, list | tuple)
    }


def drawings_flipped(pdf: bytes) -> list[bool]:
    """For each drawing on the first page (WeasyPrint draws an SVG inline, starting with
    its white background, a filled rectangle of the whole viewBox): is it drawn flipped
    left to right?"""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    operations = ContentStream(page.get_contents(), page.pdf).operations
    flips, stack, matrix, fill = [], [], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], None

    def times(m, n):
        a, b, c, d, e, f = m
        p, q, r, s, t, u = n
        return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
                e * p + f * r + t, e * q + f * s + u]  # fmt: skip

    for index, (operands, operator) in enumerate(operations):
        if operator == b"q":
            stack.append(matrix)
        elif operator == b"Q":
            matrix = stack.pop()
        elif operator == b"cm":
            matrix = times([float(v) for v in operands], matrix)
        elif operator == b"rg":
            fill = [float(v) for v in operands]
        elif (
            operator == b"re"
            and operations[index + 1][1] == b"f"
            and fill == [1, 1, 1]
            and float(operands[2]) > 100  # a drawing's background, not a tick box
        ):
            flips.append(matrix[0] < 0)
    return flips
