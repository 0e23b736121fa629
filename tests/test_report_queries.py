"""The reports computed by the database (``bot.results.aggregates``, ``bot.results.pages``)
equal a brute-force reading of ``bot.results.outcomes.load``, one learner at a time, on a random
city: transfers between rounds, absences, exempt and out-of-service learners, makeup results in
another unit, learners named in makeup registrations, units sharing a name (their learners
interleave by account on a page). Real SQLite and PostgreSQL.

The brute force sorts by (unit name, account) in Python: code-point order, which is SQLite's
and the test PostgreSQL's (C.UTF-8) order as well.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlmodel import select

from bot.core import rounds
from bot.core.uow import Origin
from bot.org.models import Administrator, Unit
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import Registration, RegistrationLearner
from bot.results import affected, aggregates, makeup, outcomes, pages, rates
from bot.results import export as results_export
from bot.results.models import ExamResult
from bot.roster.models import Learner
from tests import factories

PAGE = 7  # small pages, so that every list spans several and pages cut through units


def random_city(ctx, seed: int, learners: int = 160) -> set[int]:
    """Two counties of first-level units with sub-units (two pairs of units share a name),
    learners with random results; returns the ids of the learners named in a makeup
    registration."""
    rng = random.Random(seed)
    factories.unit(ctx, "A", "甲县", kind="county")
    factories.unit(ctx, "B", "乙县", kind="county")
    codes = []
    for i in range(6):
        name = f"单位{i % 4}"  # 单位0 and 单位1 twice: once in each county
        factories.unit(ctx, f"U{i}", name, parent="A" if i < 3 else "B")
        factories.unit(ctx, f"U{i}S", f"{name}下属", parent=f"U{i}", kind="sub")
        codes += [f"U{i}", f"U{i}S"]
    keys = [r.key for r in rounds.regular(ctx.config)] + [rounds.MAKEUP]
    now = dt.datetime(2022, 11, 1, tzinfo=ctx.config.tz)
    named: set[int] = set()
    with ctx.db.session() as s:
        ids = {u.code: u.id for u in s.exec(select(Unit))}
        admin = Administrator(unit_id=ids["U0"], role="unit", created_at=now)
        s.add(admin)
        s.flush()
        registration = Registration(
            unit_id=ids["U0"], round_key=rounds.MAKEUP, exam_date=dt.date(2022, 10, 28),
            session_time="09:00", learner_count=0, admin_id=admin.id, created_at=now,
            updated_at=now,
        )  # fmt: skip
        s.add(registration)
        s.flush()
        for n in range(learners):
            learner = Learner(
                account=f"a{n:03d}", name=f"学员{n}", unit_id=ids[rng.choice(codes)],
                in_service=rng.random() > 0.1, exempt=rng.random() < 0.1, updated_at=now,
            )  # fmt: skip
            s.add(learner)
            s.flush()
            for key in keys:
                if rng.random() < 0.45:
                    score = None if rng.random() < 0.2 else float(rng.randint(30, 100))
                    s.add(
                        ExamResult(
                            learner_id=learner.id, round_key=key, score=score,
                            absent=score is None, unit_id=ids[rng.choice(codes)], imported_at=now,
                        )
                    )  # fmt: skip
            if rng.random() < 0.3:
                s.add(
                    RegistrationLearner(
                        registration_id=registration.id,
                        learner_id=learner.id,
                        round_key=rounds.MAKEUP,
                    )
                )
                named.add(learner.id)  # type: ignore[arg-type]
        s.flush()
        aggregates.refold(s.connection(), ctx.config)  # as the importer does for its results
    return named


def unit(ctx, code: str) -> Unit:
    with ctx.db.session() as s:
        found = s.exec(select(Unit).where(Unit.code == code)).one()
        s.expunge(found)
        return found


def by_python(ctx, scope: Unit) -> list[tuple[str, outcomes.Outcome]]:
    """The base learners of ``scope``'s subtree (roster unit), one at a time: (unit name,
    outcome), in the order the lists show them."""
    with ctx.db.session() as s:
        names = outcomes.unit_names(s, scope)
        found = [(names[o.unit_id], o) for o in outcomes.load(s, ctx.config, scope.path)]
    return sorted(found, key=lambda pair: (pair[0], pair[1].account))


SCOPES = ("city", "A", "U0", "U4S")


def test_makeup_list_pages_and_counts_equal_a_learner_by_learner_reading(any_ctx):
    named = random_city(any_ctx, seed=3)
    sizes = {}
    for code in SCOPES:
        scope = unit(any_ctx, code)
        expected = [(name, o) for name, o in by_python(any_ctx, scope) if o.on_makeup_list]

        def read(offset: int, scope: Unit = scope) -> makeup.MakeupList:
            return any_ctx.run_sync(
                lambda uow: makeup.makeup_list(
                    uow, scope, MAKEUP_REGISTRATIONS, offset=offset, limit=PAGE
                ),
                Origin.cli(),
            )

        first = read(0)
        sizes[code] = first.total
        assert first.total == len(expected), code
        assert first.absent == sum(1 for _, o in expected if not o.sat_before), code
        assert first.registered == sum(1 for _, o in expected if o.learner_id in named), code
        shown, page = list(first.entries), first
        while page.next_offset is not None:  # the page buttons' offsets
            page = read(page.next_offset)
            shown += page.entries
        assert [(e.unit_name, e.account, e.best, e.reason, e.registered) for e in shown] == [
            (name, o.account, o.best_before, o.reason, o.learner_id in named)
            for name, o in expected
        ], code
    assert sizes["city"] > sizes["A"] > 2 * PAGE  # the lists span pages


def brute_affected(ctx, scope: Unit, named: set[int]) -> dict[str, list[tuple[str, str, str]]]:
    """The three lists of /affected, one learner at a time (the rules of the module's
    docstring)."""
    lists: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in affected.LISTS}
    for name, o in by_python(ctx, scope):
        if not o.on_makeup_list or o.passed_after:
            continue
        if o.learner_id in named and o.makeup == outcomes.MAKEUP_NONE:
            kind, detail = affected.REGISTERED_LIST, affected.REGISTERED_MAKEUP
        elif o.sat_after:
            kind = affected.FAILED_LIST
            sat_makeup = o.makeup == outcomes.MAKEUP_SAT
            detail = affected.FAILED_MAKEUP if sat_makeup else affected.SKIPPED_MAKEUP
        else:
            kind, detail = affected.ABSENT_LIST, affected.NEVER_SAT
        lists[kind].append((name, o.account, detail))
    return lists


def test_consequences_pages_and_counts_equal_a_learner_by_learner_reading(any_ctx):
    named = random_city(any_ctx, seed=5)
    sizes = {}
    for code in SCOPES:
        scope = unit(any_ctx, code)
        expected = brute_affected(any_ctx, scope, named)

        def read(offset: int, scope: Unit = scope) -> affected.AffectedReport:
            return any_ctx.run_sync(
                lambda uow: affected.report(
                    uow, scope, MAKEUP_REGISTRATIONS, offset=offset, limit=PAGE
                ),
                Origin.cli(),
            )

        first = read(0)
        totals = (first.absent_total, first.failed_total, first.registered_total)
        sizes[code] = totals
        assert totals == tuple(len(expected[kind]) for kind in affected.LISTS), code
        shown = {kind: list(getattr(first, kind)) for kind in affected.LISTS}
        page = first
        while page.next_offset is not None:  # the page buttons' offsets
            page = read(page.next_offset)
            for kind in affected.LISTS:
                shown[kind] += getattr(page, kind)
        for kind in affected.LISTS:
            got = [(x.unit_name, x.account, x.detail) for x in shown[kind]]
            assert got == expected[kind], (code, kind)
        assert not first.provisional  # makeup results are imported
    assert all(n > PAGE for n in sizes["city"]), sizes  # every list spans pages


def test_a_page_window_takes_units_of_one_name_together():
    units = [(1, "甲"), (2, "乙"), (3, "乙"), (4, "丙"), (5, "丁")]  # in the database's order
    sizes = {1: 3, 2: 2, 3: 2, 5: 4}  # 丙 has nobody listed
    assert pages.locate(units, sizes, 0, 3) == pages.Window([1], 0)
    assert pages.locate(units, sizes, 2, 3) == pages.Window([1, 2, 3], 2)
    assert pages.locate(units, sizes, 3, 4) == pages.Window([2, 3], 0)
    assert pages.locate(units, sizes, 5, 4) == pages.Window([2, 3, 5], 2)
    assert pages.locate(units, sizes, 11, 4) == pages.Window([], 0)  # past the end


def test_affected_pages_have_buttons_worth_of_offsets(ctx):
    named = random_city(ctx, seed=9)
    scope = unit(ctx, "city")
    full = ctx.run_sync(
        lambda uow: affected.report(uow, scope, MAKEUP_REGISTRATIONS, limit=PAGE), Origin.cli()
    )
    longest = max(full.absent_total, full.failed_total, full.registered_total)
    assert full.previous_offset is None and full.next_offset == PAGE < longest
    last = ctx.run_sync(
        lambda uow: affected.report(
            uow, scope, MAKEUP_REGISTRATIONS, offset=longest - 1, limit=PAGE
        ),
        Origin.cli(),
    )
    assert last.next_offset is None and last.previous_offset == longest - 1 - PAGE
    assert named  # some learners are named in a registration


def test_the_export_tells_its_progress_and_ends_with_the_whole_workbook(ctx, tmp_path, monkeypatch):
    random_city(ctx, seed=1, learners=40)
    report = ctx.run_sync(rates.rates, Origin.cli())
    told: list[tuple[int, int]] = []
    monkeypatch.setattr(results_export, "PROGRESS_EVERY", 5)
    results_export.write_results_xlsx(
        ctx.config, report, tmp_path / "r.xlsx", lambda d, t: told.append((d, t))
    )
    rows = 1 + len(report.counties) + len(report.first_level) + len(report.sub_units)
    assert told[-1] == (rows, rows) and (tmp_path / "r.xlsx").stat().st_size > 0
    done = [d for d, _ in told]
    assert done == sorted(done) and all(t == rows for _, t in told) and len(told) > 2
    assert all(d < rows for d in done[:-1])  # "all written" only once the file is
