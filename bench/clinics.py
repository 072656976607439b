"""Measurement 8 (PostgreSQL only): does a clinic's page cost the same when the
installation holds a hundred clinics as when it holds only that clinic?

Three databases on the bench's server, made from one migrated template with the
library loaded, and filled by the same generator (``populate``), so a clinic's
rows are the same in each:

- ``many``: ``CLINICS`` clinics, one large (``LARGE`` patients) and the rest
  small (``SMALL`` each), their rows interleaved in time order as a live server
  writes them (not one clinic's rows after another's);
- ``one_large`` and ``one_small``: an installation of just the large clinic, or
  just one small one.

Each clinic-facing page is then timed for the small and the large clinic on the
many-clinic database and on its one-clinic installation, in turns, each with its
own logged-in client and its own persistent connection (the default connection
is swapped before each request). The plans of each page's queries are recorded
with EXPLAIN (ANALYZE, BUFFERS). bench/README.md says how this extrapolates to
500 clinics.
"""

import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Prefetch
from django.test import Client

from bench.common import Results, interleaved
from bench.pages import PROXY_HEADERS

CLINICS = 100
LARGE = 5_000  # patients of the one large clinic
# The small clinics together hold 9× the large one, as at 500 clinics (20,000 of
# 200,000 patients): the large clinic is 10 % of every table in both.
SMALL = 455
STAFF = 4  # per clinic: staff0 is the clinic admin, all four prescribe
PRESCRIPTIONS = 2  # per patient; 11 of 12 are issued (a handout each)
ITEMS = 5  # per prescription
AUDIT = 12  # entries per patient
SESSIONS = 4  # a week apart on each issued program, by two patients in three (their page)
PRIVATE_EXERCISES = 5  # per clinic, besides the shared library
SEARCH_WORD = "Raman"  # one patient in nine has it in their last name
GOAL = 1.5
HANDOUT_FILE = "handouts/bench/shared.pdf"  # every handout row points at this one file
PAGES = (
    "patient list",
    "patient list, search",
    "dashboard",
    "email log",
    "audit trail",
    "a patient's page",
    "library",
)


@dataclass
class Installation:
    label: str
    db_name: str
    wrapper: object = None
    clients: dict = field(default_factory=dict)  # size -> logged-in Client
    patient_pk: dict = field(default_factory=dict)  # size -> the patient whose page is timed


@contextmanager
def using(installation: Installation):
    """Make ``installation``'s connection Django's default for the requests inside."""
    saved = connections["default"]
    connections["default"] = installation.wrapper
    try:
        yield
    finally:
        connections["default"] = saved


def measure_clinics(results: Results, *, make_database, started=None) -> None:
    if connection.vendor != "postgresql":
        results.add(
            "many clinics: clinic pages vs a one-clinic installation",
            None,
            "ms",
            goal=f"≤ {GOAL}× (PostgreSQL only)",
            met=None,
            skipped="PostgreSQL only: an installation of many clinics runs PostgreSQL "
            "(docs/capacity.md); SQLite is for one clinic",
        )
        return
    began = time.perf_counter()
    template = make_database("tmpl")
    _prepare_template(template)
    layouts = {
        "many": [(1, LARGE)] + [(k, SMALL) for k in range(2, CLINICS + 1)],
        "one_large": [(1, LARGE)],
        "one_small": [(2, SMALL)],
    }
    installations = {
        key: Installation(f"{CLINICS} clinics" if key == "many" else "one clinic", "")
        for key in layouts
    }
    try:
        snapshot, built = {}, {}
        for key, installation in installations.items():
            t0 = time.perf_counter()
            installation.db_name = make_database(key, template=template)
            installation.wrapper = _wrapper(installation.db_name)
            with using(installation):
                built[key] = populate(layouts[key], snapshot)
            built[key]["seconds"] = round(time.perf_counter() - t0, 1)
            if started is not None:
                print(f"  built {key}: {built[key]}", flush=True)
        build_seconds = time.perf_counter() - began
        for size, (many, one, k, n) in {
            "small": ("many", "one_small", 2, SMALL),
            "large": ("many", "one_large", 1, LARGE),
        }.items():
            for key in (many, one):
                installation = installations[key]
                with using(installation):
                    installation.patient_pk[size] = _patient_pk(k, n)
                    client = Client(headers=PROXY_HEADERS)
                    from clinic.models import User

                    client.force_login(User.objects.get(email=f"staff0@clinic-{k}.example"))
                    installation.clients[size] = client
            _time_pages(results, size, n, installations[many], installations[one])
        _report_data(results, installations, built, snapshot, build_seconds)
    finally:
        for installation in installations.values():
            if installation.wrapper is not None:
                installation.wrapper.close()


# -- building ---------------------------------------------------------------------


def _wrapper(db_name: str):
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {**wrapper.settings_dict, "NAME": db_name}
    return wrapper


def _prepare_template(db_name: str) -> None:
    """Migrate and load the library once; the installations are copies of it."""
    import io

    template = Installation("template", db_name, _wrapper(db_name))
    with using(template):
        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_library", stdout=io.StringIO())
    template.wrapper.close()


def _model_defaults_in_database() -> None:
    """Give the generated tables' columns their models' defaults in the database.

    The generator's INSERTs name the columns it sets; a column a later migration
    adds (with a default on the model, which Django keeps out of the database)
    then takes the model's default instead of breaking the run with a NULL.
    Only this scratch database is altered.
    """
    from django.apps import apps

    tables = set(_SEQUENCES)
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.db_table not in tables:
                continue
            for model_field in model._meta.concrete_fields:
                if model_field.null or not model_field.has_default():
                    continue
                value = model_field.get_db_prep_save(model_field.get_default(), connection)
                cursor.execute(
                    f"ALTER TABLE {model._meta.db_table} "  # noqa: S608
                    f"ALTER COLUMN {connection.ops.quote_name(model_field.column)} SET DEFAULT %s",
                    [value],
                )


def populate(layout: list[tuple[int, int]], snapshot: dict) -> dict:
    """Clinics numbered ``k`` with ``patients`` each, and everything in proportion.

    The generator depends only on ``k`` and the patient's number in the clinic, so
    clinic ``k`` has the same rows in every database it is built in. ``snapshot``
    is filled on the first call (a real 5-exercise handout snapshot and its PDF)
    and reused after.
    """
    from bench.data import FIRST_NAMES, LAST_NAMES

    _model_defaults_in_database()
    params = {"staff": STAFF, "items": ITEMS, "private": PRIVATE_EXERCISES}
    params |= {"first": FIRST_NAMES, "last": LAST_NAMES}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_sizes (k int, n int)")
        cursor.executemany("INSERT INTO bench_sizes VALUES (%s, %s)", layout)
        for statement in _GENERATE_BEFORE_HANDOUTS:
            cursor.execute(statement, params)
    if not snapshot:
        snapshot.update(_real_handout())
    with connection.cursor() as cursor:
        cursor.execute(
            _GENERATE_HANDOUTS,
            {
                "pdf": HANDOUT_FILE,
                "sha": snapshot["sha256"],
                "size": snapshot["pdf_bytes"],
                "snapshot": json.dumps(snapshot["snapshot"]),
            },
        )
        for statement in _GENERATE_AFTER_HANDOUTS:
            cursor.execute(statement, {"staff": STAFF, "audit": AUDIT, "sessions": SESSIONS})
        for table in _SEQUENCES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute("DROP TABLE bench_sizes, bench_patient, bench_rx, bench_staff")
        cursor.execute("VACUUM ANALYZE")
        counts = {}
        for table in _COUNTED:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return {"rows": counts}


def _real_handout() -> dict:
    """The snapshot of a generated 5-exercise prescription, rendered once: every
    handout row carries this snapshot and points at this PDF (list pages never
    open it)."""
    from prescriptions.handouts import render_pdf
    from prescriptions.selectors import handout_snapshot, prescription_for_handout

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM prescriptions_prescription WHERE status = 'issued'")
        pk = cursor.fetchone()[0]
    snap = handout_snapshot(prescription_for_handout(pk))
    pdf = render_pdf(snap, draft=False)
    if default_storage.exists(HANDOUT_FILE):
        default_storage.delete(HANDOUT_FILE)
    default_storage.save(HANDOUT_FILE, ContentFile(pdf))
    return {
        "snapshot": snap,
        "pdf_bytes_by_exercises": _pdf_sizes(snap),
        "pdf_bytes": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "snapshot_json_bytes": len(json.dumps(snap)),
    }


def _pdf_sizes(snap: dict) -> dict[int, int]:
    """Issued-handout PDF sizes for 1, 8 and 20 different library exercises (each with
    its picture), the same clinic and patient: storage per handout (docs/capacity.md)."""
    from exercises.models import Exercise, ExerciseImage
    from prescriptions.handouts import render_pdf
    from prescriptions.selectors import item_snapshot

    exercises = list(
        Exercise.objects.filter(clinic__isnull=True)
        .prefetch_related(
            Prefetch("images", queryset=ExerciseImage.objects.filter(is_main=True), to_attr="main"),
            "steps",
        )
        .order_by("name")[:20]
    )
    items = [item_snapshot(e, dose=e.dose) for e in exercises]
    return {n: len(render_pdf({**snap, "items": items[:n]}, draft=False)) for n in (1, 8, 20)}


_SEQUENCES = (
    "clinic_clinic",
    "clinic_user",
    "clinic_membership",
    "clinic_patient",
    "prescriptions_prescription",
    "prescriptions_prescriptionitem",
    "prescriptions_handout",
    "prescriptions_delivery",
    "clinic_auditentry",
    "exercises_exercise",
    "patientpage_sessionlog",
    "patientpage_sessionexercise",
    "outcomes_response",
    "patientpage_followup",
)
_COUNTED = (
    "clinic_clinic",
    "clinic_user",
    "clinic_patient",
    "prescriptions_prescription",
    "prescriptions_prescriptionitem",
    "prescriptions_handout",
    "prescriptions_delivery",
    "clinic_auditentry",
    "exercises_exercise",
    "patientpage_sessionlog",
    "patientpage_sessionexercise",
    "outcomes_response",
    "patientpage_followup",
)


# Times: each clinic's patients join evenly over two years (the newest now), and
# everything about a patient happens between their first visit and now. Rows are
# inserted in time order across clinics, as a live installation writes them.
_GENERATE_BEFORE_HANDOUTS = (
    """
    INSERT INTO clinic_clinic (name, slug, phone, email, website, address, handout_footer,
        paper_size, brand_colour, created_at, logo, email_message, email_subject, reply_to,
        require_two_factor)
    SELECT 'Clinic ' || k, 'clinic-' || k, '(03) 9000 0000', 'hello@clinic-' || k || '.example',
        '', '', '', 'A4', '#0f5e6e', now() - interval '3 years', '', '', '', '', false
    FROM bench_sizes ORDER BY k
    """,
    """
    INSERT INTO clinic_user (password, is_superuser, first_name, last_name, is_staff,
        is_active, date_joined, email)
    SELECT '!', false, 'Staff', j::text, false, true, now() - interval '3 years',
        'staff' || j || '@clinic-' || k || '.example'
    FROM bench_sizes, generate_series(0, %(staff)s - 1) j ORDER BY k, j
    """,
    """
    CREATE TEMP TABLE bench_staff AS
    SELECT s.k, j, c.id AS clinic_id, u.id AS user_id, u.email
    FROM bench_sizes s
    JOIN clinic_clinic c ON c.slug = 'clinic-' || s.k
    CROSS JOIN generate_series(0, %(staff)s - 1) j
    JOIN clinic_user u ON u.email = 'staff' || j || '@clinic-' || s.k || '.example'
    """,
    """
    INSERT INTO clinic_membership (role, title, clinic_id, user_id)
    SELECT CASE WHEN j = 0 THEN 'admin' ELSE 'therapist' END, 'Myotherapist', clinic_id, user_id
    FROM bench_staff ORDER BY k, j
    """,
    """
    INSERT INTO exercises_exercise (hold_seconds, reps, sets, side, times_per_day,
        days_per_week, name, slug, aliases, summary, indications, why, setup, cues, cautions,
        position, difficulty, video_url, status, created_at, updated_at, clinic_id,
        updated_by_id, language)
    SELECT e.hold_seconds, e.reps, e.sets, e.side, e.times_per_day, e.days_per_week,
        e.name || ' (clinic ' || s.k || ')', e.slug || '-clinic-' || s.k, e.aliases, e.summary,
        e.indications, e.why, e.setup, e.cues, e.cautions, e.position, e.difficulty,
        e.video_url, e.status, now(), now(), c.id, NULL, e.language
    FROM bench_sizes s JOIN clinic_clinic c ON c.slug = 'clinic-' || s.k
    CROSS JOIN (SELECT * FROM exercises_exercise WHERE clinic_id IS NULL
                ORDER BY name LIMIT %(private)s) e
    ORDER BY s.k, e.name
    """,
    """
    CREATE TEMP TABLE bench_patient AS
    SELECT row_number() OVER (ORDER BY created_at, k, i) AS id, *
    FROM (
        SELECT s.k, i, s.n, c.id AS clinic_id,
            now() - interval '730 days' * ((s.n - i - 0.5) / s.n) + s.k * interval '1 ms'
                AS created_at
        FROM bench_sizes s JOIN clinic_clinic c ON c.slug = 'clinic-' || s.k
        CROSS JOIN LATERAL generate_series(0, s.n - 1) i
    ) p
    """,
    """
    INSERT INTO clinic_patient (id, first_name, last_name, preferred_name, date_of_birth,
        email, phone, notes, email_consent, email_consent_at, archived, created_at, updated_at,
        clinic_id, created_by_id, email_consent_by_id)
    SELECT p.id, (%(first)s::text[])[i %% 10 + 1], (%(last)s::text[])[i %% 9 + 1] || '-' || i, '',
        date '1960-01-01' + (i * 37) %% 18000, 'patient' || i || '@patient.example',
        '0400 ' || lpad((i %% 1000000)::text, 6, '0'), '', true, p.created_at,
        i %% 20 = 19, p.created_at, p.created_at, p.clinic_id, st.user_id, st.user_id
    FROM bench_patient p JOIN bench_staff st ON st.k = p.k AND st.j = p.i %% %(staff)s
    ORDER BY p.id
    """,
    """
    CREATE TEMP TABLE bench_rx AS
    SELECT row_number() OVER (ORDER BY created_at, k, i, r) AS id, *
    FROM (
        SELECT p.id AS patient_id, p.k, p.i, r, p.clinic_id,
            p.created_at + (now() - p.created_at) * (0.05 + 0.45 * r) AS created_at,
            (r = 0 OR p.i %% 6 <> 0) AS issued, st.user_id AS therapist_id
        FROM bench_patient p CROSS JOIN generate_series(0, 1) r
        JOIN bench_staff st ON st.k = p.k AND st.j = p.i %% %(staff)s
    ) x
    """,
    """
    INSERT INTO prescriptions_prescription (id, title, advice, status, review_date,
        created_at, updated_at, issued_at, clinic_id, patient_id, therapist_id, large_print,
        log_weeks, supersedes_id)
    SELECT id, 'Home program ' || (r + 1),
        'Move slowly and breathe out as you stretch. Stop if anything hurts.',
        CASE WHEN issued THEN 'issued' ELSE 'draft' END, NULL, created_at,
        created_at + interval '10 minutes',
        CASE WHEN issued THEN created_at + interval '10 minutes' END,
        clinic_id, patient_id, therapist_id, false, 1, NULL
    FROM bench_rx ORDER BY id
    """,
    """
    INSERT INTO prescriptions_prescriptionitem (hold_seconds, reps, sets, side, times_per_day,
        days_per_week, "order", note, exercise_id, prescription_id)
    SELECT 30, 10, 3, 'each', 2, 7, m, CASE WHEN m = 0 THEN 'Gently.' ELSE '' END,
        ex.ids[(rx.i * 7 + rx.r * 3 + m) %% array_length(ex.ids, 1) + 1], rx.id
    FROM bench_rx rx CROSS JOIN generate_series(0, %(items)s - 1) m
    CROSS JOIN (SELECT array_agg(id ORDER BY name) AS ids FROM exercises_exercise
                WHERE clinic_id IS NULL) ex
    ORDER BY rx.id, m
    """,
)

_GENERATE_HANDOUTS = """
    INSERT INTO prescriptions_handout (pdf, sha256, size, snapshot, created_at, prescription_id)
    SELECT %(pdf)s, %(sha)s, %(size)s, %(snapshot)s::jsonb, created_at + interval '10 minutes', id
    FROM bench_rx WHERE issued ORDER BY id
"""

_GENERATE_AFTER_HANDOUTS = (
    # Three issued handouts in five are emailed (0.55 a prescription, as measured before).
    """
    INSERT INTO prescriptions_delivery (recipient, request_key, status, attempts, last_error,
        message_id, created_at, updated_at, sent_at, requested_by_id, prescription_id,
        extra_recipient, message, next_attempt_at, clinic_id)
    SELECT 'patient' || i || '@patient.example', NULL, 'sent', 1, '',
        '<' || id || '@bench.example>', created_at + interval '11 minutes',
        created_at + interval '12 minutes', created_at + interval '12 minutes', therapist_id, id,
        '', '', NULL, clinic_id
    FROM bench_rx WHERE issued AND i %% 5 < 3 ORDER BY id
    """,
    """
    INSERT INTO clinic_auditentry (at, actor_email, action, patient_ref, target, detail,
        ip_address, actor_id, clinic_id, patient_id)
    SELECT p.created_at + (now() - p.created_at) * ((e + 0.5) / %(audit)s), st.email,
        (ARRAY['view','view','view','create','change','print','email','view'])[e %% 8 + 1],
        p.id, 'patient ' || p.id, '', '10.0.0.1', st.user_id, p.clinic_id, p.id
    FROM bench_patient p CROSS JOIN generate_series(0, %(audit)s - 1) e
    JOIN bench_staff st ON st.k = p.k AND st.j = (p.i + e) %% %(staff)s
    ORDER BY 1
    """,
    # The patient's page (issue 17): two patients in three log sessions, a week apart,
    # rating their pain every other time and now and then leaving a note.
    """
    INSERT INTO patientpage_sessionlog (clinic_id, patient_id, prescription_id, link_id,
        client_ref, source, entered_by_id, started_at, finished_at, pain, note, created_at,
        updated_at)
    SELECT rx.clinic_id, rx.patient_id, rx.id, NULL, md5('session-' || rx.id || '-' || s)::uuid,
        'page', NULL, x.at, x.at + interval '15 minutes',
        CASE WHEN s %% 2 = 0 THEN (rx.i + s) %% 9 END,
        CASE WHEN s = 2 AND rx.i %% 4 = 0 THEN 'A little sore the next morning.' ELSE '' END,
        x.at, x.at
    FROM bench_rx rx CROSS JOIN generate_series(0, %(sessions)s - 1) s
    CROSS JOIN LATERAL (SELECT rx.created_at + interval '1 day' + s * interval '7 days' AS at) x
    WHERE rx.issued AND rx.i %% 3 <> 2 AND x.at < now()
    ORDER BY x.at
    """,
    # Each session ticks the program's exercises, the last one now and then "too hard".
    """
    INSERT INTO patientpage_sessionexercise (session_id, item_id, done, difficulty)
    SELECT sl.id, it.id, true,
        CASE WHEN it."order" = 4 AND sl.patient_id %% 7 = 0 THEN 'hard' ELSE '' END
    FROM patientpage_sessionlog sl
    JOIN prescriptions_prescriptionitem it ON it.prescription_id = sl.prescription_id
    ORDER BY sl.id, it."order"
    """,
    # Outcome measures (issue 18): one patient in three rates their pain on the bundled
    # scale at the start of the first program and again four weeks later.
    """
    INSERT INTO outcomes_response (clinic_id, patient_id, questionnaire_id, prescription_id,
        schedule_id, answers, score, source, entered_by_id, answered_at, created_at)
    SELECT rx.clinic_id, rx.patient_id, q.id, rx.id, NULL,
        jsonb_build_object('now', 3 + (rx.i + w) %% 5, 'average', 3 + (rx.i + 2 * w) %% 5),
        (6 + (rx.i + w) %% 5 + (rx.i + 2 * w) %% 5) / 2.0, 'page', NULL, x.at, x.at
    FROM bench_rx rx CROSS JOIN generate_series(0, 1) w
    CROSS JOIN (SELECT id FROM outcomes_questionnaire
                WHERE slug = 'pain-rating' AND clinic_id IS NULL ORDER BY version LIMIT 1) q
    CROSS JOIN LATERAL (SELECT rx.created_at + w * interval '28 days' AS at) x
    WHERE rx.issued AND rx.r = 0 AND rx.i %% 3 = 0 AND x.at < now()
    ORDER BY x.at
    """,
    # The dashboard's calls (issue 17): one patient in ten has one open, about their
    # latest session, and another in ten had one that staff handled.
    """
    INSERT INTO patientpage_followup (clinic_id, patient_id, prescription_id, session_id,
        response_id, reason, created_at, handled_at, handled_by_id)
    SELECT DISTINCT ON (sl.patient_id) sl.clinic_id, sl.patient_id, sl.prescription_id, sl.id,
        NULL, CASE WHEN p.i %% 10 = 0 THEN 'pain_high' ELSE 'note' END,
        sl.started_at + interval '20 minutes',
        CASE WHEN p.i %% 10 = 1 THEN least(now(), sl.started_at + interval '1 day') END,
        CASE WHEN p.i %% 10 = 1 THEN st.user_id END
    FROM patientpage_sessionlog sl JOIN bench_patient p ON p.id = sl.patient_id
    JOIN bench_staff st ON st.k = p.k AND st.j = p.i %% %(staff)s
    WHERE p.i %% 10 < 2
    ORDER BY sl.patient_id, sl.started_at DESC
    """,
)


def _patient_pk(k: int, n: int) -> int:
    """The clinic's newest patient (two prescriptions, handouts, emails, a trail)."""
    from clinic.models import Patient

    i = n - 2  # n - 1 is archived (every 20th patient is)
    return Patient.objects.get(clinic__slug=f"clinic-{k}", email=f"patient{i}@patient.example").pk


# -- timing -------------------------------------------------------------------------


def _request(installation: Installation, size: str, page: str):
    client = installation.clients[size]
    with using(installation):
        if page == "patient list":
            response = client.get("/patients/")
        elif page == "patient list, search":
            response = client.post("/patients/", {"q": SEARCH_WORD})
        elif page == "dashboard":
            response = client.get("/")
        elif page == "email log":
            response = client.get("/clinic/deliveries/")
        elif page == "audit trail":
            response = client.get("/clinic/audit/")
        elif page == "a patient's page":
            response = client.get(f"/patients/{installation.patient_pk[size]}/")
        else:
            response = client.get("/exercises/")
    if response.status_code != 200:
        raise RuntimeError(f"{page} ({installation.label}, {size}): {response.status_code}")
    return response


def _time_pages(results: Results, size: str, patients: int, many, one) -> None:
    variants = {}
    for page in PAGES:
        variants[(page, "many")] = lambda page=page: _request(many, size, page)
        variants[(page, "one")] = lambda page=page: _request(one, size, page)
    times = interleaved(variants, runs=11, warmup=2)
    for page in PAGES:
        value, floor = times[(page, "many")], times[(page, "one")]
        diagnosis = _diagnose(many, size, page)
        floor_diagnosis = _diagnose(one, size, page)
        results.add(
            f"many clinics: {page}, {size} clinic ({patients:,} patients), "
            f"{CLINICS} clinics vs one",
            value["best"],
            "ms",
            goal=f"≤ {GOAL}× the same page on an installation of that clinic alone",
            met=value["best"] <= GOAL * floor["best"],
            floor_name="the same page, one-clinic installation",
            floor_value=floor["best"],
            median_ms=value["median"],
            floor_median_ms=floor["median"],
            runs=value["runs"],
            queries=diagnosis["queries"],
            floor_queries=floor_diagnosis["queries"],
            sql_ms=diagnosis["sql_ms"],
            floor_sql_ms=floor_diagnosis["sql_ms"],
            plans=diagnosis["plans"],
            floor_plans=floor_diagnosis["plans"],
        )


def _diagnose(installation: Installation, size: str, page: str) -> dict:
    """The page's queries on this installation, with EXPLAIN (ANALYZE, BUFFERS) of each
    SELECT that reads the clinic's data (not the session and the signed-in user)."""
    from django.test.utils import CaptureQueriesContext

    with using(installation):
        with CaptureQueriesContext(connections["default"]) as captured:
            _request(installation, size, page)
        plans = []
        with connections["default"].cursor() as cursor:
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.startswith("SELECT") or "django_session" in sql:
                    continue
                if 'FROM "clinic_user"' in sql and '"clinic_user"."id" =' in sql:
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                lines = [row[0] for row in cursor.fetchall()]
                plans.append({"sql": sql[:300], "ms": float(query["time"]) * 1000, "plan": lines})
    return {
        "queries": len(captured),
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
        "plans": plans,
    }


# -- the data set, for bench/README.md and docs/capacity.md --------------------------


def _report_data(results: Results, installations, built, snapshot, build_seconds) -> None:
    many = installations["many"]
    with using(many), connections["default"].cursor() as cursor:
        sizes = {}
        for table in _COUNTED + ("clinic_membership",):
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            sizes[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    rows = built["many"]["rows"]
    handouts = rows["prescriptions_handout"]
    per_100k = sum(sizes.values()) * 100_000 / handouts
    results.add(
        f"many clinics: the data set ({CLINICS} clinics, {rows['clinic_patient']:,} patients)",
        round(build_seconds, 1),
        "s to build",
        goal="(the data the pages above were timed on; no goal)",
        met=None,
        rows=rows,
        rows_one_large=built["one_large"]["rows"],
        rows_one_small=built["one_small"]["rows"],
        seconds_per_database={key: b["seconds"] for key, b in built.items()},
        table_bytes=sizes,
        database_bytes=database_bytes,
        clinic_tables_mb_per_100k_handouts=round(per_100k / 1024 / 1024, 1),
        handout_pdf_bytes_5_exercises=snapshot["pdf_bytes"],
        handout_pdf_bytes_by_exercises=snapshot["pdf_bytes_by_exercises"],
        handout_snapshot_json_bytes=snapshot["snapshot_json_bytes"],
    )
