"""The handout renderer's image cache: our own public pictures, decoded once per process.

WeasyPrint takes a ``cache`` mapping for ``render()`` and keeps two kinds of entries in
it: a URL's decoded image (``url -> image``), and the bytes behind a raster image
(``"<image id>-<slot>-<dpi>" -> bytes``, read back when the PDF is written). Each render
gets its own ``RenderImages`` (a ``dict``, as WeasyPrint requires) that keeps everything
of that render, and borrows from one process-wide ``SharedImages``:

- Only pictures fetched from ``static:`` or ``media:`` URLs are shared: the library's
  drawings, the clinic's logo and our own static files, all public
  (``clinic.storage.public_storage``). A ``data:`` URL (the QR codes, whose program
  links are the patient's secret) and everything else stays in its render.
- An entry is found by its URL *and* a digest of the file's bytes, read again by each
  render (the read WeasyPrint would make; decoding is what is saved): a logo replaced
  under the same name is never printed from the old picture. On a miss WeasyPrint then
  reads the file once more (a second GET with media on S3, once per picture per worker
  while it stays cached); a file the fetcher refuses is logged twice.
- An image is lent to one render at a time and put back when the PDF is written. Drawing
  an SVG changes it (it keeps the page stream it last drew on, with the patient's text,
  and its nodes' state while drawing): on its way back that stream is dropped, and a
  second render wanting it meanwhile parses its own copy. A raster's bytes are moved
  into a dict of its own, so it never points back at the render (and the QR codes) that
  decoded it.
- Bounded by entries and bytes, least recently used out first, under a lock: renders
  run in several threads (draft previews).
"""

import copy
import hashlib
import re
import threading
from collections import OrderedDict

from weasyprint.images import LazyImage, RasterImage, SVGImage

PUBLIC_SCHEMES = ("static:", "media:")
# A 50-exercise handout prints 50 drawings and a logo. Sizes are estimates of the memory
# an image holds: a raster keeps its file and the PDF streams made from it (about three
# times the file); a parsed SVG is Python objects, about twenty times its file.
MAX_ENTRIES = 256
MAX_BYTES = 48 * 1024 * 1024
RASTER_FACTOR = 3
SVG_FACTOR = 20

Key = tuple[str, str]


def is_public(url) -> bool:
    return isinstance(url, str) and url.startswith(PUBLIC_SCHEMES)


class SharedImages:
    """Decoded public images, lent to one render at a time."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[RasterImage | SVGImage, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def take(self, key: Key):
        """The image for ``key``, now this caller's until ``give_back``; or None."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                self.misses += 1
                return None
            self._bytes -= entry[1]
            self.hits += 1
            return entry[0]

    def give_back(self, key: Key, image, source: bytes) -> None:
        """Keep ``image`` (decoded from ``source``) for the next render that needs it."""
        if isinstance(image, RasterImage):
            size = RASTER_FACTOR * len(source)
        elif isinstance(image, SVGImage):
            size = SVG_FACTOR * len(source)
        else:
            return
        if size > self.max_bytes:
            return
        image = kept(image, source)
        if image is None:
            return
        with self._lock:
            if key in self._entries:  # another render parsed its own meanwhile
                return
            self._entries[key] = (image, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes counted against ``max_bytes``."""
        return self._bytes


# What makes an SVG need its render: text is laid out, and images are fetched, through
# the render's own layout context (its image cache holds the patient's QR codes).
RENDER_BOUND_SVG = re.compile(rb"<(?:[\w-]+:)?(?:text|image|foreignObject)\b", re.IGNORECASE)


def kept(image, source: bytes):
    """``image`` as the cache keeps it: nothing left of the render that used it; or
    None when it cannot be kept so (an SVG with text or images of its own)."""
    if isinstance(image, SVGImage):
        if RENDER_BOUND_SVG.search(source):
            return None
        # The image holds the render's layout context (with its image cache, styles and
        # pages) and SVG.draw() leaves the page stream and that context on the drawing.
        # Shapes alone never read it: drop all three.
        image._context = None
        svg = image._svg
        svg.stream = svg.context = None
        return image
    # A raster reads its bytes back from the cache it was made with (the render's, with
    # its QR codes): give it a dict of its own. WeasyPrint writes the PDF streams it makes
    # from these bytes into that dict, the same bytes on every render.
    if type(image._cache) is dict:  # already the cache's own, coming back from a render
        return image
    own: dict = {}
    copied = copy.copy(image)
    copied._cache = own
    copied.image_data = LazyImage(own, f"{image.id}-source-{image._dpi or ''}", source)
    return copied


class RenderImages(dict):
    """One render's image cache (WeasyPrint's ``cache=``), borrowing from ``SharedImages``.

    Call ``give_back()`` once the PDF is written."""

    def __init__(self, shared: SharedImages, fetcher):
        super().__init__()
        self._shared = shared
        self._fetcher = fetcher
        self._public: dict[str, tuple[Key, bytes]] = {}

    def _borrow(self, url) -> bool:
        """Bring the shared image for ``url`` into this render; whether there was one."""
        if not is_public(url) or url in self._public:
            return False
        try:
            response = self._fetcher.fetch(url)
            source = response.read()
            response.close()
        except Exception:  # WeasyPrint will fetch it, log the failure and go on
            return False
        key = (url, hashlib.blake2b(source, digest_size=16).hexdigest())
        self._public[url] = (key, source)
        image = self._shared.take(key)
        if image is None:
            return False
        super().__setitem__(url, image)
        return True

    def __contains__(self, key) -> bool:
        return super().__contains__(key) or self._borrow(key)

    def __getitem__(self, key):
        if not super().__contains__(key):
            self._borrow(key)
        return super().__getitem__(key)

    def give_back(self) -> None:
        """Hand this render's public images to the shared cache."""
        for url, (key, source) in self._public.items():
            image = super().get(url)
            if image is not None:
                self._shared.give_back(key, image, source)
        self._public.clear()


shared_images = SharedImages()
