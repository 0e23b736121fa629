"""Importing the unit tree and the roster from real CSV/XLSX files, and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.tabular import (
    MAX_FILE_BYTES,
    MAX_INFLATED_BYTES,
    ImportFileError,
    ImportReport,
    ImportRequest,
    RowError,
    read_table,
)
from bot.core.uow import Origin
from bot.org.models import ROOT_CODE, Unit
from bot.org.units_import import import_units
from bot.roster.models import Learner
from bot.roster.roster_import import import_roster

REPO = Path(__file__).resolve().parent.parent

UNIT_HEADER = ["code", "name", "kind", "parent"]
TREE = [
    # child rows first: the importer must create parents before children
    ["zh-sfj-1", "珠晖区司法局办公室", "二级单位", "zh-sfj"],
    ["zh-sfj", "珠晖区司法局", "一级单位", "zh"],
    ["zh", "珠晖区", "县市区", ""],
]
ROSTER_HEADER = ["account", "name", "unit", "in_service", "exempt", "required_credits"]


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def counts(ctx) -> dict[str, int]:
    with ctx.db.session() as s:
        return {
            model.__name__: s.exec(select(func.count()).select_from(model)).one()
            for model in (Unit, Learner, AuditLog)
        }


def run_units(ctx, path: Path, **kwargs) -> ImportReport:
    request = ImportRequest(read_table(path, "units"), source=path.name, **kwargs)
    return ctx.run_sync(lambda uow: import_units(uow, request), Origin.cli())


def run_roster(ctx, path: Path, **kwargs) -> ImportReport:
    request = ImportRequest(read_table(path, "roster"), source=path.name, **kwargs)
    return ctx.run_sync(lambda uow: import_roster(uow, request), Origin.cli())


def units_by_code(ctx) -> dict[str, Unit]:
    with ctx.db.session() as s:
        return {u.code: u for u in s.exec(select(Unit))}


def audits(ctx, action: str) -> list[AuditLog]:
    with ctx.db.session() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)))


# --- units -----------------------------------------------------------------------------------


def test_three_level_tree_imports_with_paths_and_reimport_is_idempotent(any_ctx, tmp_path):
    path = write_xlsx(tmp_path / "units.xlsx", UNIT_HEADER, TREE)
    report = run_units(any_ctx, path)
    assert (report.created, report.updated, report.errors, report.written) == (3, 0, [], True)
    assert report.render() == (
        "导入完成：新增 3，更新 0\n表头在第 1 行，读取的列：单位编码、单位名称、单位类型、上级单位编码"
    )
    u = units_by_code(any_ctx)
    root, county, first, sub = u[ROOT_CODE], u["zh"], u["zh-sfj"], u["zh-sfj-1"]
    assert (county.kind, first.kind, sub.kind) == ("county", "unit", "sub")
    assert county.parent_id == root.id and first.parent_id == county.id
    assert sub.parent_id == first.id
    assert county.path == f"{root.path}{county.id}/"
    assert sub.path == f"{root.path}{county.id}/{first.id}/{sub.id}/"
    before = counts(any_ctx)

    again = run_units(any_ctx, path)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 3, 3, [])
    after = counts(any_ctx)
    assert after["Unit"] == before["Unit"]
    assert units_by_code(any_ctx)["zh-sfj-1"].path == sub.path
    rows = audits(any_ctx, "units.import")
    assert len(rows) == 2
    detail = json.loads(rows[0].detail)
    assert (detail["created"], detail["updated"], detail["skipped"]) == (3, 0, 0)
    assert detail["source"] == "units.xlsx" and rows[0].actor == "cli"


def test_moving_a_unit_repaths_its_whole_subtree(any_ctx, tmp_path):
    run_units(any_ctx, write_csv(tmp_path / "a.csv", UNIT_HEADER, TREE))
    moved = [
        ["park", "衡阳高新区", "园区", ""],
        ["zh-sfj", "珠晖区司法局", "一级单位", "park"],
    ]
    report = run_units(any_ctx, write_csv(tmp_path / "b.csv", UNIT_HEADER, moved))
    assert (report.created, report.updated, report.moved) == (1, 1, 1)
    u = units_by_code(any_ctx)
    park, first, sub = u["park"], u["zh-sfj"], u["zh-sfj-1"]
    assert first.parent_id == park.id
    assert first.path == f"{park.path}{first.id}/"
    assert sub.path == f"{first.path}{sub.id}/"
    assert u["zh"].path == f"{u[ROOT_CODE].path}{u['zh'].id}/"
    # Every path agrees with the parent links.
    for unit in u.values():
        if unit.parent_id is not None:
            parent = next(p for p in u.values() if p.id == unit.parent_id)
            assert unit.path == f"{parent.path}{unit.id}/"


def test_moving_a_unit_under_its_own_descendant_is_a_cycle(ctx, tmp_path):
    run_units(ctx, write_csv(tmp_path / "a.csv", UNIT_HEADER, TREE))
    before = counts(ctx)
    bad = [["zh-sfj", "珠晖区司法局", "二级单位", "zh-sfj-1"]]
    report = run_units(ctx, write_csv(tmp_path / "b.csv", UNIT_HEADER, bad))
    assert not report.written
    assert [(e.row, e.field) for e in report.errors] == [(2, "parent")]
    assert "循环" in report.errors[0].message
    assert counts(ctx) == before


# --- roster ----------------------------------------------------------------------------------


def test_roster_import_creates_then_updates(any_ctx, tmp_path):
    run_units(any_ctx, write_csv(tmp_path / "u.csv", UNIT_HEADER, TREE))
    rows = [
        ["zhang.san", "张三", "zh-sfj", "是", "否", "10"],
        [12345, "李四", "zh-sfj-1", "在职", "", ""],  # an account stored as a number
        ["wang@wu", "王五", "zh", "离职", "免考", 2.5],
    ]
    report = run_roster(any_ctx, write_xlsx(tmp_path / "r.xlsx", ROSTER_HEADER, rows))
    assert (report.created, report.updated, report.errors) == (3, 0, [])
    with any_ctx.db.session() as s:
        learners = {x.account: x for x in s.exec(select(Learner))}
        assert set(learners) == {"zhang.san", "12345", "wang@wu"}
        zs = learners["zhang.san"]
        assert (zs.in_service, zs.exempt, zs.required_credits, zs.total_credits) == (
            True,
            False,
            10.0,
            None,
        )
        ww = learners["wang@wu"]
        assert (ww.in_service, ww.exempt, ww.required_credits) == (False, True, 2.5)

    any_ctx.clock.advance(dt.timedelta(days=1))
    rows[0] = ["zhang.san", "张三丰", "zh", "是", "否", "12"]  # renamed and transferred
    report = run_roster(any_ctx, write_xlsx(tmp_path / "r2.xlsx", ROSTER_HEADER, rows))
    assert (report.created, report.updated, report.unchanged, report.transferred) == (0, 3, 2, 1)
    with any_ctx.db.session() as s:
        learners = {x.account: x for x in s.exec(select(Learner))}
        assert len(learners) == 3
        zs = learners["zhang.san"]
        assert (zs.name, zs.required_credits) == ("张三丰", 12.0)
        assert zs.unit_id == units_by_code(any_ctx)["zh"].id
        assert zs.updated_at == any_ctx.now()
        assert learners["wang@wu"].updated_at < any_ctx.now()  # unchanged rows keep their stamp
    assert [json.loads(a.detail)["created"] for a in audits(any_ctx, "roster.import")] == [3, 0]


def test_chinese_headers_and_gb18030_csv(ctx, tmp_path):
    units = write_csv(
        tmp_path / "units.csv",
        ["单位编码", "单位名称", "单位类型", "上级单位编码", "分类组考部门"],
        [
            ["zh", "珠晖区", "县市区", "", ""],
            ["zh-jyj", "珠晖区教育局", "一级单位", "zh", "省教育厅"],
        ],
        encoding="gb18030",
    )
    assert run_units(ctx, units).created == 2
    assert units_by_code(ctx)["zh-jyj"].category_department == "省教育厅"
    roster = write_csv(
        tmp_path / "roster.csv",
        ["序号", "* 登录账号", "姓名", "单位编码", "在职状态", "免考", "必修学分", "总学分"],
        [["1", "zhao_liu", "赵六", "zh-jyj", "在职", "免考", "8", "20.5"]],
        encoding="gb18030",
    )
    rows = read_table(roster)  # kind guessed from the account column
    assert rows[0]["account"] == "zhao_liu" and rows[0]["_row"] == "2"
    report = ctx.run_sync(lambda uow: import_roster(uow, ImportRequest(rows)), Origin.cli())
    assert report.created == 1
    with ctx.db.session() as s:
        learner = s.exec(select(Learner)).one()
        assert (learner.name, learner.exempt, learner.total_credits) == ("赵六", True, 20.5)


def test_utf8_bom_csv_is_read(tmp_path):
    path = write_csv(
        tmp_path / "r.csv", ["登录账号", "姓名", "单位"], [["abc", "甲", "zh"]], "utf-8-sig"
    )
    assert read_table(path, "roster") == [
        {"account": "abc", "name": "甲", "unit": "zh", "_row": "2"}
    ]


# --- bad rows --------------------------------------------------------------------------------

GOOD_LEARNER = ["good.one", "好人", "zh", "是", "否", "1"]
BAD_ROSTER = {
    "missing name": (["bad.one", "", "zh", "是", "否", "1"], "name"),
    "bad account": (["no spaces allowed", "某", "zh", "是", "否", "1"], "account"),
    "short account": (["ab", "某", "zh", "是", "否", "1"], "account"),
    "unknown unit": (["bad.one", "某", "nowhere", "是", "否", "1"], "unit"),
    "bad boolean": (["bad.one", "某", "zh", "也许", "否", "1"], "in_service"),
    "negative credits": (["bad.one", "某", "zh", "是", "否", "-1"], "required_credits"),
    "not a number": (["bad.one", "某", "zh", "是", "否", "十"], "required_credits"),
    "control character": (["bad.one", "某\x07", "zh", "是", "否", "1"], "name"),
    "duplicate account": (["good.one", "重复", "zh", "是", "否", "1"], "account"),
}


@pytest.mark.parametrize("case", list(BAD_ROSTER))
def test_each_bad_roster_row_is_reported_and_nothing_is_written(ctx, tmp_path, case):
    run_units(ctx, write_csv(tmp_path / "u.csv", UNIT_HEADER, TREE))
    before = counts(ctx)
    bad, column = BAD_ROSTER[case]
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [GOOD_LEARNER, [], bad])
    report = run_roster(ctx, path)
    assert not report.written
    # row 3 is blank: the bad row is the file's row 4 (header = 1)
    assert [(e.row, e.field) for e in report.errors] == [(4, column)]
    verdict, header, first = report.render().splitlines()[:3]
    assert verdict == "导入被拒绝：共 1 行有错误，未写入任何数据"
    assert header == "表头在第 1 行，读取的列：登录账号、姓名、单位编码、在职状态、免考、必修学分"
    assert first.startswith("第 4 行 ")
    assert counts(ctx) == before


BAD_UNITS = {
    "missing code": ([["", "无编码", "县市区", ""]], [(2, "code")]),
    "bad kind": ([["x", "某", "省级", ""]], [(2, "kind")]),
    "unknown parent": ([["x", "某", "一级单位", "nowhere"]], [(2, "parent")]),
    "own parent": ([["x", "某", "二级单位", "x"]], [(2, "parent")]),
    "duplicate code": ([["x", "甲", "县市区", ""], ["x", "乙", "县市区", ""]], [(3, "code")]),
    "cycle": (
        [["a", "甲", "二级单位", "b"], ["b", "乙", "二级单位", "a"]],
        [(2, "parent"), (3, "parent")],
    ),
    "root re-parented": ([[ROOT_CODE, "市委依法治市办", "city", "zh"]], [(2, "parent")]),
    "root re-kinded": ([[ROOT_CODE, "市委依法治市办", "县市区", ""]], [(2, "kind")]),
    "sub under the city": ([["x", "某", "二级单位", ""]], [(2, "parent")]),
    "too long": ([["x" * 65, "某", "县市区", ""]], [(2, "code")]),
}


@pytest.mark.parametrize("case", list(BAD_UNITS))
def test_each_bad_unit_row_is_reported_and_nothing_is_written(ctx, tmp_path, case):
    before = counts(ctx)
    rows, expected = BAD_UNITS[case]
    report = run_units(ctx, write_csv(tmp_path / "u.csv", UNIT_HEADER, [TREE[2], *rows]))
    assert not report.written
    assert [(e.row - 1, e.field) for e in report.errors] == expected
    assert counts(ctx) == before


def test_skip_bad_writes_only_the_good_rows(any_ctx, tmp_path):
    rows = [
        ["zh", "珠晖区", "县市区", ""],
        ["orphan", "孤儿", "一级单位", "missing"],
        ["orphan-child", "孤儿的下级", "二级单位", "orphan"],  # its parent row was refused
        ["zh-x", "珠晖区某局", "一级单位", "zh"],
    ]
    report = run_units(any_ctx, write_csv(tmp_path / "u.csv", UNIT_HEADER, rows), skip_bad=True)
    assert report.written and (report.created, report.skipped) == (2, 2)
    assert [(e.row, e.field) for e in report.errors] == [(3, "parent"), (4, "parent")]
    assert report.render().startswith(
        "导入完成：新增 2，更新 0\n表头在第 1 行，读取的列：单位编码、单位名称、单位类型、上级单位编码\n"
        "跳过有错误的 2 行：\n第 3 行 上级单位编码："
    )
    u = units_by_code(any_ctx)
    assert "zh-x" in u and "orphan" not in u and "orphan-child" not in u

    roster = [GOOD_LEARNER, ["bad.one", "某", "orphan", "是", "否", "1"]]
    report = run_roster(
        any_ctx, write_csv(tmp_path / "r.csv", ROSTER_HEADER, roster), skip_bad=True
    )
    assert (report.created, report.skipped, report.errors[0].row) == (1, 1, 3)
    detail = json.loads(audits(any_ctx, "roster.import")[0].detail)
    assert (detail["created"], detail["skipped"]) == (1, 1)


def test_render_caps_the_error_list():
    report = ImportReport(
        errors=[RowError(n, "account", "format", {}, "登录账号") for n in range(2, 62)]
    )
    lines = report.render().splitlines()
    assert lines[0] == "导入被拒绝：共 60 行有错误，未写入任何数据"
    assert lines[1] == "第 2 行 登录账号：格式不正确"
    assert len(lines) == 52 and lines[-1] == "……另有 10 行错误"


# --- bad files -------------------------------------------------------------------------------


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(MAX_INFLATED_BYTES // len(block) + 5):
                member.write(block)
    assert path.stat().st_size < 1 << 20
    return path


def _with_macros(path: Path) -> Path:
    write_xlsx(path.with_suffix(".tmp.xlsx"), UNIT_HEADER, TREE)
    with (
        zipfile.ZipFile(path.with_suffix(".tmp.xlsx")) as src,
        zipfile.ZipFile(path, "w") as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return path


BAD_FILES = {
    "missing": (lambda p: p / "nope.csv", "不存在"),
    "not really xlsx": (lambda p: _write(p / "fake.xlsx", b"code,name\nx,y\n"), "不是有效的 XLSX"),
    "xlsm": (lambda p: write_xlsx(p / "macro.xlsm", UNIT_HEADER, TREE), ".xlsm"),
    "vba inside xlsx": (lambda p: _with_macros(p / "vba.xlsx"), "vbaProject.bin"),
    "unsupported": (lambda p: _write(p / "units.txt", b"code"), "不支持的文件类型"),
    "oversized": (
        lambda p: _sparse(p / "big.csv", MAX_FILE_BYTES + 1),
        "文件过大",
    ),
    "zip bomb": (lambda p: _zip_bomb(p / "bomb.xlsx"), "解压后过大"),
    "missing column": (
        lambda p: write_csv(p / "u.csv", ["code", "name"], [["x", "y"]]),
        "单位类型",
    ),
    "duplicate header": (
        lambda p: write_csv(
            p / "u.csv", ["code", "单位编码", "name", "kind"], [["x", "x", "y", "县市区"]]
        ),
        "表头重复",
    ),
    "header only": (lambda p: write_csv(p / "u.csv", UNIT_HEADER, []), "没有数据行"),
}


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [({"max_rows": 20}, "数据行超过 20 行上限"), ({"max_bytes": 200}, "上限为")],
)
def test_the_configured_limits_refuse_a_larger_file(ctx, tmp_path, limits, fragment):
    """config [imports] max_rows / max_file_mb (the command line passes them): 21 rows."""
    path = write_csv(
        tmp_path / "u.csv", UNIT_HEADER, [[f"u{i}", "某", "县市区", ""] for i in range(21)]
    )
    with pytest.raises(ImportFileError, match=fragment):
        read_table(path, "units", **limits)
    assert len(read_table(path, "units")) == 21  # the defaults take a whole city's file


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (refused before it is read)."""
    with path.open("wb") as fh:
        fh.write(b"code,name,kind\n")
        fh.truncate(size)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_and_change_nothing(ctx, tmp_path, case):
    before = counts(ctx)
    make, fragment = BAD_FILES[case]
    with pytest.raises(ImportFileError, match=fragment.replace(".", r"\.")):
        run_units(ctx, make(tmp_path))
    assert counts(ctx) == before


# --- command line ----------------------------------------------------------------------------


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_exit_codes(tmp_path):
    good = write_xlsx(tmp_path / "units.xlsx", UNIT_HEADER, TREE)
    done = _cli(tmp_path, "units", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "导入完成：新增 3，更新 0" in done.stdout
    assert "表头在第 1 行，读取的列：单位编码、单位名称、单位类型、上级单位编码" in done.stdout

    bad = write_csv(
        tmp_path / "bad.csv", UNIT_HEADER, [["park", "园区甲", "园区", ""], ["y", "某", "省级", ""]]
    )
    refused = _cli(tmp_path, "units", "import", str(bad))
    assert refused.returncode == 1
    assert "导入被拒绝" in refused.stdout and "第 3 行 单位类型" in refused.stdout

    skipped = _cli(tmp_path, "units", "import", str(bad), "--skip-bad")
    assert skipped.returncode == 1
    assert "导入完成：新增 1，更新 0" in skipped.stdout

    roster = write_csv(
        tmp_path / "r.csv", ["账号", "姓名", "单位", "免考"], [["abc", "甲", "park", "是"]]
    )
    imported = _cli(tmp_path, "roster", "import", str(roster))
    assert imported.returncode == 0, imported.stderr
    assert "1 名在职学员在平台上标为免考" in imported.stdout

    fake = _write(tmp_path / "fake.xlsx", b"not a zip")
    broken = _cli(tmp_path, "units", "import", str(fake))
    assert broken.returncode == 2 and "不是有效的 XLSX" in broken.stderr and broken.stdout == ""


# --- messages --------------------------------------------------------------------------------

IMPORTERS = [
    "bot/core/tabular/files.py",
    "bot/core/tabular/tables.py",
    "bot/core/tabular/reading.py",
    "bot/core/tabular/rows.py",
    "bot/org/units_import.py",
    "bot/roster/roster_import.py",
    "bot/results/importer.py",
    "bot/bank/questions.py",
]
CODE_PATTERNS = [
    r'\.error\(\s*[^,()]+,\s*"(\w+)"',  # RowCheck.error(key, code, ...)
    r'\.add\(\s*[^,()]+,\s*[^,()]+,\s*"(\w+)"',  # RowErrors.add(row, key, code, ...)
    r'Error\(\s*"(\w+)"',  # ImportFileError / BankFileError(code, ...)
    r'return "(\w+)", \{',  # a unit-tree problem (code, params)
]


def test_every_error_code_has_a_message():
    """Each code an importer raises is written by a messages template (a typo would print an
    empty message)."""
    import re

    from bot.core.render import template_dirs

    templates = "".join(
        p.read_text(encoding="utf-8")
        for d in template_dirs()
        for p in d.glob("_*import_messages.j2")
    )
    codes = {
        code
        for path in IMPORTERS
        for pattern in CODE_PATTERNS
        for code in re.findall(pattern, (REPO / path).read_text(encoding="utf-8"))
    }
    assert len(codes) > 70
    assert sorted(c for c in codes if f'code == "{c}"' not in templates) == []
