"""``make bench`` on a generated city (``benchmarks.city``): whole-city imports through the
command line, and the city office's and a unit's reports on the loaded database.

Imports run as ``python -m bot … import`` (what the city office runs), each in its own process,
so the time includes start-up and the peak memory is that process's own (``wait4``). Reports are
timed in-process on the loaded database: each figure is the median of several runs, with the
range. PostgreSQL is measured too where ``BENCH_DATABASE_URL`` (or ``TEST_DATABASE_URL``) names
a database the bench may empty.

Run on its own: ``python -m benchmarks.city_bench [--learners N] [--runs N] [--files DIR]
[--no-reports]``; ``--files`` keeps the generated city in DIR and reuses it next time (the
generator takes a minute or two for 150,000 learners).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import city

ROOT = Path(__file__).resolve().parent.parent


def _cli(db_url: str, *args: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MiB) and output of ``python -m bot ARGS`` on ``db_url``."""
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"python -m bot {' '.join(args)} failed: {out[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out


def _fresh(db_url: str, tmp: Path) -> str:
    """An empty database at ``db_url`` (PostgreSQL: its public schema dropped)."""
    if db_url.startswith("sqlite"):
        path = tmp / f"city-{time.monotonic_ns()}.db"
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return db_url


def _spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    shown = [v * scale for v in values]
    fmt = "{:.2f}" if unit == "s" else "{:.0f}"
    median = fmt.format(statistics.median(shown))
    if len(shown) == 1:
        return f"{median} {unit}"
    return f"{median} {unit} (range {fmt.format(min(shown))}–{fmt.format(max(shown))})"


def learners(files: Path) -> int:
    with (files / "roster.csv").open(encoding="utf-8-sig") as fh:
        return sum(1 for _ in fh) - 1


def bench_imports(files: Path, db_url: str, label: str, runs: int, tmp: Path) -> str:
    """Units, then the roster from CSV (fresh), its re-import, and a results round."""
    fresh, again, results, rss = [], [], [], []
    url = db_url
    for _ in range(runs):
        url = _fresh(db_url, tmp)
        _cli(url, "units", "import", str(files / "units.csv"))
        seconds, peak, out = _cli(url, "roster", "import", str(files / "roster.csv"))
        if f"新增 {learners(files)}" not in out:
            raise RuntimeError(f"the roster was not imported whole: {out[-500:]}")
        fresh.append(seconds)
        rss.append(peak)
        seconds, peak, _ = _cli(url, "roster", "import", str(files / "roster.csv"))
        again.append(seconds)
        rss.append(peak)
        seconds, peak, _ = _cli(url, "results", "import", str(files / "results_zone1.csv"))
        results.append(seconds)
        rss.append(peak)
    print(f"  {label}: roster CSV {_spread(fresh)}; re-import {_spread(again)}; "
          f"results round {_spread(results)}; peak RSS {max(rss):.0f} MiB")  # fmt: skip
    return url


def bench_xlsx(files: Path, tmp: Path, runs: int = 1) -> None:
    """The roster from XLSX into a fresh SQLite database."""
    times, rss = [], []
    for _ in range(runs):
        url = _fresh("sqlite://", tmp)
        _cli(url, "units", "import", str(files / "units.csv"))
        seconds, peak, out = _cli(url, "roster", "import", str(files / "roster.xlsx"))
        if f"新增 {learners(files)}" not in out:
            raise RuntimeError(f"the roster was not imported whole: {out[-500:]}")
        times.append(seconds)
        rss.append(peak)
    print(f"  SQLite: roster XLSX {_spread(times)}, peak RSS {max(rss):.0f} MiB")


def _timed(work: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def bench_reports(db_url: str, runs: int) -> None:
    """/results for the city office and for a first-level unit, the city-wide makeup list's
    first page and the results workbook, on the loaded database."""
    import io

    from sqlmodel import select

    from bot.context import create_context
    from bot.core.config import load_config
    from bot.core.uow import Origin
    from bot.org.models import Unit, UnitKind
    from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
    from bot.results import export, makeup, rates

    ctx = create_context(load_config(), db_url=db_url, migrate=False)
    with ctx.db.session() as s:
        root = s.exec(select(Unit).where(Unit.kind == UnitKind.CITY.value)).one()
        first = s.exec(select(Unit).where(Unit.kind == UnitKind.UNIT.value)).first()
        assert first is not None
        s.expunge(root)
        s.expunge(first)

    def city_results() -> None:
        ctx.run_sync(lambda uow: rates.city_view(rates.rates(uow)), Origin.cli())

    def unit_results() -> None:
        ctx.run_sync(lambda uow: rates.rates(uow, within=first), Origin.cli())

    def makeup_page() -> None:
        ctx.run_sync(lambda uow: makeup.makeup_list(uow, root, MAKEUP_REGISTRATIONS), Origin.cli())

    def workbook() -> None:  # /results_export: the rates, the workbook and the chart
        report = ctx.run_sync(rates.rates, Origin.cli())
        export.write_results_xlsx(ctx.config, report, io.BytesIO())
        export.render_chart(ctx.config, report)

    for label, work in (
        ("/results, city office", city_results),
        ("/results, one first-level unit", unit_results),
        ("/makeup_list, city-wide first page", makeup_page),
        ("/results_export (workbook and chart)", workbook),
    ):
        print(f"  {label}: {_spread(_timed(work, runs), 'ms', 1000)}")
    ctx.db.dispose()


def _city_files(files: Path, learners_count: int) -> dict[str, int]:
    """The generated city in ``files``, made unless a city of that size is there already."""
    done = files / "results_makeup.xlsx"  # the last file the generator writes
    if done.exists() and learners(files) == learners_count:
        return {p.stem: sum(1 for _ in p.open(encoding="utf-8-sig")) - 1
                for p in files.glob("*.csv")}  # fmt: skip
    return city.generate(files, learners_count=learners_count, xlsx=True)


def bench_city(
    quick: bool = False,
    *,
    learners_count: int | None = None,
    runs: int | None = None,
    files: Path | None = None,
    reports: bool = True,
) -> None:
    learners_count = learners_count or (15_000 if quick else 150_000)
    runs = runs or (1 if quick else 3)
    print(f"A generated city ({learners_count:,} learners, ~3,000 units; benchmarks.city)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        files = files or tmp / "files"
        counts = _city_files(files, learners_count)
        print(f"  files: {counts['units']} units, {counts['roster']} learners, "
              f"{counts['results_zone1']} results in round 1")  # fmt: skip
        loaded = bench_imports(files, "sqlite://", "SQLite", runs, tmp)
        bench_xlsx(files, tmp, runs)
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            bench_imports(files, pg, "PostgreSQL", runs, tmp)
        if reports:
            bench_reports(loaded, 1 if quick else 5)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.city_bench")
    parser.add_argument("--learners", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=Path, help="keep (and reuse) the generated city here")
    parser.add_argument("--no-reports", action="store_true", help="the imports only")
    args = parser.parse_args()
    bench_city(
        learners_count=args.learners, runs=args.runs, files=args.files, reports=not args.no_reports
    )


if __name__ == "__main__":
    main()
