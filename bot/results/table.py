"""The monospace tables of /results and ``python -m bot results show``: one line per unit with
its base, participation and pass rate (and after the makeup), padded by display width so that
Chinese names line up in a ``<pre>`` block. Headers come from ``labels.toml``."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.results.labels import section
from bot.results.rates import ResultsView, UnitRates

NAME_WIDTH = 14
NUMBER_WIDTH = 5
RATE_WIDTH = 7


def percent(value: float | None) -> str:
    """A rate as the tables and messages write it: "60.0%", or a dash for no base."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, or cut with an ellipsis."""
    if _width(text) <= width:
        return text + " " * (width - _width(text))
    out = ""
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    out += "…"
    return out + " " * (width - _width(out))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def text_table(
    rows: Sequence[UnitRates],
    *,
    after: bool,
    indent_from: int | None = None,
    name_width: int = NAME_WIDTH,
) -> str:
    """Unit, base, participation, pass rate (and the pass rate after the makeup). With
    ``indent_from``, names are indented by their depth below that level (a subtree)."""
    words = section("table")
    header = [
        _fit(words["unit"], name_width),
        _right(words["base"], NUMBER_WIDTH),
        _right(words["participation"], RATE_WIDTH),
        _right(words["pass_rate"], RATE_WIDTH),
    ]
    if after:
        header.append(_right(words["after"], RATE_WIDTH))
    lines = [" ".join(header).rstrip()]
    for u in rows:
        pad = "  " * max(0, u.depth - indent_from) if indent_from is not None else ""
        cells = [
            _fit(pad + u.name, name_width),
            _right(str(u.before.base), NUMBER_WIDTH),
            _right(percent(u.before.participation), RATE_WIDTH),
            _right(percent(u.before.pass_rate), RATE_WIDTH),
        ]
        if after:
            cells.append(_right(percent(u.after.pass_rate), RATE_WIDTH))
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class ViewTables:
    """The tables the ``results`` template shows: the view's rows, and the counties / parks
    for the city office (empty otherwise)."""

    table: str
    counties: str


def tables_for(view: ResultsView) -> ViewTables:
    after = view.report.has_makeup
    counties = ""
    if view.scope == "city" and view.report.counties:
        counties = text_table(view.report.counties, after=after)
    indent = view.head.depth + 1 if view.scope == "unit" else None
    return ViewTables(text_table(view.rows, after=after, indent_from=indent), counties)
