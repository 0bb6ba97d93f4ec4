"""Storage benchmark on SQLite, PostgreSQL and MariaDB: the reads behind the flow API at depth,
streaming export/import, and ingest with pictures while reads are served.

    python benchmarks/storage.py [--databases sqlite,postgresql,mariadb] [--flows 1000000]
                                 [--dir bench-data] [--keep] [--runs 50] [--ingest-seconds 20]

For each database named in ``--databases``:

1. Build. A database of ``--flows`` flows (10 cameras ``cam_0``..``cam_9``, one year of timestamps
   evenly spread, Brazilian-style plates such as ``abc1d23``, 10% without a plate, half of them manual),
   made through the storage's own bulk path, ``import_flows`` with its default batches, so counters and
   indexes are the ones the storage keeps itself. SQLite lives in ``DIR/sqlite_<N>/``; on the servers
   the database is ``seedata_bench_<N>`` (pictures directory ``DIR/<db>_<N>/``). With ``--keep`` a
   database already holding exactly N flows is reused, and nothing is dropped at the end; without it
   the database is built afresh and dropped afterwards.
2. Reads. Each case calls ``Seedata.page_flows(where, PageRequest(page, per_page=20))`` in process:
   the code GET /flows and POST /flows/search run, minus HTTP and JSON (the filters are parsed by
   ``Seedata.parse_filter`` from the JSON the client would send). Every call includes the total count
   the API returns with the page. ``--runs`` timed calls per case after one untimed call, single
   thread, with varied parameters: page 1; a random page within 40-60% of the pages (the page
   farthest from either end); page 250,000, or the last page when there are fewer; plate ``like`` a
   3-4 character substring of a random stored plate; page 10 of a 3-character one; a 1-2 character
   one (a user's first keystrokes), on page 1 and on a random page within 40-60% of its pages (the
   farthest from either end); one random camera over one random day
   (``>=`` day, ``<`` next day). Prints p50/p95/max and the median total per case. A call that fails
   (a statement timeout, say) is counted in the ``errors`` column and left out of the percentiles.
3. Export/import. ``export_lines`` (what ``seedata flows export`` runs) over all flows to a file in
   ``DIR``, then ``read_lines`` + ``import_flows`` (what ``seedata flows import`` runs, batches of
   40,000 as its default) of that file into a fresh database (``seedata_bench_<N>_copy`` or
   ``DIR/sqlite_<N>_copy/``); flows/s for each. No pictures (issue 5's target: >= 20,000 flows/s).
4. Ingest while reading, on that copy, once per count of ``--writers`` (default 1 and 16: one busy
   camera, and many): that many threads, each a camera's, add flows with a 50 KB picture and a 5 KB
   crop through ``add_flow`` as fast as they can for ``--ingest-seconds``, while another thread
   loops page 1 of all flows. Prints flows/s (target >= 200) and the read p50/p95 meanwhile. The
   copy is dropped.

Prints the conditions (CPU, cores, database versions, flows, build time) and one table per database.
Progress goes to stderr. The servers are reached through admin URLs (``--postgresql-url``,
``--mariadb-url``; defaults from ``SEEDATA_TEST_POSTGRESQL_URL``/``SEEDATA_TEST_MARIADB_URL`` as the
test suites use, else ``postgresql://postgres@127.0.0.1:5432/postgres`` and
``mariadb://root@127.0.0.1:3306/``), which must be allowed to create and drop databases.

Time it takes on 2 cores (AMD EPYC): at 1M flows about 15 minutes for all three (per database
4-6 minutes: build and copy import 40-100 s each, reads under a minute, two ingest phases). At 10M
flows (``--flows 10000000 --keep --no-transfer``) the builds took 15 (SQLite), 18 (PostgreSQL) and 22
(MariaDB) minutes, as bulk rates fall when the indexes outgrow the caches (MariaDB's stock 128 MB buffer
pool: 13,000 -> 3,300 flows/s by 3.5M flows; 13,300 again with 2 GB), and 3.5, 6.8 and 3.9 GB of disk.
MariaDB with a 4 GB pool on 2 Intel Xeon cores: 10 minutes. Re-measure the reads with ``--keep
--no-transfer`` without rebuilding. The conditions name the servers' caches, which decide the rates at
depth: set MariaDB's pool with ``SET GLOBAL innodb_buffer_pool_size`` before a run.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from common import START, bench_flows, cpu_model, plate
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from seedata_core.errors import SeedataError
from seedata_core.filter_ast import Node
from seedata_core.models import FlowImages, NewCamera, NewFlow
from seedata_core.pagination import PageRequest
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_core.transfer import CameraIds, export_lines, read_lines

DATABASES = ("sqlite", "postgresql", "mariadb")
CAMERAS = 10
DAYS = 365
PER_PAGE = 20
DEEP_PAGE = 250_000
PROGRESS_EVERY = 100_000
T = TypeVar("T")
DRIVERS = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql"}


# -- databases -----------------------------------------------------------------------------------
@dataclass
class Target:
    """One database kind: where its benchmark databases live, and how to make and drop them."""

    kind: str
    work_dir: Path
    admin_url: str | None = None
    _admin: Engine | None = field(default=None, repr=False)

    def settings(self, name: str) -> Settings:
        data_dir = self.work_dir / f"{self.kind}_{name}"
        if self.admin_url is None:
            return Settings(data_dir=str(data_dir), timezone="UTC")
        url = make_url(self.admin_url).set(database=f"seedata_bench_{name}")
        return Settings(
            data_dir=str(data_dir), database_url=url.render_as_string(hide_password=False), timezone="UTC"
        )

    def drop(self, name: str) -> None:
        shutil.rmtree(self.work_dir / f"{self.kind}_{name}", ignore_errors=True)
        if self.admin_url is not None:
            quoted = f'"seedata_bench_{name}"' if self.kind == "postgresql" else f"`seedata_bench_{name}`"
            force = " WITH (FORCE)" if self.kind == "postgresql" else ""
            with self.admin().connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}{force}"))

    def create(self, name: str) -> None:
        """A new empty database (dropping one of that name first)."""
        self.drop(name)
        if self.kind == "postgresql":
            with self.admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "seedata_bench_{name}"'))
        elif self.kind == "mariadb":
            with self.admin().connect() as conn:
                conn.execute(text(f"CREATE DATABASE `seedata_bench_{name}` CHARACTER SET utf8mb4"))

    def exists(self, name: str) -> bool:
        if self.admin_url is None:
            return (self.work_dir / f"{self.kind}_{name}" / "seedata.db").exists()
        query = (
            "SELECT 1 FROM pg_database WHERE datname = :name"
            if self.kind == "postgresql"
            else "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
        )
        with self.admin().connect() as conn:
            return conn.execute(text(query), {"name": f"seedata_bench_{name}"}).first() is not None

    def version(self) -> str:
        if self.admin_url is None:
            return f"SQLite {sqlite3.sqlite_version}"
        # The server's cache: how much of the indexes stays in memory decides the rates at depth.
        with self.admin().connect() as conn:
            raw = str(conn.execute(text("SELECT version()")).scalar())
            if self.kind == "postgresql":
                cache = f"shared_buffers {conn.execute(text('SHOW shared_buffers')).scalar()}"
            else:
                pool = int(conn.execute(text("SELECT @@innodb_buffer_pool_size")).scalar() or 0)
                cache = f"innodb_buffer_pool_size {pool // 2**20:,} MiB"
        name = raw.split(" on ", maxsplit=1)[0] if self.kind == "postgresql" else f"MariaDB {raw}"
        return f"{name}, {cache}"

    def admin(self) -> Engine:
        if self._admin is None:
            assert self.admin_url is not None
            url = make_url(self.admin_url)
            url = url.set(drivername=DRIVERS[self.kind])
            self._admin = create_engine(url, isolation_level="AUTOCOMMIT")
        return self._admin

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


# -- data ----------------------------------------------------------------------------------------
def counted(items: Iterable[T], label: str, total: int) -> Iterator[T]:
    """``items`` unchanged, with a progress line on stderr every 100,000."""
    started = time.perf_counter()
    done = 0
    for done, item in enumerate(items, start=1):
        yield item
        if done % PROGRESS_EVERY == 0:
            rate = done / (time.perf_counter() - started)
            print(f"  {label}: {done:,} / {total:,} ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def build(target: Target, n: int, keep: bool) -> float | None:
    """Make ``seedata_bench_<n>`` through ``import_flows``; seconds taken, ``None`` when reused."""
    name = str(n)
    if keep and target.exists(name):
        with Seedata.open(target.settings(name)) as seedata:
            where = seedata.parse_filter(None)
            if seedata.storage.count_flows(where) == n and len(seedata.storage.list_cameras()) == CAMERAS:
                print(f"{target.kind}: reusing seedata_bench_{name}", file=sys.stderr)
                return None
    target.create(name)
    print(f"{target.kind}: building {n:,} flows", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with Seedata.open(target.settings(name)) as seedata:
        camera_ids = [
            seedata.storage.add_camera(NewCamera(alias=f"cam_{i}", source=f"/v/{i}.mp4")).id
            for i in range(CAMERAS)
        ]
        flows = counted(bench_flows(n, camera_ids, days=DAYS), f"{target.kind} build", n)
        result = seedata.storage.import_flows(flows)
        if result.added != n:
            raise SystemExit(f"{target.kind}: built {result.added} flows, wanted {n}")
    return time.perf_counter() - started


# -- reads ---------------------------------------------------------------------------------------
@dataclass
class Row:
    """Timings of one case, in milliseconds."""

    case: str
    times: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    errors: int = 0
    error: str = ""

    def cells(self) -> str:
        if not self.times:
            return f"{self.case:<40} {'-':>8} {'-':>8} {'-':>8} {'-':>10} {self.errors:>6}  {self.error}"
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        total = int(statistics.median(self.totals))
        return (
            f"{self.case:<40} {statistics.median(ordered):>8.2f} {p95:>8.2f} {ordered[-1]:>8.2f} "
            f"{total:>10,} {self.errors:>6}  {self.error}"
        )


HEADER = (
    f"{'case (page_flows, 20 a page, with total)':<40} "
    f"{'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'total':>10} {'errors':>6}"
)


def timed(seedata: Seedata, row: Row, where: Node, page: int) -> None:
    started = time.perf_counter()
    try:
        result, _ = seedata.page_flows(where, PageRequest(page=page, per_page=PER_PAGE))
    except SeedataError as exc:
        row.errors += 1
        row.error = row.error or f"{type(exc).__name__}: {exc}"[:80]
        return
    row.times.append((time.perf_counter() - started) * 1000)
    row.totals.append(result.total)


def sample_plates(
    seedata: Seedata, n: int, count: int, rng: random.Random, sizes: tuple[int, ...]
) -> list[str]:
    """``count`` substrings, of one of ``sizes`` characters, of plates of random stored flows."""
    parts: list[str] = []
    while len(parts) < count:
        flow = seedata.storage.get_flow(rng.randint(1, n))
        if flow is None or not flow.plate:
            continue
        size = rng.choice(sizes)
        at = rng.randint(0, len(flow.plate) - size)
        parts.append(flow.plate[at : at + size])
    return parts


def cases(
    seedata: Seedata, n: int, runs: int
) -> list[tuple[str, Callable[[random.Random], tuple[Node, int]]]]:
    """Each case: its label, and a maker of one call's (filter, page) from a random source."""
    last = max(1, -(-n // PER_PAGE))
    deep = min(DEEP_PAGE, last)
    everything = seedata.parse_filter(None)
    plates = iter(sample_plates(seedata, n, runs + 1, random.Random(7), (3, 4)))
    deeper = iter(sample_plates(seedata, n, runs + 1, random.Random(8), (3,)))
    short = iter(sample_plates(seedata, n, runs + 1, random.Random(9), (1, 2)))
    short_deep = iter(sample_plates(seedata, n, runs + 1, random.Random(10), (1, 2)))

    def like(_: random.Random) -> tuple[Node, int]:
        return seedata.parse_filter({"plate": {"like": next(plates)}}), 1

    def like_page_10(_: random.Random) -> tuple[Node, int]:
        return seedata.parse_filter({"plate": {"like": next(deeper)}}), 10

    def like_short(_: random.Random) -> tuple[Node, int]:
        return seedata.parse_filter({"plate": {"like": next(short)}}), 1

    def like_short_middle(rng: random.Random) -> tuple[Node, int]:
        where = seedata.parse_filter({"plate": {"like": next(short_deep)}})
        pages = max(1, -(-seedata.storage.count_flows(where) // PER_PAGE))
        return where, rng.randint(max(1, pages * 4 // 10), max(1, pages * 6 // 10))

    def camera_day(rng: random.Random) -> tuple[Node, int]:
        day = START + timedelta(days=rng.randrange(DAYS))
        raw = {
            "camera": f"cam_{rng.randrange(CAMERAS)}",
            "timestamp": {">=": f"{day:%Y-%m-%d}", "<": f"{day + timedelta(days=1):%Y-%m-%d}"},
        }
        return seedata.parse_filter(raw), 1

    return [
        ("GET /flows page 1", lambda _: (everything, 1)),
        (
            f"GET /flows page ~{last // 2:,} (40-60%)",
            lambda rng: (everything, rng.randint(max(1, last * 4 // 10), max(1, last * 6 // 10))),
        ),
        (f"GET /flows page {deep:,}{' (last)' if deep == last else ''}", lambda _: (everything, deep)),
        ("POST /flows/search plate like 3-4", like),
        ("POST /flows/search plate like 3, page 10", like_page_10),
        ("POST /flows/search plate like 1-2", like_short),
        ("POST /flows/search plate like 1-2, page at 40-60%", like_short_middle),
        ("POST /flows/search camera + 1 day", camera_day),
    ]


def measure_reads(seedata: Seedata, n: int, runs: int) -> list[Row]:
    rng = random.Random(11)
    rows = []
    for label, make in cases(seedata, n, runs):
        row = Row(label)
        timed(seedata, Row(label), *make(rng))  # warm-up, not counted
        for _ in range(runs):
            timed(seedata, row, *make(rng))
        print(f"  {label}: done", file=sys.stderr, flush=True)
        rows.append(row)
    return rows


# -- export, import, ingest ------------------------------------------------------------------------
@dataclass
class Ingest:
    writers: int
    rate: float = 0.0
    errors: int = 0
    reads: Row = field(default_factory=lambda: Row("page 1 while ingesting"))


@dataclass
class Transfer:
    export_rate: float = 0.0
    import_rate: float = 0.0
    export_bytes: int = 0
    ingests: list[Ingest] = field(default_factory=list)


def export_import(
    target: Target, n: int, work_dir: Path, ingest_seconds: float, writers: list[int]
) -> Transfer:
    """Export all flows to a file, import it into a fresh copy, then ingest with pictures into the copy
    with each number of ``writers``."""
    out = Transfer()
    path = work_dir / f"{target.kind}_{n}.jsonl"
    print(f"{target.kind}: export", file=sys.stderr, flush=True)
    with Seedata.open(target.settings(str(n))) as seedata, path.open("wb") as file:
        started = time.perf_counter()
        lines = export_lines(seedata.storage, seedata.parse_filter(None), seedata.zone)
        for line in counted(lines, f"{target.kind} export", n):
            file.write(line)
        out.export_rate = n / (time.perf_counter() - started)
    out.export_bytes = path.stat().st_size
    copy = f"{n}_copy"
    target.create(copy)
    try:
        print(f"{target.kind}: import into seedata_bench_{copy}", file=sys.stderr, flush=True)
        with Seedata.open(target.settings(copy)) as seedata, path.open("rb") as file:
            started = time.perf_counter()
            records = read_lines(
                counted(file, f"{target.kind} import", n), seedata.zone, CameraIds(seedata.storage)
            )
            result = seedata.storage.import_flows(records)  # as `seedata flows import`
            out.import_rate = result.added / (time.perf_counter() - started)
            if result.added != n:
                raise SystemExit(f"{target.kind}: imported {result.added} flows, wanted {n}")
            path.unlink()
            for count in writers:
                print(f"{target.kind}: ingest, {count} writer(s), while reading", file=sys.stderr, flush=True)
                out.ingests.append(ingest_while_reading(seedata, ingest_seconds, count))
    finally:
        path.unlink(missing_ok=True)
        target.drop(copy)
    return out


def ingest_while_reading(seedata: Seedata, seconds: float, writers: int) -> Ingest:
    """``writers`` threads add flows with pictures through ``add_flow``; this one reads page 1 meanwhile."""
    out = Ingest(writers)
    camera_ids = [camera.id for camera in seedata.storage.list_cameras()]
    picture, crop = os.urandom(50 * 1024), os.urandom(5 * 1024)
    stop = threading.Event()
    added = [0] * writers
    errors = [0] * writers

    def write(index: int) -> None:
        rng = random.Random(index)
        while not stop.is_set():
            flow = NewFlow(
                camera_id=camera_ids[index % len(camera_ids)],
                plate=plate(rng),
                score=0.9,
                timestamp=datetime.now(UTC).replace(microsecond=0),
                trigger_mode="auto",
                lpr_version="bench 1.0",
            )
            try:
                seedata.storage.add_flow(flow, FlowImages(image=picture, plate_image=crop))
            except SeedataError:
                errors[index] += 1
                continue
            added[index] += 1

    everything = seedata.parse_filter(None)
    threads = [threading.Thread(target=write, args=(i,), name=f"ingest-{i}") for i in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        while time.perf_counter() - started < seconds:
            timed(seedata, out.reads, everything, 1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    out.rate = sum(added) / (time.perf_counter() - started)
    out.errors = sum(errors)
    return out


# -- report --------------------------------------------------------------------------------------
def report(target: Target, n: int, build_s: float | None, rows: list[Row], transfer: Transfer | None) -> None:
    built = "reused (--keep)" if build_s is None else f"built in {build_s:.1f} s ({n / build_s:,.0f} flows/s)"
    print(f"\n{target.version()}: {n:,} flows, {built}")
    print(HEADER)
    for row in rows:
        print(row.cells())
    if transfer is not None:
        mb = transfer.export_bytes / 1e6
        print(
            f"export (export_lines, no pictures):        {transfer.export_rate:>10,.0f} flows/s"
            f"  ({mb:,.0f} MB)"
        )
        print(f"import (read_lines + import_flows):        {transfer.import_rate:>10,.0f} flows/s")
        for ingest in transfer.ingests:
            print(
                f"ingest, add_flow with 50 KB + 5 KB pictures, {ingest.writers} writer(s), while reading: "
                f"{ingest.rate:,.0f} flows/s ({ingest.errors} errors)"
            )
            print(ingest.reads.cells())
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="comma-separated, of: sqlite, postgresql, mariadb"
    )
    parser.add_argument("--flows", type=int, default=1_000_000, help="flows in each database (default 1M)")
    parser.add_argument(
        "--dir", type=Path, default=Path("bench-data"), help="SQLite databases, pictures, export files"
    )
    parser.add_argument(
        "--keep", action="store_true", help="reuse a built database of N flows; drop nothing at the end"
    )
    parser.add_argument("--runs", type=int, default=50, help="timed calls per read case (default 50)")
    parser.add_argument(
        "--ingest-seconds", type=float, default=20.0, help="length of the ingest-while-reading phase"
    )
    parser.add_argument(
        "--writers",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 16],
        help="comma-separated: threads adding flows in each ingest phase (default 1,16: one camera, many)",
    )
    parser.add_argument("--no-transfer", action="store_true", help="skip export/import and ingest")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get(
            "SEEDATA_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--mariadb-url",
        default=os.environ.get("SEEDATA_TEST_MARIADB_URL", "mariadb://root@127.0.0.1:3306/"),
        help="admin URL of the MariaDB server (may create and drop databases)",
    )
    args = parser.parse_args()
    kinds = [name.strip() for name in args.databases.split(",") if name.strip()]
    if not kinds or set(kinds) - set(DATABASES):
        parser.error(f"--databases: name some of {', '.join(DATABASES)}")
    args.dir.mkdir(parents=True, exist_ok=True)
    admin = {"sqlite": None, "postgresql": args.postgresql_url, "mariadb": args.mariadb_url}
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{args.flows:,} flows; reads in process through Seedata.page_flows (the API minus HTTP), "
        f"one thread, {args.runs} calls per case"
    )
    for kind in kinds:
        target = Target(kind, args.dir, admin[kind])
        try:
            build_s = build(target, args.flows, args.keep)
            with Seedata.open(target.settings(str(args.flows))) as seedata:
                print(f"{kind}: reads", file=sys.stderr, flush=True)
                rows = measure_reads(seedata, args.flows, args.runs)
            transfer = None
            if not args.no_transfer:
                transfer = export_import(target, args.flows, args.dir, args.ingest_seconds, args.writers)
            report(target, args.flows, build_s, rows, transfer)
            if not args.keep:
                target.drop(str(args.flows))
        finally:
            target.close()


if __name__ == "__main__":
    main()
