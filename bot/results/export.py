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
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported where a workbook is made (bot.core.xlsx)
    from openpyxl import Workbook

from bot.core import xlsx
from bot.core.config import Config
from bot.core.render import render, strip_html
from bot.results.labels import section
from bot.results.rates import RatesReport, UnitRates
from bot.results.table import percent

_SHEETS = section("workbook.sheets")
SHEET_CITY = _SHEETS["city"]
SHEET_COUNTIES = _SHEETS["counties"]
SHEET_FIRST = _SHEETS["first"]
SHEET_SUBS = _SHEETS["subs"]
SHEET_NOTES = _SHEETS["notes"]
SHEETS = (SHEET_CITY, SHEET_COUNTIES, SHEET_FIRST, SHEET_SUBS, SHEET_NOTES)
CHART_UNITS = 20
CAPTION_LIMIT = 900  # characters of the chart's caption (Telegram allows 1024)
PERCENT_FORMAT = "0.0%"
RATE_COLUMNS = (3, 4, 7, 8)  # of the figures: the four rates
NOTES_WIDTH = 110
PROGRESS_EVERY = 500  # rows between two progress reports

Progress = Callable[[int, int], None]  # (done rows, total rows)

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
# Fonts that map every character to a placeholder box: they "have" every glyph, uselessly.
PLACEHOLDER_FONTS = ("Last Resort",)

Column = tuple[str, int]  # header, width


def _columns(key: str) -> list[Column]:
    return [(str(header), int(width)) for header, width in section("workbook.lead")[key]]


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


class _Rows:
    """Counts the data rows written and tells ``progress`` now and then (never the last row
    before the file is written: ``done`` is the whole workbook only once it is saved)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def add(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % PROGRESS_EVERY == 0 and self.done < self.total:
            self.progress(self.done, self.total)

    def finished(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


def _level_sheet(
    book: Workbook, title: str, lead: list[Column], rows: list[list[Any]], counter: _Rows
) -> None:
    """One level's sheet: the lead columns (name, code …), then the figures, the rates as
    percentages; each cell through the one writer (``xlsx.put``)."""
    figures = [(str(h), int(w)) for h, w in section("workbook.figures")["columns"]]
    columns = lead + figures
    sheet = xlsx.add_sheet(book, title, [h for h, _ in columns], [w for _, w in columns])
    rate_columns = {len(lead) + 1 + i for i in RATE_COLUMNS}
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            cell = xlsx.put(sheet, r, c, value)
            if c in rate_columns:
                cell.number_format = PERCENT_FORMAT
        counter.add()
    if rows:
        sheet.auto_filter.ref = sheet.dimensions


def _notes(book: Workbook, config: Config, report: RatesReport) -> None:
    """The definitions sheet: how every figure is counted."""
    notes = book.create_sheet(SHEET_NOTES)
    notes.column_dimensions["A"].width = NOTES_WIDTH
    text = strip_html(render("results_export_notes", c=config, r=report))
    for r, line in enumerate(text.splitlines(), start=1):
        cell = xlsx.put(notes, r, 1, line)
        xlsx.wrap(cell)


def _rows_of(report: RatesReport, progress: Progress | None) -> _Rows:
    total = 1 + len(report.counties) + len(report.first_level) + len(report.sub_units)
    return _Rows(total, progress)


def build_workbook(
    config: Config, report: RatesReport, progress: Progress | None = None
) -> Workbook:
    """The workbook in memory: one row per unit (a few thousand), whatever the learners."""
    return _build(config, report, _rows_of(report, progress))


def _build(config: Config, report: RatesReport, counter: _Rows) -> Workbook:
    words = section("workbook")
    city_level = words["city_level"]
    book = xlsx.new_workbook()
    city = [[config.campaign.city, *_numbers(report.city)]]
    _level_sheet(book, SHEET_CITY, _columns("city"), city, counter)
    counties = [[u.name, u.code, *_numbers(u)] for u in report.counties]
    _level_sheet(book, SHEET_COUNTIES, _columns("counties"), counties, counter)
    first = [[u.name, u.code, u.county or city_level, *_numbers(u)] for u in report.worst_first()]
    _level_sheet(book, SHEET_FIRST, _columns("first"), first, counter)
    subs = [
        [u.name, u.code, u.parent or "", u.county or city_level, *_numbers(u)]
        for u in report.sub_units
    ]
    _level_sheet(book, SHEET_SUBS, _columns("subs"), subs, counter)
    _notes(book, config, report)
    book.properties.title = words["title"].format(title=config.campaign.title)
    book.properties.creator = config.campaign.city_office
    return book


def write_results_xlsx(
    config: Config,
    report: RatesReport,
    path_or_buffer: str | os.PathLike[str] | IO[bytes],
    progress: Progress | None = None,
) -> int:
    """Write the workbook; return its size in bytes. ``progress(done_rows, total_rows)``, if
    given, is told as the unit rows are written, and with ``done_rows == total_rows`` once the
    file is."""
    counter = _rows_of(report, progress)
    size = xlsx.save(_build(config, report, counter), path_or_buffer)
    counter.finished()
    return size


# --- the chart ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    probe = section("chart")["font_probe"]
    entries = list(font_manager.fontManager.ttflist)
    entries.sort(key=lambda e: (e.name not in CJK_FAMILIES, e.name))
    checked: set[str] = set()
    for entry in entries:
        if entry.fname in checked or entry.name.startswith(PLACEHOLDER_FONTS):
            continue
        checked.add(entry.fname)
        try:
            face = FT2Font(entry.fname)
            if all(face.get_char_index(ord(ch)) for ch in probe):
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
    font: dict[str, Any] = {"family": family} if names else {}
    positions = list(range(len(units)))[::-1]  # the worst at the top
    bars = ax.barh(positions, values, color="#c0504d", height=0.6)
    ax.set_yticks(positions, labels=labels, **font)
    ax.set_xlim(0, 100)
    words = section("chart")
    ax.set_xlabel(words["axis" if names else "axis_plain"], **font)
    title = words["title" if names else "title_plain"]
    ax.set_title(title.format(city=config.campaign.city, count=len(units)), **font)
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


def chart_caption(config: Config, chart: Chart, limit: int = CAPTION_LIMIT) -> str:
    """The ranked list that goes with the chart (names in Chinese whatever the font), cut at a
    line's end to fit a caption."""
    text = render("results_chart_caption", c=config, chart=chart, pct=percent)
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1] + "…"


def filenames(now: dt.datetime) -> tuple[str, str]:
    """The workbook's and the chart's file names, dated."""
    words = section("files")
    day = f"{now:%Y%m%d}"
    return words["xlsx"].format(day=day), words["png"].format(day=day)
