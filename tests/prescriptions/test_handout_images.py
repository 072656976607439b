"""The renderer's shared image cache, the QR codes as pixels, the log's tick boxes as pictures."""

import re
import threading
from xml.etree import ElementTree

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from pypdf.generic import BooleanObject

from exercises.models import ExerciseImage
from prescriptions import handout_images, handouts
from prescriptions.handout_images import RenderImages, SharedImages, shared_images
from prescriptions.selectors import handout_snapshot, prescription_for_handout
from tests.clinic.test_images import picture
from tests.helpers import pdf_page_images, pdf_reader, pdf_text, printed_pictures

PROGRAM_URL = "https://hep.example/p/a-secret-token-of-this-patient-only/"
DRAWING = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 60">'
    '<rect x="5" y="5" width="90" height="50" fill="none" stroke="#1f3b4d" stroke-width="3"/>'
    "</svg>"
)


@pytest.fixture
def shared():
    shared_images.clear()
    yield shared_images
    shared_images.clear()


@pytest.fixture
def pictured(draft, exercises):
    """The draft with a drawing on its first exercise and a logo on its clinic."""
    image = ExerciseImage(exercise=exercises[0], alt_text="A person lunging", is_main=True)
    image.image.save("psoas.svg", ContentFile(DRAWING.encode()), save=True)
    draft.clinic.logo.save("logo.png", ContentFile(picture("PNG", size=(300, 100)).read()))
    draft.clinic.save()
    return draft


def render(rx, *, program_url=""):
    snapshot = handout_snapshot(prescription_for_handout(rx.pk))
    return handouts.render_pdf(snapshot, draft=False, program_url=program_url)


def test_the_second_render_borrows_the_pictures_and_prints_the_same_pdf(pictured, shared):
    first = render(pictured)
    assert shared.hits == 0 and len(shared) >= 2  # the drawing and the logo (and ticks)
    second = render(pictured)
    assert shared.hits == len(shared)
    assert second == first


def test_a_logo_replaced_under_the_same_name_prints_the_new_one(pictured, shared):
    render(pictured)
    logo = pictured.clinic.logo
    with open(logo.path, "wb") as handle:  # the same name, another picture
        handle.write(picture("PNG", size=(300, 100), mode="L").read())
    [printed] = printed_pictures(pdf_reader(render(pictured)).pages[0])
    assert printed.image.convert("RGB").getpixel((0, 0)) == (1, 1, 1)


def test_qr_codes_and_program_links_never_reach_the_shared_cache(pictured, shared):
    exercise = pictured.items.first().exercise
    exercise.video_url = "https://videos.clinic.example/watch?v=1"
    exercise.save()
    render(pictured, program_url=PROGRAM_URL)
    urls = [url for url, _ in shared._entries]
    assert urls and all(url.startswith(("static:", "media:")) for url in urls)
    assert not any("secret-token" in url or "data:" in url for url in urls)


def test_kept_images_hold_nothing_of_the_render(pictured, shared):
    render(pictured, program_url=PROGRAM_URL)
    for image, _ in shared._entries.values():
        if isinstance(image, handout_images.SVGImage):
            assert image._svg.stream is None and image._svg.context is None
            assert image._context is None  # the render's layout, its image cache with it
        else:  # a raster reads its bytes from a dict of its own, not the render's cache
            assert not isinstance(image._cache, RenderImages)
            assert all(key.startswith(image.id) for key in image._cache)


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><text x="1" y="9">Jordan</text></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:,x"/></svg>',
    ],
)
def test_an_svg_that_needs_its_render_is_never_kept(svg):
    shared = SharedImages()
    image = handout_images.SVGImage(ElementTree.fromstring(svg), None, None, None)
    shared.give_back(("static:x.svg", "d"), image, svg)
    assert len(shared) == 0


def raster(name: str, size: int):
    cache = RenderImages(SharedImages(), handouts.HandoutURLFetcher())
    source = picture("PNG", size=(size, size)).read()
    image = handout_images.RasterImage(
        Image.open(picture("PNG", size=(size, size))), name, source, cache=cache
    )
    return image, source


def test_the_cache_is_bounded_by_entries_and_by_bytes():
    few = SharedImages(max_entries=2)
    for name in ("a", "b", "c"):
        image, source = raster(name, 10)
        few.give_back((f"media:{name}.png", name), image, source)
    assert [url for url, _ in few._entries] == ["media:b.png", "media:c.png"]  # a went first

    image, source = raster("big", 10)
    small = SharedImages(max_bytes=3 * len(source) + 1)
    small.give_back(("media:a.png", "a"), *raster("a", 10))
    small.give_back(("media:big.png", "big"), image, source)
    assert len(small) == 1 and small.size <= small.max_bytes
    tiny = SharedImages(max_bytes=10)
    tiny.give_back(("media:big.png", "big"), image, source)
    assert len(tiny) == 0


def test_an_image_is_lent_to_one_render_at_a_time():
    cache = SharedImages()
    image, source = raster("a", 10)
    cache.give_back(("media:a.png", "a"), image, source)
    lent = cache.take(("media:a.png", "a"))
    assert lent is not None and cache.take(("media:a.png", "a")) is None
    cache.give_back(("media:a.png", "a"), lent, source)
    assert cache.take(("media:a.png", "a")) is lent


def test_renders_in_threads_print_what_one_render_prints(pictured, shared):
    snapshot = handout_snapshot(prescription_for_handout(pictured.pk))
    expected = handouts.render_pdf(snapshot, draft=False)
    results = []

    def draw():
        results.append(handouts.render_pdf(snapshot, draft=False))

    threads = [threading.Thread(target=draw) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_qr_codes_are_pngs_of_one_pixel_per_module_printed_without_smoothing(draft):
    exercise = draft.items.first().exercise
    exercise.video_url = "https://videos.clinic.example/watch?v=psoas-stretch-01"
    exercise.save()
    page = pdf_reader(render(draft, program_url=PROGRAM_URL)).pages[0]
    codes = [image for image in page.images if image not in printed_pictures(page)]
    assert len(codes) == 2
    for code in codes:
        assert code.image.width == code.image.height <= 41  # version 1 to 4: 21–33 modules
        assert code.indirect_reference.get_object()["/Interpolate"] == BooleanObject(False)


def test_tick_boxes_are_pictures_with_their_number_in_words(draft):
    draft.log_weeks = 1
    draft.save()
    html = handouts.render_html(handout_snapshot(prescription_for_handout(draft.pk)), draft=False)
    pdf = handouts.pdf_from_html(html)
    text = pdf_text(pdf)
    # Two exercises twice a day, the bridge once: words for a screen reader, in the
    # row's heading, read with it.
    assert "Standing psoas stretch, 2 boxes a day" in text
    assert text.count("2 boxes a day") == 2 and text.count("1 box a day") == 1
    # … that do not print: the page looks the same without them.
    wordless = re.sub(r'(<span class="ticks-text">)[^<]*(</span>)', r"\1\2", html)
    assert "boxes a day" not in wordless
    assert [page.tobytes() for page in pdf_page_images(pdf, dpi=100)] == [
        page.tobytes() for page in pdf_page_images(handouts.pdf_from_html(wordless), dpi=100)
    ]
