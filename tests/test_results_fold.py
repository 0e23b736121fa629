"""The fold each learner row carries (``aggregates.refold``, kept by the results importer, made
by migration 0014) equals what ``aggregates.folded`` computes from the results, through
imports, re-imports that change scores, units and rounds, makeup results, a refused file and a
write rolled back; and the city's tally read from it equals the tally that folds the results as
it runs, and the learner-by-learner reading of ``bot.results.outcomes``. Real SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import alembic.command
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from bot.core import rounds, tabular
from bot.core.db import alembic_config, current_revisions, head_revisions
from bot.core.uow import Origin, UnitOfWork
from bot.org.models import Unit
from bot.results import aggregates, importer, rates, tally
from bot.results.models import ExamResult
from bot.roster.models import Learner
from tests import factories
from tests.test_results_tally import by_python

LEARNERS = 90
Fold = tuple[int | None, int | None, int | None]


def city(ctx) -> tuple[list[str], list[str]]:
    """Two counties of units with sub-units and learners (some out of service or exempt), no
    results yet: (unit codes, accounts)."""
    rng = random.Random(5)
    factories.unit(ctx, "A", "甲县", kind="county")
    factories.unit(ctx, "B", "乙县", kind="county")
    codes = []
    for i in range(4):
        factories.unit(ctx, f"U{i}", f"单位{i}", parent="A" if i < 2 else "B")
        factories.unit(ctx, f"U{i}S", f"单位{i}下属", parent=f"U{i}", kind="sub")
        codes += [f"U{i}", f"U{i}S"]
    accounts = [f"learner{n:03d}" for n in range(LEARNERS)]
    for account in accounts:
        factories.learner(
            ctx, account, "学员", rng.choice(codes),
            in_service=rng.random() > 0.1, exempt=rng.random() < 0.1,
        )  # fmt: skip
    return codes, accounts


def results_file(tmp_path, name: str, rows: list[tuple[str, str, str, str]]):
    """A results file of (account, round, score, unit) rows; "" leaves the unit out."""
    path = tmp_path / f"{name}.csv"
    lines = ["account,round,score,unit", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tabular.read_table(path, "results")


def import_file(ctx, table, **work) -> tabular.ImportReport:
    request = tabular.ImportRequest(table, source="results.csv")

    def run(uow: UnitOfWork) -> tabular.ImportReport:
        for name, replacement in work.items():  # the unit of work's steps a test replaces
            setattr(uow, name, replacement)
        return importer.import_results(uow, request)

    return ctx.run_sync(run, Origin.cli())


def random_rows(
    rng: random.Random, accounts: list[str], codes: list[str], round_key: str, share: float
) -> list[tuple[str, str, str, str]]:
    rows = []
    for account in accounts:
        if rng.random() < share:
            score = "缺考" if rng.random() < 0.2 else str(rng.randint(30, 100))
            unit = rng.choice(codes) if rng.random() < 0.6 else ""
            rows.append((account, round_key, score, unit))
    return rows


def stored(ctx) -> dict[int, Fold]:
    """Every learner's fold as the learner row holds it."""
    with ctx.db.session() as s:
        query = select(Learner.id, Learner.fold_grade, Learner.fold_last, Learner.fold_makeup)
        return {lid: (g, last, m) for lid, g, last, m in s.exec(query)}  # type: ignore[misc]


def computed(ctx, config=None) -> dict[int, Fold]:
    """Every learner's fold as ``aggregates.folded`` computes it from the results (None for a
    learner without any), with the context's config unless another is given."""
    with ctx.db.session() as s:
        ids = s.exec(select(Learner.id)).all()
        rows = aggregates.folded(config or ctx.config)
        query = sa.select(rows.c.learner_id, rows.c.grade, rows.c.last, rows.c.makeup)
        found = {lid: (g, last, m) for lid, g, last, m in s.connection().execute(query)}
    return {lid: found.get(lid, (None, None, None)) for lid in ids}


def summed(rows) -> dict[tuple[int, int], list[int]]:
    """``tally.direct_counts``-shaped rows summed per pair of units."""
    sums: dict[tuple[int, int], list[int]] = {}
    for before, after, *figures in rows:
        row = sums.setdefault((before, after), [0] * len(figures))
        row[:] = [a + b for a, b in zip(row, figures, strict=True)]
    return sums


def counted_both_ways(ctx) -> tuple[dict, dict]:
    """The city's rows of ``tally.direct_counts``, and the same rows counted as before the folds
    were stored: the results folded as the query runs, plus the base without any result."""
    with ctx.db.session() as s:
        now = summed(tally.direct_counts(s, ctx.config))
        folding = []
        with_results: Counter = Counter()
        for unit_id, grade, last, makeup, n in s.connection().execute(
            tally.folded_counts(ctx.config)
        ):
            with_results[unit_id] += n
            before, after, *flags = aggregates.outcome(unit_id, grade, last, makeup)
            folding.append((before, after, n, *(n * f for f in flags)))
        left = aggregates.without_results(aggregates.base_per_unit(s, None), with_results)
        folding += [(unit_id, unit_id, n, 0, 0, 0, 0) for unit_id, n in left.items()]
    return now, summed(folding)


def assert_consistent(ctx) -> None:
    assert stored(ctx) == computed(ctx)
    now, folding = counted_both_ways(ctx)
    assert now == folding
    report = ctx.run_sync(rates.rates, Origin.cli())
    got = {
        u.code: ((u.before.base, u.before.sat, u.before.passed),
                 (u.after.base, u.after.sat, u.after.passed))
        for u in report.units.values()
    }  # fmt: skip
    assert got == by_python(ctx)


def test_every_import_keeps_the_folds_and_the_city_tally_of_the_results(any_ctx, tmp_path):
    codes, accounts = city(any_ctx)
    rng = random.Random(9)
    assert_consistent(any_ctx)  # no results: every fold None, every learner in its roster unit
    first = random_rows(rng, accounts, codes, "zone1", 0.7)
    first += random_rows(rng, accounts, codes, rounds.CATEGORY, 0.3)
    assert import_file(any_ctx, results_file(tmp_path, "first", first)).created == len(first)
    assert_consistent(any_ctx)
    assert any(f != (None, None, None) for f in stored(any_ctx).values())
    # Scores and units changed (a unit named again or left as it was), a new round.
    changed = [
        (account, key, str(rng.randint(30, 100)) if rng.random() < 0.7 else "缺考",
         rng.choice(codes) if rng.random() < 0.5 else "")
        for account, key, _score, _unit in rng.sample(first, len(first) // 2)
    ]  # fmt: skip
    changed += random_rows(rng, accounts, codes, "zone2", 0.5)
    report = import_file(any_ctx, results_file(tmp_path, "changed", changed))
    assert report.written and report.updated
    assert_consistent(any_ctx)
    makeup = random_rows(rng, accounts, codes, rounds.MAKEUP, 0.4)
    assert import_file(any_ctx, results_file(tmp_path, "makeup", makeup)).created
    assert_consistent(any_ctx)
    assert any(m is not None for _g, _l, m in stored(any_ctx).values())


def test_only_the_learners_whose_results_change_are_refolded(any_ctx, tmp_path):
    _codes, accounts = city(any_ctx)
    rows = [(a, "zone1", "50", "") for a in accounts[:3]]
    import_file(any_ctx, results_file(tmp_path, "first", rows))
    with any_ctx.db.session() as s:
        ids = {a: i for a, i in s.exec(select(Learner.account, Learner.id))}
        # A mark that only a refold of these two can take away.
        s.execute(
            sa.update(Learner)
            .where(col(Learner.id).in_([ids[a] for a in accounts[:2]]))
            .values(fold_grade=-1)
        )
    again = [(accounts[0], "zone1", "50", ""), (accounts[1], "zone1", "70", "")]
    report = import_file(any_ctx, results_file(tmp_path, "again", again))
    assert (report.updated, report.unchanged) == (2, 1)
    folds = stored(any_ctx)
    assert folds[ids[accounts[0]]][0] == -1  # its result did not change: not rewritten
    assert folds[ids[accounts[1]]] == computed(any_ctx)[ids[accounts[1]]]
    assert folds[ids[accounts[1]]][0] == aggregates.PASSED


def test_a_refused_file_and_a_write_rolled_back_leave_the_folds_as_they_were(any_ctx, tmp_path):
    codes, accounts = city(any_ctx)
    rng = random.Random(3)
    import_file(any_ctx, results_file(tmp_path, "first", random_rows(rng, accounts, codes,
                                                                     "zone1", 0.8)))  # fmt: skip
    before = stored(any_ctx)
    rows = [(a, "zone1", "99", codes[0]) for a in accounts]
    refused = import_file(any_ctx, results_file(tmp_path, "bad", [*rows, ("nobody", "zone1",
                                                                          "80", "")]))  # fmt: skip
    assert not refused.written and refused.errors
    assert stored(any_ctx) == before

    def failing_audit(*args, **kwargs):
        raise RuntimeError("the audit row could not be written")

    with pytest.raises(RuntimeError):
        import_file(any_ctx, results_file(tmp_path, "good", rows), audit=failing_audit)
    assert stored(any_ctx) == before
    assert_consistent(any_ctx)
    assert import_file(any_ctx, results_file(tmp_path, "good", rows)).written
    assert stored(any_ctx) != before
    assert_consistent(any_ctx)


def test_the_migration_folds_the_results_imported_before_it(any_ctx, tmp_path):
    codes, accounts = city(any_ctx)
    rng = random.Random(13)
    rows = random_rows(rng, accounts, codes, "zone1", 0.6)
    rows += random_rows(rng, accounts, codes, rounds.MAKEUP, 0.3)
    import_file(any_ctx, results_file(tmp_path, "first", rows))
    folds = stored(any_ctx)
    engine = any_ctx.db.engine
    engine.dispose()  # no pooled connection holds the table while its columns go
    alembic.command.downgrade(alembic_config(engine), "0013")
    try:
        with engine.begin() as conn:
            assert "fold_grade" not in {c["name"] for c in sa.inspect(conn).get_columns("learners")}
            # Results written while the learners had no fold to keep.
            units = dict(conn.execute(sa.select(col(Unit.code), col(Unit.id))).all())
            learners = sa.table("learners", sa.column("id"), sa.column("account"))
            ids = dict(conn.execute(sa.select(learners.c.account, learners.c.id)).all())
            taken = {(a, k) for a, k, _s, _u in rows}
            later = [
                {"learner_id": ids[a], "round_key": "zone2", "score": float(rng.randint(30, 100)),
                 "absent": False, "unit_id": units[rng.choice(codes)], "source": "old",
                 "imported_at": dt.datetime(2022, 10, 1, tzinfo=dt.UTC)}
                for a in accounts[::3] if (a, "zone2") not in taken
            ]  # fmt: skip
            conn.execute(sa.insert(ExamResult.__table__), later)  # type: ignore[attr-defined]
    finally:
        alembic.command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        assert current_revisions(conn) == head_revisions()
    backfilled = stored(any_ctx)
    assert backfilled == computed(any_ctx)
    changed = {ids[a] for a in accounts[::3]}
    assert {i: f for i, f in backfilled.items() if i not in changed} == {
        i: f for i, f in folds.items() if i not in changed
    }
    assert any(backfilled[i] != folds[i] for i in changed)  # the later rounds are in
    assert_consistent(any_ctx)


def test_the_migration_folds_with_the_config_it_is_handed(any_ctx, tmp_path):
    codes, accounts = city(any_ctx)
    rows = random_rows(random.Random(17), accounts, codes, "zone1", 0.8)
    import_file(any_ctx, results_file(tmp_path, "first", rows))
    strict = any_ctx.config.model_copy(
        update={"exam": any_ctx.config.exam.model_copy(update={"pass_mark": 90})}
    )
    assert computed(any_ctx, strict) != computed(any_ctx)  # the pass mark makes the grades
    engine = any_ctx.db.engine
    engine.dispose()
    alembic.command.downgrade(alembic_config(engine), "0013")
    handed = alembic_config(engine)
    handed.attributes["campaign_config"] = strict
    alembic.command.upgrade(handed, "head")
    assert stored(any_ctx) == computed(any_ctx, strict)
    # Started with the campaign's own config, the bot sees folds of other rules: folded again.
    with any_ctx.db.session() as s:
        assert aggregates.ensure_folds(s.connection(), any_ctx.config)
    assert stored(any_ctx) == computed(any_ctx)
    assert_consistent(any_ctx)


def test_a_start_under_new_rules_folds_again_and_otherwise_does_nothing(any_ctx, tmp_path):
    """A pass mark changed in config.toml after the results were imported: the next start
    (``bot.context.create_context``) folds every learner again; a start under the same rules
    writes nothing."""
    codes, accounts = city(any_ctx)
    import_file(any_ctx, results_file(tmp_path, "r", random_rows(random.Random(5), accounts, codes, "zone1", 0.8)))  # fmt: skip
    with any_ctx.db.session() as s:
        assert not aggregates.ensure_folds(s.connection(), any_ctx.config)
    strict = any_ctx.config.model_copy(
        update={"exam": any_ctx.config.exam.model_copy(update={"pass_mark": 90})}
    )
    assert computed(any_ctx, strict) != stored(any_ctx)
    from bot.context import create_context

    restarted = create_context(
        strict, db_url=any_ctx.db.engine.url.render_as_string(hide_password=False), migrate=False
    )
    try:
        assert stored(any_ctx) == computed(any_ctx, strict)
        with restarted.db.session() as s:
            assert not aggregates.ensure_folds(s.connection(), strict)
    finally:
        restarted.db.dispose()


def test_a_start_migrating_to_the_folds_folds_with_its_own_config(any_ctx, tmp_path, caplog):
    """``create_context`` hands its config to the migration: a bot started with another
    config.toml folds by that one's pass mark, once."""
    codes, accounts = city(any_ctx)
    rows = random_rows(random.Random(23), accounts, codes, "zone1", 0.8)
    import_file(any_ctx, results_file(tmp_path, "first", rows))
    strict = any_ctx.config.model_copy(
        update={"exam": any_ctx.config.exam.model_copy(update={"pass_mark": 90})}
    )
    engine = any_ctx.db.engine
    engine.dispose()
    alembic.command.downgrade(alembic_config(engine), "0013")
    from bot.context import create_context

    url = engine.url.render_as_string(hide_password=False)
    with caplog.at_level("INFO", logger="bot.context"):
        started = create_context(strict, db_url=url)
    try:
        assert stored(any_ctx) == computed(any_ctx, strict)
        assert "folded again" not in caplog.text  # the migration folded by it already
        with started.db.session() as s:
            assert not aggregates.ensure_folds(s.connection(), strict)  # folded once, at 0014
    finally:
        started.db.dispose()
