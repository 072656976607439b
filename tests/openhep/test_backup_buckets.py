"""Reading a back-up's bucket files several at a time: the same order and bytes as one
at a time, at most the window waiting, missing files reported, nothing left behind
when the archive stops early. Concurrency is shown by readers meeting at a barrier,
not by timing."""

import io
import threading

import pytest

from openhep.backup import buckets


class Storage:
    """A bucket stand-in: ``size`` and ``open`` like a Django storage; ``gate`` holds
    every read until ``readers`` reads are under way at once."""

    def __init__(self, files: dict[str, bytes], *, gate: threading.Barrier | None = None):
        self.files, self.gate = files, gate
        self.lock = threading.Lock()
        self.reading = self.most = self.opened = 0

    def size(self, name):
        if name not in self.files:
            raise FileNotFoundError(name)
        return len(self.files[name])

    def open(self, name, mode="rb"):
        with self.lock:
            self.opened += 1
            self.reading += 1
            self.most = max(self.most, self.reading)
        try:
            if self.gate is not None:
                self.gate.wait(timeout=10)
            return io.BytesIO(self.files[name])
        finally:
            with self.lock:
                self.reading -= 1


def jobs(storage, names):
    return [buckets.Job(f"media/{n}", n, "default", storage) for n in names]


def test_files_come_back_in_order_read_at_once(tmp_path):
    names = [f"f{n:02}" for n in range(12)]
    storage = Storage({n: n.encode() * 1000 for n in names}, gate=threading.Barrier(4))
    got = list(
        buckets.fetched_in_order(jobs(storage, names), previous=None, readers=4, work=tmp_path)
    )
    assert [f.job.name for f in got] == names
    assert [f.file.read() for f in got] == [storage.files[n] for n in names]
    assert storage.most == 4  # four readers met at the gate: they read at once


def test_one_reader_reads_one_at_a_time(tmp_path):
    storage = Storage({"a": b"1", "b": b"22"})
    got = list(
        buckets.fetched_in_order(jobs(storage, ["a", "b"]), previous=None, readers=1, work=tmp_path)
    )
    assert [(f.size, f.file.read()) for f in got] == [(1, b"1"), (2, b"22")]
    assert storage.most == 1


def test_a_missing_file_is_reported_not_raised(tmp_path):
    storage = Storage({"a": b"1"})
    got = list(
        buckets.fetched_in_order(
            jobs(storage, ["a", "gone"]), previous=None, readers=2, work=tmp_path
        )
    )
    assert [f.missing for f in got] == [False, True]
    assert got[1].add_to(None) is None


def test_no_more_than_the_window_waits(tmp_path):
    names = [f"f{n:03}" for n in range(100)]
    storage = Storage({n: b"x" for n in names})
    stream = buckets.fetched_in_order(jobs(storage, names), previous=None, readers=3, work=tmp_path)
    first = next(stream)
    # Handing back the first meant waiting for it only: at most the window was asked for.
    assert storage.opened <= 2 * 3
    first.discard()
    stream.close()  # the archive stopped: nothing more is read
    assert storage.opened <= 2 * 3


def test_a_read_that_fails_stops_the_back_up(tmp_path):
    class Broken(Storage):
        def open(self, name, mode="rb"):
            raise PermissionError("AccessDenied")

    storage = Broken({"a": b"1"})
    with pytest.raises(PermissionError):
        list(
            buckets.fetched_in_order(jobs(storage, ["a"]), previous=None, readers=2, work=tmp_path)
        )
