"""Measurements 3 and 7, each in a fresh Python process: a worker's first handout.

Run by bench/process.py as ``python -m bench.worker cold|memory PRESCRIPTION_ID``
with the bench's environment (settings, database, media); prints one JSON line.

  cold    boots like a gunicorn worker (importing openhep.wsgi: Django set up, the
          WSGI app loaded, and whatever warm-up wsgi.py does), then renders the same
          draft handout twice: the first is what the first patient after a deploy
          or a worker restart waits for, the second is warm.
  memory  the same boot, then one render of a big handout; reports the peak RSS.
"""

import time

START = time.perf_counter()  # before Django is imported: the boot is timed too

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb() -> float:
    """The kernel's own peak RSS of this process image: a cross-check of ru_maxrss."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(mode: str, pk: int) -> dict:
    from openhep.wsgi import application  # noqa: F401  (django.setup(), as a worker does)
    from prescriptions.models import Prescription
    from prescriptions.services import handout_render_draft

    booted = time.perf_counter()
    report = {"boot_ms": (booted - START) * 1000, "rss_after_boot_mb": rss_mb()}
    # handout_render_draft reads the prescription itself; it needs only the id.
    prescription = Prescription(pk=pk)
    renders = 2 if mode == "cold" else 1
    times = []
    for _ in range(renders):
        start = time.perf_counter()
        pdf = handout_render_draft(prescription=prescription)
        times.append((time.perf_counter() - start) * 1000)
    report.update(render_ms=times, pdf_bytes=len(pdf), peak_rss_mb=rss_mb(), vm_hwm_mb=vm_hwm_mb())
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
