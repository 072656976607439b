"""Measurement 10: reading a back-up's files from a bucket several at a time.

A bucket answers each request after a round trip. Here the bucket is moto's local
S3 server behind a small proxy that holds each request for a delay before passing
it on: 0 (moto's own cost, the ceiling of this machine) and ``DELAY`` (20 ms: a
bucket in another data centre of the same region), so a request costs what it
costs over a network. ``FILES`` handout-sized objects
(40 KiB) are read through the storage ``MEDIA_STORAGE=s3`` makes (django-storages,
the same calls ``manage.py backup`` makes: a size, then the object), with
``openhep.backup.buckets.fetched_in_order`` at 1, 4, 8 and 16 readers, each run
``REPEAT`` times in turns; the median is kept.

Run: ``.venv/bin/python -m bench.backup_buckets [FILES] [DELAY_MS]``; writes
``bench/results-backup-buckets.json``. docs/capacity.md reads the result.
"""

import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

FILES = 300
DELAY = 0.020
SIZE = 40 * 1024
READERS = (1, 4, 8, 16)
REPEAT = 3
BUCKET = "openhep-bench"
OUT = Path(__file__).with_name("results-backup-buckets.json")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_delaying_proxy(upstream_port: int, delay: float) -> int:
    """A TCP proxy to ``upstream_port`` that holds each chunk a client sends (a
    request) for ``delay`` seconds: one round trip per request."""
    port = free_port()

    async def pipe(reader, writer, hold: float):
        try:
            while data := await reader.read(65536):
                if hold:
                    await asyncio.sleep(hold)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(client_reader, client_writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(
            pipe(client_reader, up_writer, delay), pipe(up_reader, client_writer, 0)
        )

    ready = threading.Event()

    def run():
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", port))
        ready.set()
        loop.run_until_complete(server.serve_forever())

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)
    return port


def measure(jobs, files: int) -> list[dict]:
    from openhep.backup import buckets

    times: dict[int, list[float]] = {r: [] for r in READERS}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(REPEAT):
            for readers in READERS:
                start = time.perf_counter()
                count = 0
                for fetched in buckets.fetched_in_order(
                    jobs, previous=None, readers=readers, work=Path(work)
                ):
                    assert fetched.size == SIZE
                    fetched.discard()
                    count += 1
                times[readers].append(time.perf_counter() - start)
                assert count == files
    one = statistics.median(times[1])
    return [
        {
            "readers": readers,
            "seconds": round(statistics.median(times[readers]), 2),
            "files_per_second": round(files / statistics.median(times[readers]), 1),
            "speedup": round(one / statistics.median(times[readers]), 2),
        }
        for readers in READERS
    ]


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else FILES
    delay = float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else DELAY
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    moto_port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    server.start()
    proxies = {ms: start_delaying_proxy(moto_port, ms / 1000) for ms in (0, delay * 1000)}
    os.environ.update(
        DJANGO_SETTINGS_MODULE="openhep.settings",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench"),
        DEBUG="1",
        MEDIA_STORAGE="s3",
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
        S3_REGION="us-east-1",
        S3_ADDRESSING_STYLE="path",
        S3_ACCESS_KEY_ID="bench",
        S3_SECRET_ACCESS_KEY="bench",
    )
    import boto3
    import django

    django.setup()
    from storages.backends.s3 import S3Storage

    from openhep.backup import buckets

    direct = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    )
    direct.create_bucket(Bucket=BUCKET)
    body = os.urandom(SIZE)
    names = [f"handouts/{n:05}/handout.pdf" for n in range(files)]
    for name in names:
        direct.put_object(Bucket=BUCKET, Key=f"private/{name}", Body=body)
    results = []
    for ms, port in proxies.items():
        # The storage MEDIA_STORAGE=s3 makes for private files, through this proxy.
        storage = S3Storage(
            bucket_name=BUCKET,
            location="private",
            endpoint_url=f"http://127.0.0.1:{port}",
            access_key="bench",
            secret_key="bench",
            region_name="us-east-1",
            addressing_style="path",
            default_acl="private",
        )
        jobs = [buckets.Job(f"media/{n}", n, "default", storage) for n in names]
        rows = measure(jobs, files)
        results.append({"delay_ms": ms, "rows": rows})
        for row in rows:
            print(
                f"{ms:>4g} ms: {row['readers']:>3} readers: {row['seconds']:>6} s, "
                f"{row['files_per_second']:>7} files/s, {row['speedup']}x"
            )
    server.stop()
    OUT.write_text(
        json.dumps({"files": files, "file_bytes": SIZE, "runs": results}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
