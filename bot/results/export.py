"""The results workbook and chart (``/results_export``, ``python -m bot results export``).

The workbook has one sheet per level — city-wide, counties / parks, first-level units, sub-units
— plus the definitions; the chart is a PNG bar chart of the pass rates of the worst 20
first-level units (matplotlib's Agg canvas, no pyplot and no display). Unit names are drawn with a
font that has Chinese glyphs when the machine has one; otherwise the bars are labelled by rank
(and by unit code where it is plain ASCII) and the caption that goes with the chart names them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment

from bot.core import xlsx
from bot.core.config import Config
from bot.results.service import RatesReport, UnitRates, percent

SHEET_CITY = "全市"
SHEET_COUNTIES = "县市区"
SHEET_FIRST = "一级单位"
SHEET_SUBS = "二级单位"
SHEET_NOTES = "说明"
SHEETS = (SHEET_CITY, SHEET_COUNTIES, SHEET_FIRST, SHEET_SUBS, SHEET_NOTES)
CHART_UNITS = 20
PERCENT_FORMAT = "0.0%"

# Families known to carry Simplified Chinese glyphs, tried first; any other installed font that
# has them is found by looking at its character map.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Sarasa Gothic SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
)
PROBE = "衡阳市县区局"
# Fonts that map every character to a placeholder box: they "have" every glyph, uselessly.
PLACEHOLDER_FONTS = ("Last Resort",)

_COLUMNS = [
    ("应考人数", 10),
    ("补考前参考", 10),
    ("补考前通过", 10),
    ("补考前参考率", 12),
    ("补考前通过率", 12),
    ("补考后参考", 10),
    ("补考后通过", 10),
    ("补考后参考率", 12),
    ("补考后通过率", 12),
]


def _numbers(u: UnitRates) -> list[Any]:
    b, a = u.before, u.after
    return [
        b.base,
        b.sat,
        b.passed,
        b.participation,
        b.pass_rate,
        a.sat,
        a.passed,
        a.participation,
        a.pass_rate,
    ]


def _level_sheet(
    book: Workbook, title: str, lead: list[tuple[str, int]], rows: list[list[Any]]
) -> None:
    headers = [h for h, _ in lead] + [h for h, _ in _COLUMNS]
    widths = [w for _, w in lead] + [w for _, w in _COLUMNS]
    sheet = xlsx.add_sheet(book, title, headers, widths)
    xlsx.put_rows(sheet, rows)
    first_rate = len(lead) + 1
    rate_columns = [first_rate + i for i in (3, 4, 7, 8)]
    for r in range(2, sheet.max_row + 1):
        for c in rate_columns:
            sheet.cell(row=r, column=c).number_format = PERCENT_FORMAT


def build_workbook(config: Config, report: RatesReport) -> Workbook:
    book = xlsx.new_workbook()
    city = report.city
    _level_sheet(book, SHEET_CITY, [("范围", 20)], [[config.campaign.city, *_numbers(city)]])
    _level_sheet(
        book,
        SHEET_COUNTIES,
        [("县市区/园区", 18), ("单位编码", 14)],
        [[u.name, u.code, *_numbers(u)] for u in report.counties],
    )
    _level_sheet(
        book,
        SHEET_FIRST,
        [("单位", 30), ("单位编码", 18), ("所属", 14)],
        [[u.name, u.code, u.county or "市直", *_numbers(u)] for u in report.worst_first()],
    )
    _level_sheet(
        book,
        SHEET_SUBS,
        [("单位", 30), ("单位编码", 18), ("上级单位", 24), ("所属", 14)],
        [
            [u.name, u.code, u.parent or "", u.county or "市直", *_numbers(u)]
            for u in report.sub_units
        ],
    )
    notes = book.create_sheet(SHEET_NOTES)
    notes.column_dimensions["A"].width = 110
    lines = [
        f"统计时间：{report.now.astimezone(config.tz):%Y-%m-%d %H:%M}",
        "应考人数：在职且未免考的学员；每个单位的人数包含其全部下级单位（"
        + config.admin_duties.pass_rate_base
        + "）。",
        f"参考：至少有一次考试有成绩（未导入成绩的学员按未参考计）；通过：成绩不低于 {report.pass_mark} 分"
        f"（满分 {config.exam.full_marks} 分）。",
        "参考率 = 参考人数 ÷ 应考人数；通过率 = 通过人数 ÷ 应考人数。",
        "补考前：分类组考与分众组考两次考试中的最好成绩；补考后：参加补考者的补考成绩也计入。",
        "人员调动：学员计入其参加该次考试时所在的单位（成绩文件中的单位编码，或首次导入该次成绩时花名册上的单位）；"
        "补考前按最近一次分类/分众考试的单位，补考后按补考时的单位；没有任何成绩的学员计入花名册上的现单位。",
        "一级单位工作表按补考后通过率从低到高排列。",
    ]
    for r, text in enumerate(lines, start=1):
        cell = xlsx.put(notes, r, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.properties.title = f"{config.campaign.title} 考试通过率"
    book.properties.creator = config.campaign.city_office
    return book


def write_results_xlsx(
    config: Config, report: RatesReport, path_or_buffer: str | os.PathLike[str] | IO[bytes]
) -> int:
    return xlsx.save(build_workbook(config, report), path_or_buffer)


# --- the chart ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    entries = list(font_manager.fontManager.ttflist)
    entries.sort(key=lambda e: (e.name not in CJK_FAMILIES, e.name))
    checked: set[str] = set()
    for entry in entries:
        if entry.fname in checked or entry.name.startswith(PLACEHOLDER_FONTS):
            continue
        checked.add(entry.fname)
        try:
            face = FT2Font(entry.fname)
            if all(face.get_char_index(ord(ch)) for ch in PROBE):
                return entry.name
        except Exception:  # an unreadable font file: try the next
            continue
    return None


@dataclass(frozen=True)
class Chart:
    png: bytes
    units: list[UnitRates]  # the bars, worst first
    names_drawn: bool  # False: labelled by rank / code (no Chinese font here)


def _label(rank: int, unit: UnitRates, names: bool) -> str:
    if names:
        return unit.name
    code = unit.code if unit.code.isascii() and unit.code.isprintable() else ""
    return f"{rank}. {code}".strip()


def chart_units(report: RatesReport, limit: int = CHART_UNITS) -> list[UnitRates]:
    """The worst ``limit`` first-level units that have anyone in their base."""
    return [u for u in report.worst_first() if u.after.base][:limit]


def render_chart(config: Config, report: RatesReport, limit: int = CHART_UNITS) -> Chart:
    """A horizontal bar chart of pass rates (after the makeup where it has results), worst at
    the top; a PNG in memory."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    units = chart_units(report, limit)
    family = cjk_font()
    names = family is not None
    labels = [_label(i, u, names) for i, u in enumerate(units, start=1)]
    values = [(u.after.pass_rate or 0.0) * 100 for u in units]
    height = 1.6 + 0.38 * max(len(units), 1)
    fig = Figure(figsize=(9, height), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    font = {"family": family} if names else {}
    positions = list(range(len(units)))[::-1]  # the worst at the top
    bars = ax.barh(positions, values, color="#c0504d", height=0.6)
    ax.set_yticks(positions, labels=labels, **font)
    ax.set_xlim(0, 100)
    ax.set_xlabel("通过率（%）" if names else "pass rate (%)", **font)
    title = (
        f"{config.campaign.city}一级单位考试通过率（最低 {len(units)} 个）"
        if names
        else f"Pass rate, worst {len(units)} first-level units"
    )
    ax.set_title(title, **font)
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            min(value + 1, 92), bar.get_y() + bar.get_height() / 2, f"{value:.1f}%", va="center"
        )
    if not units:
        ax.text(50, 0, "—", ha="center")
    ax.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A rare character missing from the font should cost a box, not a warning per glyph.
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
        fig.savefig(buffer, format="png")
    return Chart(buffer.getvalue(), units, names)


def chart_caption(chart: Chart, limit: int = 900) -> str:
    """The ranked list that goes with the chart (names in Chinese whatever the font)."""
    lines = []
    for rank, unit in enumerate(chart.units, start=1):
        lines.append(f"{rank}. {unit.name} {percent(unit.after.pass_rate)}")
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def filenames(now: dt.datetime) -> tuple[str, str]:
    return f"考试通过率-{now:%Y%m%d}.xlsx", f"通过率最低单位-{now:%Y%m%d}.png"
