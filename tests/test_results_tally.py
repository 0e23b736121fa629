"""The database's tally of base / sat / passed equals the learner-by-learner reading of
``bot.results.outcomes`` on a random city: transfers between rounds, absences, exempt and
out-of-service learners, makeup results in another unit. Real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

from sqlmodel import select

from bot.core import rounds, tabular
from bot.core.uow import Origin
from bot.org.models import Unit
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.results import aggregates, importer, makeup, outcomes, rates
from bot.results.models import ExamResult
from bot.roster.models import Learner
from tests import factories


def random_city(ctx, seed: int) -> None:
    rng = random.Random(seed)
    factories.unit(ctx, "A", "甲县", kind="county")
    factories.unit(ctx, "B", "乙县", kind="county")
    codes = []
    for i in range(6):
        parent = "A" if i < 3 else "B"
        factories.unit(ctx, f"U{i}", f"单位{i}", parent=parent)
        factories.unit(ctx, f"U{i}S", f"单位{i}下属", parent=f"U{i}", kind="sub")
        codes += [f"U{i}", f"U{i}S"]
    keys = [r.key for r in rounds.regular(ctx.config)] + [rounds.MAKEUP]
    now = dt.datetime(2022, 11, 1, tzinfo=ctx.config.tz)
    with ctx.db.session() as s:
        ids = {u.code: u.id for u in s.exec(select(Unit))}
        for n in range(120):
            learner = Learner(
                account=f"a{n}", name=f"学员{n}", unit_id=ids[rng.choice(codes)],
                in_service=rng.random() > 0.1, exempt=rng.random() < 0.1, updated_at=now,
            )  # fmt: skip
            s.add(learner)
            s.flush()
            for key in keys:
                if rng.random() < 0.5:
                    score = None if rng.random() < 0.2 else float(rng.randint(30, 100))
                    s.add(
                        ExamResult(
                            learner_id=learner.id, round_key=key, score=score,
                            absent=score is None, unit_id=ids[rng.choice(codes)], imported_at=now,
                        )
                    )  # fmt: skip
        s.flush()
        aggregates.refold(s.connection(), ctx.config)  # as the importer does for its results


def by_python(ctx) -> dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """Each unit's subtree counts, summed one learner at a time from ``outcomes.load``."""
    with ctx.db.session() as s:
        units = {u.id: u for u in s.exec(select(Unit))}
        figures = {u.code: [[0, 0, 0], [0, 0, 0]] for u in units.values()}
        for o in outcomes.load(s, ctx.config):
            for side, unit_id, sat, passed in (
                (0, o.unit_before, o.sat_before, o.passed_before),
                (1, o.unit_after, o.sat_after, o.passed_after),
            ):
                for node in outcomes.path_ids(units[unit_id].path):
                    row = figures[units[node].code][side]
                    row[0], row[1], row[2] = row[0] + 1, row[1] + sat, row[2] + passed
    return {code: (tuple(b), tuple(a)) for code, (b, a) in figures.items()}  # type: ignore[misc]


def test_the_database_tally_equals_the_learner_by_learner_reading(any_ctx):
    random_city(any_ctx, seed=7)
    report = any_ctx.run_sync(rates.rates, Origin.cli())
    expected = by_python(any_ctx)
    got = {
        u.code: ((u.before.base, u.before.sat, u.before.passed),
                 (u.after.base, u.after.sat, u.after.passed))
        for u in report.units.values()
    }  # fmt: skip
    assert got == expected
    assert expected["city"][0][0] > 50  # the random city has a base worth comparing


def test_a_subtree_is_counted_as_the_whole_city_counts_it(any_ctx):
    random_city(any_ctx, seed=11)
    whole = any_ctx.run_sync(rates.rates, Origin.cli())
    with any_ctx.db.session() as s:
        county = s.exec(select(Unit).where(Unit.code == "A")).one()
        s.expunge(county)
    part = any_ctx.run_sync(lambda uow: rates.rates(uow, within=county), Origin.cli())
    inside = {u.code for u in whole.units.values() if u.path.startswith(county.path)}
    assert {u.code for u in part.units.values()} == inside
    for unit in part.units.values():
        full = whole.units[unit.id]
        assert (unit.before, unit.after) == (full.before, full.after), unit.code


# --- the makeup list in pages ---------------------------------------------------------------


def crowded_school(ctx, tmp_path, absent: int = 45) -> None:
    """耒阳一中 with ``absent`` learners absent from zone1, and one who passed."""
    factories.tree(ctx)
    rows = ["account,round,score", "ly1zhang,zone1,88"]
    for n in range(absent):
        account = f"ly1s{n:03d}"
        factories.learner(ctx, account, f"学生{n}", "LY-JY-1")
        rows.append(f"{account},zone1,缺考")
    path = tmp_path / "results.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = tabular.read_table(path, "results")
    request = tabular.ImportRequest(table, source=path.name)
    assert ctx.run_sync(lambda uow: importer.import_results(uow, request), Origin.cli()).written


def test_the_makeup_list_counts_the_whole_list_and_shows_one_page(any_ctx, tmp_path):
    crowded_school(any_ctx, tmp_path)
    with any_ctx.db.session() as s:
        school = s.exec(select(Unit).where(Unit.code == "LY-JY-1")).one()
        s.expunge(school)
    first = any_ctx.run_sync(
        lambda uow: makeup.makeup_list(uow, school, MAKEUP_REGISTRATIONS), Origin.cli()
    )
    assert (first.total, first.absent, first.failed, first.registered) == (45, 45, 0, 0)
    assert len(first.entries) == makeup.PAGE and first.next_offset == makeup.PAGE
    second = any_ctx.run_sync(
        lambda uow: makeup.makeup_list(uow, school, MAKEUP_REGISTRATIONS, offset=makeup.PAGE),
        Origin.cli(),
    )
    accounts = [e.account for e in first.entries + second.entries]
    assert accounts == sorted(f"ly1s{n:03d}" for n in range(45))  # every one, once, in order
    assert second.next_offset is None and second.previous_offset == 0


async def test_page_buttons_turn_pages_and_a_forged_one_shows_nothing_out_of_scope(
    bot, ctx, tmp_path
):
    crowded_school(ctx, tmp_path)
    factories.unit(ctx, "HD-CZ", "衡东县财政局", parent="HD")
    factories.learner(ctx, "hdczsun", "孙八", "HD-CZ")
    factories.bind(ctx, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    out = "\n".join(await bot.send("/makeup_list"))  # 耒阳市教育局: the school and 李四
    assert "共 46 人" in out and "以上为第 1–40 人" in out and "ly1s039" in out
    assert "ly1s040" not in out
    out = "\n".join(await bot.press(1))  # 下一页
    assert "41. " in out and "ly1s044" in out and "ly1s000" not in out
    with ctx.db.session() as s:
        elsewhere = s.exec(select(Unit.id).where(Unit.code == "HD-CZ")).one()
    message, buttons = bot.last_buttons
    bot.last_buttons = (message, [(label, f"mk:{elsewhere}:0") for label, _ in buttons])
    out = "\n".join(await bot.press(1))
    assert "hdczsun" not in out and "孙" not in out
    assert "不在您管理的单位范围内" in out and "ly1s" not in out  # the page replaced


async def test_affected_pages_turn_with_buttons_and_a_forged_press_shows_nothing(
    bot, ctx, tmp_path, clock
):
    """/affected lists a page of each list with 下一页 / 上一页; a page is authorized anew."""
    from bot.results import affected

    crowded_school(ctx, tmp_path)
    factories.unit(ctx, "HD-CZ", "衡东县财政局", parent="HD")
    factories.learner(ctx, "hdczsun", "孙八", "HD-CZ")
    factories.bind(ctx, "LY-JY", "unit", bot.user_id("李老师"))
    end = ctx.config.makeup.exam_end
    clock.freeze(dt.datetime(end.year, end.month, end.day, 9, 0) + dt.timedelta(days=1))
    bot.user = "李老师"
    page = affected.PAGE

    def accounts(out: str) -> list[str]:
        return [line.split()[2] for line in out.splitlines() if line.strip()[:1].isdigit()]

    out = "\n".join(await bot.send("/affected"))
    assert "未参加年度学法考法（46 人）" in out  # the school's 45 and 耒阳市教育局's own
    seen = accounts(out)
    assert len(seen) == page and f"{page}. " in out and f"{page + 1}. " not in out
    pages = 1
    while True:
        message, buttons = bot.last_buttons
        labels = [label for label, _ in buttons]
        if not any("下一页" in label for label in labels):
            break
        out = "\n".join(await bot.press(labels.index(next(x for x in labels if "下一页" in x)) + 1))
        pages += 1
        assert "上一页" in "".join(label for label, _ in bot.last_buttons[1])
        seen += accounts(out)
    assert pages == -(-46 // page)
    assert len(seen) == len(set(seen)) == 46  # every learner once, over the pages
    assert {f"ly1s{n:03d}" for n in range(45)} <= set(seen)

    with ctx.db.session() as s:
        elsewhere = s.exec(select(Unit.id).where(Unit.code == "HD-CZ")).one()
    bot.last_buttons = (message, [(label, f"af:{elsewhere}:0") for label, _ in buttons])
    out = "\n".join(await bot.press(1))
    assert "不在您管理的单位范围内" in out and "hdczsun" not in out and "ly1s" not in out
    bot.last_buttons = (message, [(label, "af:1:x") for label, _ in buttons])
    out = "\n".join(await bot.press(1))
    assert "ly1s" not in out


def test_a_full_affected_page_fits_in_one_telegram_message(config):
    """Three full lists of the longest unit names stay within Telegram's 4,096 characters."""
    from bot.core.render import render, strip_html
    from bot.results.affected import FAILED_MAKEUP, NEVER_SAT, Affected, AffectedReport

    unit = "衡阳市" + "某" * 120 + "中心"  # the longest a unit's name may be (128)
    account = "430400199001011234"  # an ID-card number: longer than a phone number
    row = Affected(account, "欧阳*华", unit, NEVER_SAT, None, None)
    failed = Affected(account, "欧阳*华", unit, FAILED_MAKEUP, 45.5, 50.0)
    many = 10 * affected_page_size()
    report = AffectedReport(
        unit, [row] * many, [failed] * many, [failed] * many, provisional=True, counted=3,
        absent_total=many, failed_total=many, registered_total=many, unit_id=1,
    )  # fmt: skip
    text = render("results_affected", c=config, a=report)
    assert text.count(account) == 3 * affected_page_size()
    assert len(strip_html(text)) <= 4096


def affected_page_size() -> int:
    from bot.results.affected import PAGE

    return PAGE
