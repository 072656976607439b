"""The watch every browser test runs under (conftest.py): a page a test visited that
axe-core finds a serious or critical violation on, or that breaks its Content Security
Policy, fails the test. Pages are served by a route here, with the app's kind of policy."""

from tests.browser import conftest

POLICY = {"Content-Security-Policy": "default-src 'self'; script-src 'self'"}


def serve(context, url, body):
    context.route(
        url,
        lambda route: route.fulfill(
            body=f"<!doctype html><html lang='en'><title>t</title><main>{body}</main></html>",
            content_type="text/html; charset=utf-8",
            headers=POLICY,
        ),
    )


def test_a_serious_violation_on_a_visited_page_is_found(browser):
    context = browser.new_context()
    watch = conftest._watches[-1]
    serve(context, "http://watch.test/no-alt/", "<h1>Pictures</h1><img src='/x.png'>")
    serve(context, "http://watch.test/fine/", "<h1>Fine</h1><p>Words.</p>")
    page = context.new_page()
    page.goto("http://watch.test/no-alt/")
    page.goto("http://watch.test/fine/")
    context.close()  # the watch checks before the context closes, as tests do in finally
    conftest._watches.remove(watch)
    assert watch.found == ["http://watch.test/no-alt/: image-alt: img"]
    assert watch.problems() == ["axe-core (serious or critical): " + watch.found[0]]


def test_a_page_that_breaks_its_policy_is_reported(browser):
    context = browser.new_context()
    watch = conftest._watches[-1]
    serve(context, "http://watch.test/inline/", "<h1>Inline</h1><script>1</script>")
    context.new_page().goto("http://watch.test/inline/")
    context.close()
    conftest._watches.remove(watch)
    assert watch.blocked and all("script-src" in text for text in watch.blocked)
    assert watch.problems()[0].startswith("broke its Content Security Policy: ")


def test_one_shape_per_page_whatever_its_ids():
    assert conftest.page_shape("http://h/patients/12/") == conftest.page_shape(
        "http://h/patients/40/?tab=1"
    )
    assert conftest.page_shape("http://h/p/abcdefghijklmnopqrstuvwxyzAB/") == "/p/<id>/"
    assert conftest.page_shape("http://h/patients/") != conftest.page_shape("http://h/exercises/")
