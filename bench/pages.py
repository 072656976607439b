"""Measurements 4 and 5: SQL queries per page at two sizes, and search latency.

Both go through Django's test Client, logged in as the bench therapist: the
whole request (middleware, view, template) runs, without a network in between.
"""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import Results, interleaved
from bench.data import SEARCH
from exercises.selectors import exercise_search

SEARCH_URL = f"/exercises/?q={SEARCH}"
# Production redirects plain HTTP to HTTPS (SECURE_SSL_REDIRECT). The bench speaks
# to the app as its TLS-terminating proxy does: plain HTTP with this header
# (SECURE_PROXY_SSL_HEADER), so requests are secure and every production
# setting (HSTS, secure cookies, the redirect itself) stays on.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def logged_in(data) -> Client:
    client = Client(headers=PROXY_HEADERS)
    client.force_login(data.user)  # no password hashing: this is not what is measured
    return client


def get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    if response.streaming:
        b"".join(response.streaming_content)
        response.close()
    return response


def count_queries(client: Client, url: str) -> int:
    get(client, url)  # warm-up: a first request may fill per-process caches
    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)


def query_counts(data, *, size: str) -> dict[str, int]:
    """The counts at one size: ``small`` before ``data.grow()``, ``large`` after."""
    client = logged_in(data)
    counts = {
        "patient list": count_queries(client, "/patients/"),
        "library search": count_queries(client, SEARCH_URL),
    }
    # Prescription size is not changed by grow(): both sizes exist from the start.
    if size == "small":
        for n in (1, 50):
            rx = data.drafts[n].pk
            counts[f"prescription page {n}"] = count_queries(client, f"/prescriptions/{rx}/")
            counts[f"draft handout {n}"] = count_queries(client, f"/prescriptions/{rx}/handout.pdf")
    return counts


def report_query_counts(results: Results, small: dict, large: dict) -> None:
    pairs = [
        ("patient list (/patients/)", "10 → 1,000 patients", "patient list", "patient list"),
        (
            "library search (/exercises/?q=…)",
            "100 → 10,000 exercises",
            "library search",
            "library search",
        ),
        ("prescription page", "1 → 50 exercises", "prescription page 1", "prescription page 50"),
        ("draft handout PDF (rendered)", "1 → 50 exercises", "draft handout 1", "draft handout 50"),
    ]
    for page, sizes, small_key, large_key in pairs:
        # Patients and exercises grow between the two counts; a prescription's
        # size is which prescription is asked for, both counted at the start.
        at_small = small[small_key]
        at_large = large[small_key] if large_key == small_key else small[large_key]
        results.add(
            f"SQL queries: {page}, {sizes}",
            at_large,
            "queries",
            goal="the same count at both sizes",
            met=at_small == at_large,
            floor_name="count at the smaller size",
            floor_value=at_small,
        )


def measure_search_latency(results: Results, data) -> None:
    client = logged_in(data)
    matches = exercise_search(clinic=data.clinic, query=SEARCH).count()
    if not matches:
        raise RuntimeError(f"{SEARCH_URL} found nothing: the latency would mean nothing")
    times = interleaved(
        {
            "search": lambda: get(client, SEARCH_URL),
            "healthz": lambda: get(client, "/bench/select1"),
            # Not a goal: the same page without a search term, to tell the cost
            # of searching from the cost of the page itself.
            "browse": lambda: get(client, "/exercises/"),
        },
        runs=9,
        warmup=2,
    )
    # Where the time goes: the search request's own SQL, as the database reports it.
    with CaptureQueriesContext(connection) as captured:
        get(client, SEARCH_URL)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    results.add(
        f"library search latency, 10,000 exercises (q={SEARCH}, {matches:,} matches)",
        times["search"]["best"],
        "ms",
        goal="under 3× a page with one trivial query (ratio < 3.00)",
        met=times["search"]["best"] < 3 * times["healthz"]["best"],
        floor_name="/bench/select1: SELECT 1",
        floor_value=times["healthz"]["best"],
        median_ms=times["search"]["median"],
        floor_median_ms=times["healthz"]["median"],
        library_page_without_search_ms=times["browse"]["best"],
        search_sql_ms=sql_ms,
        search_queries=len(captured),
        runs=times["search"]["runs"],
    )
    # The goal above, restated so a page can meet it: what searching adds to the
    # library page. /exercises/ without a term (24 cards and the filter lists) is
    # itself several times /healthz, so no search could come within 3× /healthz.
    results.add(
        f"library search vs the same page without a term, 10,000 exercises (q={SEARCH})",
        times["search"]["best"],
        "ms",
        goal="restated: a search under 3× the library page without one (ratio < 3.00)",
        met=times["search"]["best"] < 3 * times["browse"]["best"],
        floor_name="/exercises/ without a search term",
        floor_value=times["browse"]["best"],
        median_ms=times["search"]["median"],
        floor_median_ms=times["browse"]["median"],
        runs=times["search"]["runs"],
    )
