"""The question bank: the template, validating real XLSX/CSV files (good, each kind of bad,
huge, zip bomb, macros, wrong or empty sheet), storing with history, late files, status,
export, the command line, and uploads through the bot in private chat."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from bot import cli
from bot.bank import questions, workbooks
from bot.bank import service as bank
from bot.bank.models import QuestionSubmission
from bot.bank.questions import HEADER, BankFileError
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.org import admins
from tests import factories

DEPT = "市司法局"
OTHER_DEPT = "市公安局"
_ids = itertools.count(1)


# --- building files ------------------------------------------------------------------------


def question_rows(config, single: int | None = None, multiple: int | None = None) -> list[list]:
    qs = config.question_submission
    single = qs.single_choice if single is None else single
    multiple = qs.multiple_choice if multiple is None else multiple
    rows: list[list] = []
    for i in range(single):
        rows.append(
            [
                "单选",
                f"单选题干 {i}：以下哪项正确？",
                f"甲{i}",
                f"乙{i}",
                f"丙{i}",
                f"丁{i}",
                "",
                "",
                "B",
                "反有组织犯罪法",
            ]
        )
    for i in range(multiple):
        rows.append(
            [
                "多选",
                f"多选题干 {i}：以下哪些正确？",
                f"子{i}",
                f"丑{i}",
                f"寅{i}",
                f"卯{i}",
                f"辰{i}",
                "",
                "ACE",
                "反有组织犯罪法",
            ]
        )
    return rows


def xlsx_bytes(
    rows: list[list],
    header: list[str] | None = HEADER,
    title: str = "试题",
    extra_sheet: str | None = "填写说明",
) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    if header is not None:
        ws.append(header)
    for row in rows:
        ws.append(row)
    if extra_sheet:
        wb.create_sheet(extra_sheet).append(["说明"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "xl/worksheets/sheet1.xml", b"\0" * (questions.MAX_UNCOMPRESSED_BYTES + 1024)
        )
    return buf.getvalue()


def with_macro(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"macro")
    return buf.getvalue()


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


def dept_identity(ctx, uid: int = 501, dept: str = DEPT):
    factories.bind(ctx, dept, "unit", uid)
    with ctx.db.session() as s:
        return admins.authorize(s, uid)


def submit(ctx, telegram_user_id: int, data: bytes, filename: str) -> bank.SubmitResult:
    """A file sent by the administrator bound to ``telegram_user_id``, in one unit of work."""
    request = bank.SubmitRequest(file_bytes=data, filename=filename)
    origin = Origin.telegram(telegram_user_id, telegram_user_id)
    return ctx.run_sync(lambda uow: bank.submit(uow, request), origin)


def status(ctx) -> dict[str, bank.DepartmentStatus]:
    return {i.department: i for i in ctx.run_sync(bank.status, Origin.cli())}


def audits(ctx, action: str | None = None) -> int:
    with ctx.db.session() as s:
        q = select(func.count()).select_from(AuditLog)
        if action:
            q = q.where(AuditLog.action == action)
        return s.exec(q).one()


def submissions(ctx) -> list[QuestionSubmission]:
    with ctx.db.session() as s:
        return list(s.exec(select(QuestionSubmission).order_by(QuestionSubmission.id)))


async def upload(bot, data: bytes | None, filename: str, user: str, size: int | None = None):
    """A document sent by ``user`` in private chat; its bytes are served by getFile/download."""
    file_id = f"file{next(_ids)}"
    if data is not None:
        bot.request.add_file(file_id, data)
    uid = bot.user_id(user)
    message = {
        "message_id": next(bot._message_ids),
        "date": int(time.time()),
        "chat": {"id": uid, "type": "private", "first_name": user},
        "from": {"id": uid, "is_bot": False, "first_name": user},
        "document": {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": filename,
            "file_size": size if size is not None else len(data or b""),
        },
    }
    return await bot._process({"update_id": next(bot._update_ids), "message": message})


def downloads(bot) -> int:
    return len(bot.request.of("download", "getFile"))


# --- the template --------------------------------------------------------------------------


def test_template_has_the_header_counts_and_instructions(config, tmp_path):
    path = workbooks.write_template(tmp_path / "t.xlsx", config)
    wb = load_workbook(path)
    sheet = wb[questions.SHEET_NAME]
    assert [c.value for c in sheet[1]] == HEADER
    types = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    qs = config.question_submission
    assert types.count("单选") == qs.single_choice and types.count("多选") == qs.multiple_choice
    help_text = "\n".join(
        str(r[0] or "") for r in wb[questions.HELP_SHEET_NAME].iter_rows(values_only=True)
    )
    assert (
        f"单选题 {qs.single_choice} 道" in help_text
        and f"{qs.deadline.month}月{qs.deadline.day}日" in help_text
    )
    assert all(d.department in help_text for d in config.question_bank)
    # The untouched template is not a submission: every row says what is missing.
    result = bank.validate(path.read_bytes(), "t.xlsx", DEPT, config)
    assert not result.ok and result.errors[0].message.startswith("只有题型")


# --- validation ----------------------------------------------------------------------------


def test_good_xlsx_and_csv_validate(config):
    rows = question_rows(config)
    result = bank.validate(xlsx_bytes(rows), "good.xlsx", DEPT, config)
    assert result.ok, result.errors
    assert (result.single, result.multiple) == (20, 10)
    assert result.questions[0].options == {"A": "甲0", "B": "乙0", "C": "丙0", "D": "丁0"}
    assert result.questions[-1].key == "ACE"
    for encoding in ("utf-8-sig", "gb18030"):
        assert bank.validate(csv_bytes(rows, encoding), "good.csv", DEPT, config).ok
    # Keys written loosely are read: "a, c、e", full-width letters.
    rows[-1][8] = "a, c、ｅ"
    assert bank.validate(xlsx_bytes(rows), "good.xlsx", DEPT, config).ok


def _mutate(config, change):
    rows = question_rows(config)
    change(rows)
    return rows


BAD_ROWS = {
    "one single missing": (lambda r: r.pop(0), "单选题共 19 道，应为 20 道"),
    "one multiple too many": (
        lambda r: r.append(["多选", "多余的题", "1", "2", "3", "4", "", "", "AB", ""]),
        "多选题共 11 道，应为 10 道",
    ),
    "missing stem": (lambda r: r[3].__setitem__(1, ""), "第 5 行：题干为空"),
    "missing option D": (lambda r: r[0].__setitem__(5, ""), "第 2 行：选项 D 为空"),
    "duplicate option": (lambda r: r[1].__setitem__(3, "甲1"), "第 3 行：选项 B 与选项 A 相同"),
    "gap before F": (lambda r: r[0].__setitem__(7, "巳"), "第 2 行：选项 F 前的选项 E 为空"),
    "single key two letters": (lambda r: r[2].__setitem__(8, "AB"), "单选题答案只能是一个字母"),
    "single key not a letter": (lambda r: r[2].__setitem__(8, "X"), "只能填 A–F 的字母"),
    "single key without option": (lambda r: r[2].__setitem__(8, "E"), "E 没有对应的选项"),
    "empty key": (lambda r: r[2].__setitem__(8, ""), "第 4 行：答案为空"),
    "multiple key one letter": (lambda r: r[25].__setitem__(8, "A"), "多选题答案至少要有两个字母"),
    "multiple key repeated": (lambda r: r[25].__setitem__(8, "AAC"), "重复的字母"),
    "multiple key beyond options": (lambda r: r[25].__setitem__(8, "AF"), "F 没有对应的选项"),
    "duplicate stem": (
        lambda r: r[9].__setitem__(1, " 单选题干 0：以下哪项正确？"),
        "第 11 行：题干与第 2 行重复",
    ),
    "unknown type": (lambda r: r[4].__setitem__(0, "判断"), "题型“判断”无法识别"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_each_kind_of_bad_row_is_reported(config, case):
    change, expected = BAD_ROWS[case]
    rows = _mutate(config, change)
    for data, name in ((xlsx_bytes(rows), "bad.xlsx"), (csv_bytes(rows), "bad.csv")):
        result = bank.validate(data, name, DEPT, config)
        assert not result.ok and result.questions == []
        rendered = [e.render() for e in result.errors]
        assert any(expected in line for line in rendered), rendered


BAD_FILES = {
    "huge": (lambda good: good + b"\0" * (3 * 1024 * 1024), "big.xlsx", "文件过大"),
    "zip bomb": (lambda good: zip_bomb(), "bomb.xlsx", "解压后过大"),
    "xlsm name": (lambda good: good, "macro.xlsm", "含宏"),
    "macro inside": (lambda good: with_macro(good), "macro.xlsx", "vbaProject.bin"),
    "not a zip": (lambda good: b"PK\x03\x04 not really", "broken.xlsx", "不是有效的 XLSX"),
    "pdf": (lambda good: b"%PDF-1.4", "q.pdf", "不支持的文件类型"),
    "binary csv": (lambda good: b"\x00\x01\x02\xff\xfe", "q.csv", None),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_as_a_whole(config, case):
    make, name, expected = BAD_FILES[case]
    good = xlsx_bytes(question_rows(config))
    with pytest.raises(BankFileError) as info:
        bank.validate(make(good), name, DEPT, config)
    if expected:
        assert expected in str(info.value)


def test_wrong_and_empty_sheets_are_refused(config):
    rows = question_rows(config)
    wrong = xlsx_bytes(rows, header=["姓名", "账号"], title="Sheet1", extra_sheet=None)
    with pytest.raises(BankFileError, match="找不到试题工作表"):
        bank.validate(wrong, "w.xlsx", DEPT, config)
    with pytest.raises(BankFileError, match="空"):
        bank.validate(xlsx_bytes([], header=None, extra_sheet=None), "e.xlsx", DEPT, config)
    with pytest.raises(BankFileError, match="只有表头"):
        bank.validate(xlsx_bytes([]), "h.xlsx", DEPT, config)
    with pytest.raises(BankFileError, match="CSV"):
        bank.validate("姓名,账号\n张三,a\n".encode(), "w.csv", DEPT, config)
    # The question sheet is found by its header even when renamed or not first.
    renamed = xlsx_bytes(rows, title="Sheet1", extra_sheet=None)
    assert bank.validate(renamed, "r.xlsx", DEPT, config).ok


# --- submitting ------------------------------------------------------------------------------


def test_submit_stores_replaces_keeps_history_and_audits(any_ctx, clock):
    ctx, config = any_ctx, any_ctx.config
    identity = dept_identity(ctx)
    first = xlsx_bytes(question_rows(config))
    result = submit(ctx, identity.telegram_user_id, first, "v1.xlsx")
    assert result.stored and result.late  # the clock is in September; the deadline was June
    clock.advance(dt.timedelta(hours=1))
    rows = question_rows(config)
    rows[0][1] = "改过的题干"
    again = submit(ctx, identity.telegram_user_id, xlsx_bytes(rows), "v2.xlsx")
    assert again.replaced
    stored = submissions(ctx)
    assert [s.file_name for s in stored] == ["v1.xlsx", "v2.xlsx"]
    assert stored[0].superseded_at is not None and stored[1].superseded_at is None
    assert json.loads(stored[1].content)[0]["stem"] == "改过的题干"
    assert audits(ctx, "questions.submit") == 2
    states = status(ctx)
    assert states[DEPT].state == "late" and states[DEPT].versions == 2
    assert states[OTHER_DEPT].state == "missing"


def test_invalid_file_and_wrong_administrators_store_nothing(world):
    config = world.config
    identity = dept_identity(world)
    factories.bind(world, "LY-JY", "unit", 777)
    factories.bind(world, "city", "city", 778)
    before = audits(world)
    bad = question_rows(config)
    bad[0][1] = ""
    result = submit(world, identity.telegram_user_id, xlsx_bytes(bad), "b.xlsx")
    assert not result.stored
    for uid in (777, 778):
        with pytest.raises(Refused) as info:
            submit(world, uid, xlsx_bytes(question_rows(config)), "q.xlsx")
        assert info.value.key == "bank_not_department"
    assert submissions(world) == []
    assert audits(world) == before


def ctx_closing(config) -> dt.time:
    return config.reminders.day_deadline


def test_on_time_is_not_late_and_export_merges(world, clock, tmp_path, monkeypatch):
    config = world.config
    deadline = config.question_submission.deadline
    closes = ctx_closing(config)  # "6月15日前": until the campaign's closing hour that day
    clock.freeze(dt.datetime.combine(deadline, closes) - dt.timedelta(minutes=1))
    submit(
        world, dept_identity(world).telegram_user_id, xlsx_bytes(question_rows(config)), "q.xlsx"
    )
    clock.freeze(dt.datetime.combine(deadline, closes) + dt.timedelta(minutes=1))
    other = dept_identity(world, 502, OTHER_DEPT)
    late = submit(world, other.telegram_user_id, csv_bytes(question_rows(config)), "q.csv")
    assert late.late
    states = {name: item.state for name, item in status(world).items()}
    assert (states[DEPT], states[OTHER_DEPT]) == ("submitted", "late")
    exported = world.run_sync(
        lambda uow: workbooks.export(uow, tmp_path / "bank.xlsx"), Origin.cli()
    )
    assert exported.questions == 2 * config.question_submission.total
    wb = load_workbook(tmp_path / "bank.xlsx")
    merged = list(wb["题库"].iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in merged} == {DEPT, OTHER_DEPT}
    assert merged[-1][-1] == "是"
    report = {r[0]: r[2] for r in wb["报送情况"].iter_rows(min_row=2, values_only=True)}
    assert report[DEPT] == "已报送" and report[OTHER_DEPT] == "逾期报送"
    assert list(report.values()).count("未报送") == len(config.question_bank) - 2

    # The command line: template and export.
    monkeypatch.setenv("DATABASE_URL", world.db.url)
    assert cli.main(["questions", "template", str(tmp_path / "t.xlsx")]) == 0
    assert load_workbook(tmp_path / "t.xlsx")[questions.SHEET_NAME]["B1"].value == "题干"
    assert cli.main(["questions", "export", str(tmp_path / "cli.xlsx")]) == 0
    assert load_workbook(tmp_path / "cli.xlsx")["题库"].max_row == 1 + 2 * 30
    assert cli.main(["questions", "export", str(tmp_path / "cli.csv")]) == 2


# --- through the bot -------------------------------------------------------------------------


async def test_template_is_sent_in_private_only(bot, world):
    factories.bind(world, DEPT, "unit", bot.user_id("司法局"))
    out = await bot.send("/template", user="司法局", group=True)
    assert "私聊" in out[0]
    out = await bot.send("/template", user="司法局")
    call = bot.request.of("sendDocument")[-1]
    assert "[文件]" in out[0] and "单选 20 道" in out[0]
    filename, content, _mime = call.files["document"]
    assert filename == "试题报送模板.xlsx"
    assert load_workbook(io.BytesIO(content))[questions.SHEET_NAME]["A1"].value == "题型"


async def test_upload_good_then_bad_then_replace(bot, world, clock):
    config = world.config
    factories.bind(world, DEPT, "unit", bot.user_id("司法局"))
    out = await upload(bot, xlsx_bytes(question_rows(config)), "试题.xlsx", "司法局")
    assert "试题已接收" in out[0] and "单选 20 道" in out[0] and "逾期" in out[0]
    bad = question_rows(config)
    for row in bad:  # two mistakes in every row: the reply is capped
        row[5] = row[8] = ""
    bad.pop()
    out = await upload(bot, xlsx_bytes(bad), "试题.xlsx", "司法局")
    assert "试题未被接收" in out[0] and "第 2 行：答案为空" in out[0]
    assert "多选题共 9 道，应为 10 道" in out[0] and "发现 59 处问题" in out[0]
    assert "另有 29 处问题未列出" in out[0]
    assert len(submissions(world)) == 1
    out = await upload(bot, csv_bytes(question_rows(config)), "试题.csv", "司法局")
    assert "已替换" in out[0]
    assert [s.superseded_at is None for s in submissions(world)] == [False, True]


@pytest.mark.parametrize(
    ("who", "binding", "expected"),
    [
        ("路人", None, "还没有绑定"),
        ("耒阳教育局", ("LY-JY", "unit"), "承担试题报送任务"),
        ("市办", ("city", "city"), "承担试题报送任务"),
    ],
)
async def test_upload_by_others_is_refused_without_download(bot, world, who, binding, expected):
    if binding:
        factories.bind(world, binding[0], binding[1], bot.user_id(who))
    before = audits(world)
    out = await upload(bot, xlsx_bytes(question_rows(world.config)), "q.xlsx", who)
    assert expected in out[0]
    assert downloads(bot) == 0 and submissions(world) == [] and audits(world) == before


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("huge.xlsx", 20 * 1024 * 1024, "文件过大"),
        ("q.xlsm", 1000, "含宏"),
        ("q.doc", 10, "不支持"),
    ],
)
async def test_refused_before_download(bot, world, name, size, expected):
    factories.bind(world, DEPT, "unit", bot.user_id("司法局"))
    out = await upload(bot, None, name, "司法局", size=size)
    assert "文件未被接收" in out[0] and expected in out[0]
    assert downloads(bot) == 0 and submissions(world) == []


async def test_zip_bomb_and_wrong_sheet_uploads_are_refused(bot, world):
    factories.bind(world, DEPT, "unit", bot.user_id("司法局"))
    out = await upload(bot, zip_bomb(), "q.xlsx", "司法局")
    assert "解压后过大" in out[0]
    wrong = xlsx_bytes(question_rows(world.config), header=["a", "b"], title="Sheet1")
    out = await upload(bot, wrong, "q.xlsx", "司法局")
    assert "找不到试题工作表" in out[0]
    assert submissions(world) == []


async def test_questions_status_for_the_city_office(bot, world, clock):
    config = world.config
    factories.bind(world, DEPT, "unit", bot.user_id("司法局"))
    factories.bind(world, "city", "city", bot.user_id("市办"))
    clock.freeze(dt.datetime.combine(config.question_submission.deadline, dt.time(9)))
    await upload(bot, xlsx_bytes(question_rows(config)), "q.xlsx", "司法局")
    out = await bot.send("/questions", user="市办")
    assert f"{DEPT}：已报送" in out[0] and f"{OTHER_DEPT}：未报送" in out[0]
    assert f"未报送 {len(config.question_bank) - 1} 个" in out[0]
    out = await bot.send("/questions", user="司法局")
    assert "只有" in out[0] and config.campaign.city_office in out[0]
