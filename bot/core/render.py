"""Jinja2 rendering for every message the bot sends.

Templates live in ``bot/templates`` (one place for all of them). Autoescape is on, so anything a
user typed is HTML-escaped before it reaches Telegram's HTML parse mode. Filters format the
config's dates and times the way the notice writes them (month-day spans in Chinese, "H:MM").
"""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PRODUCT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = PRODUCT_ROOT / "bot" / "templates"  # macros and messages shared by every capability


def template_dirs() -> list[Path]:
    """Where templates are found: the shared folder, then each capability's own ``templates``
    folder (``bot/<capability>/templates``, ``reminders/templates``, ``faq/templates``). A
    template's name is unique across them all (tests/test_templates.py checks)."""
    own = sorted(PRODUCT_ROOT.glob("bot/*/templates")) + sorted(PRODUCT_ROOT.glob("*/templates"))
    return [TEMPLATE_DIR, *(d for d in own if d != TEMPLATE_DIR and d.is_dir())]


WEEKDAYS = "一二三四五六日"
NUMERALS = "零一二三四五六七八九十"


def md(day: dt.date) -> str:
    """2021-03-05 -> 3月5日"""
    return f"{day.month}月{day.day}日"


def ymd(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def hm(value: dt.time | dt.datetime) -> str:
    """08:30 -> 8:30, as the notice writes times."""
    return f"{value.hour}:{value.minute:02d}"


def span(start: dt.date, end: dt.date) -> str:
    """3/5..3/8 -> 3月5日至8日; 3/30..4/2 -> 3月30日至4月2日."""
    if start == end:
        return md(start)
    if start.month == end.month:
        return f"{md(start)}至{end.day}日"
    return f"{md(start)}至{md(end)}"


def window(value: Any) -> str:
    """A Window-like object (start/end) as a span."""
    return span(value.start, value.end)


def weekday(day: dt.date) -> str:
    return "周" + WEEKDAYS[day.weekday()]


def when(moment: dt.datetime) -> str:
    return f"{md(moment)} {hm(moment)}"


def cn_numeral(number: int) -> str:
    """1..10 as the notice writes them (一 … 十); larger numbers as digits."""
    return NUMERALS[number] if 0 < number <= 10 else str(number)


def cn_count(number: int) -> str:
    """A count as said before a measure word: 两次, 三场; 2 is 两, not 二."""
    return "两" if number == 2 else cn_numeral(number)


def join_cn(items: Any, sep: str = "、") -> str:
    return sep.join(str(i) for i in items)


_TAG = re.compile(r"<[^>]+>")


def strip_html(text: str) -> str:
    """What a Telegram client shows for an HTML message: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", text))


FILTERS = {
    "md": md,
    "ymd": ymd,
    "hm": hm,
    "window": window,
    "weekday": weekday,
    "when": when,
    "cn": join_cn,
    "cn_numeral": cn_numeral,
    "cn_count": cn_count,
}


def make_environment(loader: Any = None) -> Environment:
    env = Environment(
        loader=loader or FileSystemLoader([str(d) for d in template_dirs()]),
        autoescape=select_autoescape(enabled_extensions=("j2", "html"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() of the file per render
    )
    env.filters.update(FILTERS)
    env.globals["span"] = span
    return env


@lru_cache(maxsize=1)
def environment() -> Environment:
    return make_environment()


def render(name: str, **context: Any) -> str:
    """Render ``bot/templates/<name>.j2`` and trim surrounding blank space."""
    return environment().get_template(f"{name}.j2").render(**context).strip()
