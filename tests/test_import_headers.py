"""Imports as people export them: a title row above the header, a two-row merged header (XLSX
and CSV), no header in the first rows, real row numbers in every error; the roster's credits
checked against the campaign; and its 免考 column taken as the platform's state, each change
audited, with the learners exempt on the platform but never filed counted and listed."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from bot.cli import build_parser
from bot.cli.common import say
from bot.cli.roster import import_roster_checked
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.tabular import HEADER_SCAN_ROWS, ImportFileError, ImportRequest, read_table
from bot.core.uow import Origin
from bot.exemptions.models import ExemptionFiling
from bot.results import unfiled
from bot.roster.models import Learner
from bot.roster.roster_import import EXEMPT_ACTION, import_roster
from tests import factories

TITLE = "2022年衡阳市XX单位学员名单"
HEADER = ["序号", "姓名", "登录账号", "单位编码", "免考"]


def xlsx(path: Path, rows: list[list], merges: tuple[str, ...] = ()) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def csv_file(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def world(ctx):
    factories.tree(ctx)  # units LY, LY-JY, LY-JY-1, HD; four learners, none exempt
    return ctx


def roster(ctx, path: Path, **kwargs):
    request = ImportRequest(read_table(path, "roster"), source=path.name, **kwargs)
    return ctx.run_sync(lambda uow: import_roster_checked(uow, request), Origin.cli())


def learners(ctx) -> dict[str, Learner]:
    with ctx.db.session() as s:
        return {x.account: x for x in s.exec(select(Learner))}


def exempt_audits(ctx) -> list[dict]:
    with ctx.db.session() as s:
        rows = s.exec(
            select(AuditLog).where(AuditLog.action == EXEMPT_ACTION).order_by(AuditLog.id)
        )
        return [{"target": r.target, **json.loads(r.detail)} for r in rows]


def count(ctx, model) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


# --- where the header is ----------------------------------------------------------------------


def test_xlsx_title_row_merged_above_the_header(world, tmp_path):
    path = xlsx(
        tmp_path / "r.xlsx",
        [
            [TITLE],
            [],
            HEADER,
            [1, "新人甲", "new.one", "LY-JY", "否"],
            [2, "新人乙", "new.two", "nowhere", "否"],
        ],
        merges=("A1:E1",),
    )
    rows = read_table(path, "roster")
    assert (rows.header.row, rows.header.depth) == (3, 1)
    assert [r["_row"] for r in rows] == ["4", "5"]

    report = roster(world, path)
    assert not report.written
    # the bad row is the one the spreadsheet shows as row 5
    assert [(e.row, e.field) for e in report.errors] == [(5, "unit")]
    lines = report.render().splitlines()
    assert lines[1] == "表头在第 3 行，读取的列：姓名、登录账号、单位编码、免考"
    assert lines[2].startswith("第 5 行 单位编码：")
    assert "new.one" not in learners(world)


def test_csv_title_line_above_the_header(world, tmp_path):
    path = csv_file(
        tmp_path / "r.csv",
        [[TITLE], HEADER, [1, "新人甲", "new.one", "LY-JY", "否"], [], [2, "新人乙", "", "LY", ""]],
    )
    report = roster(world, path)
    assert [(e.row, e.field, e.code) for e in report.errors] == [(5, "account", "empty")]
    assert report.render().splitlines()[1].startswith("表头在第 2 行")


def test_xlsx_two_row_merged_header(world, tmp_path):
    """WPS style: a title, then a header whose names are merged down over two rows and whose
    学分 heading is merged across 必修 and 总."""
    path = xlsx(
        tmp_path / "r.xlsx",
        [
            [TITLE],
            ["序号", "姓名", "登录账号", "单位编码", "学分", None, None],
            [None, None, None, None, "必修", "总", "总"],
            [1, "新人甲", "new.one", "LY-JY", 61, 101, "x"],
            [2, "新人乙", "new.two", "LY", 70, 65, "x"],
        ],
        merges=("A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:F2"),
    )
    rows = read_table(path, "roster")
    assert (rows.header.row, rows.header.last) == (2, 3)
    # 学分 is merged over E and F only: G's "总" is not 总学分 (no duplicate column)
    assert rows[0]["required_credits"] == "61" and rows[0]["total_credits"] == "101"
    report = roster(world, path)
    assert [(e.row, e.field, e.code) for e in report.errors] == [
        (5, "required_credits", "credits_above_total")
    ]
    text = report.render()
    assert (
        "表头在第 2–3 行（两行表头合并读取），读取的列：姓名、登录账号、单位编码、必修学分、总学分"
        in text
    )
    assert "第 5 行 必修学分：“70”大于同一行的总学分“65”" in text


def test_csv_two_row_header_blank_filled(world, tmp_path):
    """A CSV keeps no merges: a blank upper cell continues the heading on its left."""
    path = csv_file(
        tmp_path / "r.csv",
        [
            ["姓名", "登录账号", "单位编码", "学分", ""],
            ["", "", "", "必修", "总"],
            ["新人甲", "new.one", "LY-JY", "60", "100"],
        ],
    )
    rows = read_table(path)  # kind guessed from the account column
    assert (rows.header.row, rows.header.depth) == (1, 2)
    assert rows == [
        {
            "name": "新人甲",
            "account": "new.one",
            "unit": "LY-JY",
            "required_credits": "60",
            "total_credits": "100",
            "_row": "3",
        }
    ]
    assert roster(world, path).created == 1


def test_a_header_over_its_data_is_one_row(tmp_path):
    """The first data row is not read as the lower half of a header, and a title over a header
    is not a two-row header."""
    path = xlsx(tmp_path / "r.xlsx", [[TITLE], HEADER, [1, "甲", "abc", "LY", "是"]], ("A1:E1",))
    rows = read_table(path, "roster")
    assert (rows.header.row, rows.header.depth) == (2, 1)
    assert rows == [{"name": "甲", "account": "abc", "unit": "LY", "exempt": "是", "_row": "3"}]


def test_no_header_in_the_first_rows_names_rows_and_missing_columns(tmp_path):
    rows = [[TITLE], ["姓名", "登录账号", "部门"], *([["甲", "abc", "LY"]] * 12)]
    with pytest.raises(ImportFileError) as caught:
        read_table(xlsx(tmp_path / "r.xlsx", rows), "roster")
    assert caught.value.code == "header_not_found"
    assert str(caught.value) == (
        f"在第 1–{HEADER_SCAN_ROWS} 行中没有找到表头（表头须含登录账号（account）、姓名（name）、"
        "单位编码（unit））：最接近的是第 2 行，认出了姓名（name）、登录账号（account），"
        "缺少必需的列：单位编码（unit）"
    )

    late = csv_file(tmp_path / "late.csv", [*([[""]] * HEADER_SCAN_ROWS), HEADER, ["1", "甲"]])
    with pytest.raises(ImportFileError, match="这些行中没有可识别的列名"):
        read_table(late, "roster")
    with pytest.raises(ImportFileError, match="文件是空的"):
        read_table(csv_file(tmp_path / "blank.csv", [[""]] * 3), "roster")


def test_results_and_units_find_their_header_too(tmp_path):
    results = xlsx(
        tmp_path / "res.xlsx",
        [["2022年第一次考试成绩"], ["登录账号", "考试轮次", "成绩"], ["abc", "zone1", "80"]],
        ("A1:C1",),
    )
    assert read_table(results, "results")[0] == {
        "account": "abc",
        "round": "zone1",
        "score": "80",
        "_row": "3",
    }
    units = csv_file(
        tmp_path / "u.csv", [["单位名单"], ["code", "name", "kind"], ["x", "某", "县市区"]]
    )
    assert read_table(units, "units").header.row == 2


# --- credits ----------------------------------------------------------------------------------


def test_credits_beyond_the_campaigns_scale_refuse_the_file(world, tmp_path, config):
    top = config.study.max_credits_factor * config.study.required_credits
    header = ["登录账号", "姓名", "单位编码", "必修学分"]
    ok = csv_file(tmp_path / "ok.csv", [header, ["new.one", "甲", "LY", str(top)]])
    assert roster(world, ok).created == 1
    before = count(world, Learner)

    path = csv_file(
        tmp_path / "bad.csv",
        [[TITLE], header, ["new.two", "乙", "LY", "250"], ["new.three", "丙", "LY", "-1"]],
    )
    report = roster(world, path)
    assert not report.written and count(world, Learner) == before
    assert [(e.row, e.code, e.params.get("value")) for e in report.errors] == [
        (3, "credits_too_high", "250"),
        (4, "negative", "-1"),
    ]
    assert report.errors[0].render() == (
        f"第 3 行 必修学分：“250”超过上限 {top}（本年度要求 {config.study.required_credits} 分，"
        f"上限按其 {config.study.max_credits_factor} 倍计），请核对"
    )

    total = csv_file(
        tmp_path / "total.csv",
        [["登录账号", "姓名", "单位编码", "总学分"], ["new.two", "乙", "LY", "1e9"]],
    )
    assert [e.code for e in roster(world, total).errors] == ["credits_too_high"]
    assert count(world, Learner) == before


# --- exemptions -------------------------------------------------------------------------------


def _file(ctx, learner_id: int, state: str) -> None:
    with ctx.db.session() as s:
        now = ctx.now()
        s.add(
            ExemptionFiling(
                learner_id=learner_id,
                reason="illness",
                state=state,
                created_at=now,
                updated_at=now,
            )
        )


def test_exemption_changes_are_audited_one_by_one(world, tmp_path):
    header = ["登录账号", "姓名", "单位编码", "在职状态", "免考"]
    first = csv_file(
        tmp_path / "r1.csv",
        [
            header,
            ["ly1zhang", "张小明", "LY-JY-1", "是", "是"],  # made exempt
            ["lyjyli", "李四", "LY-JY", "是", ""],  # blank: unchanged
            ["new.one", "新人", "LY", "是", "免考"],  # new, and exempt
            ["new.two", "新人二", "LY", "是", "否"],  # new, not exempt: no change
        ],
    )
    report = roster(world, first)
    assert (report.exempt_set, report.exempt_cleared) == (2, 0)
    assert [(a["target"], a["exempt"], a["was"], a["row"]) for a in exempt_audits(world)] == [
        ("ly1zhang", True, False, 2),
        ("new.one", True, None, 4),
    ]
    assert all(a["source"] == "r1.csv" for a in exempt_audits(world))
    assert "2 人标为免考，0 人取消免考" in report.render()

    world.clock.advance(dt.timedelta(hours=1))
    assert roster(world, first).exempt_set == 0  # the same state again: nothing to record
    assert len(exempt_audits(world)) == 2

    second = csv_file(tmp_path / "r2.csv", [header, ["ly1zhang", "张小明", "LY-JY-1", "是", "否"]])
    report = roster(world, second)
    assert (report.exempt_set, report.exempt_cleared) == (0, 1)
    last = exempt_audits(world)[-1]
    assert (last["target"], last["exempt"], last["was"], last["source"]) == (
        "ly1zhang",
        False,
        True,
        "r2.csv",
    )
    assert not learners(world)["ly1zhang"].exempt
    with world.db.session() as s:
        imports = s.exec(select(AuditLog).where(AuditLog.action == "roster.import")).all()
        assert [json.loads(a.detail)["exempt_cleared"] for a in imports] == [0, 0, 1]


def test_exempt_without_a_filing_is_counted_and_listed(world, tmp_path, config):
    people = learners(world)
    _file(world, people["lyjyli"].id, "city_filed")  # on file with the city office
    _file(world, people["hdzhao"].id, "hr_reviewed")  # under way, not on file
    path = csv_file(
        tmp_path / "platform.csv",
        [
            ["登录账号", "姓名", "单位编码", "在职状态", "免考"],
            ["ly1zhang", "张小明", "LY-JY-1", "是", "是"],  # exempt, never filed
            ["lyjyli", "李四", "LY-JY", "是", "是"],  # exempt, filed
            ["hdzhao", "赵六", "HD", "是", "是"],  # exempt, filing not finished
            ["sfjwang", "王五", "市司法局", "否", "是"],  # exempt but not in service
        ],
    )
    report = roster(world, path)
    assert report.exempt_unfiled == 2
    assert (
        "请注意：2 名在职学员在平台上标为免考，但本系统没有市委依法治市办的备案记录"
        in report.render()
    )
    assert config.exemption.forbidden in report.render()

    listing = world.run_sync(lambda uow: unfiled.list_unfiled(uow), Origin.cli())
    assert listing.total == 2
    assert [(x.account, x.unit_code, x.filing_state, x.source) for x in listing.learners] == [
        ("hdzhao", "HD", "hr_reviewed", "platform.csv"),
        ("ly1zhang", "LY-JY-1", None, "platform.csv"),
    ]
    assert listing.learners[1].masked_name != "张小明"
    text = say(world, "exempt_unfiled", u=listing)
    assert "未备案的免考学员（2 人）" in text
    assert "ly1zhang" in text and "没有免考申请" in text and "组织人事部门已审查" in text
    assert "lyjyli" not in text and "sfjwang" not in text

    short = world.run_sync(lambda uow: unfiled.list_unfiled(uow, limit=1), Origin.cli())
    assert len(short.learners) == 1 and "……另有 1 人" in say(world, "exempt_unfiled", u=short)

    # Once the platform clears it (the next export), the learner drops off the list.
    cleared = csv_file(
        tmp_path / "later.csv",
        [["登录账号", "姓名", "单位编码", "免考"], ["ly1zhang", "张小明", "LY-JY-1", "否"]],
    )
    assert roster(world, cleared).exempt_unfiled == 1


def test_only_the_city_office_lists_them(world):
    factories.bind(world, "LY", "county", 7001)
    with pytest.raises(Refused) as caught:
        world.run_sync(lambda uow: unfiled.list_unfiled(uow), Origin.telegram(7001, 7001))
    assert caught.value.key == "city_only"
    factories.bind(world, "city", "city", 7002)
    listing = world.run_sync(lambda uow: unfiled.list_unfiled(uow), Origin.telegram(7002, 7002))
    assert listing.total == 0
    assert "没有未备案的免考学员" in say(world, "exempt_unfiled", u=listing)


def test_the_plain_import_does_not_count(world, tmp_path):
    """``import_roster`` alone (the sandbox's demo data) leaves the count to its caller."""
    path = csv_file(
        tmp_path / "r.csv", [["登录账号", "姓名", "单位编码", "免考"], ["a.b.c", "甲", "LY", "是"]]
    )
    request = ImportRequest(read_table(path, "roster"), source=path.name)
    report = world.run_sync(lambda uow: import_roster(uow, request), Origin.cli())
    assert report.written and report.exempt_unfiled is None
    assert "请注意" not in report.render()


def test_roster_unfiled_command(world, tmp_path, sqlite_url, monkeypatch, capsys):
    path = csv_file(
        tmp_path / "r.csv",
        [["登录账号", "姓名", "单位编码", "免考"], ["hdzhao", "赵六", "HD", "是"]],
    )
    roster(world, path)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # the command opens the same database
    args = build_parser().parse_args(["roster", "unfiled", "--limit", "5"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "未备案的免考学员（1 人）" in out and "hdzhao · 衡东县（HD）· 没有免考申请" in out
    assert "<b>" not in out
