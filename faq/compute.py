"""Answers that need a look-up or the clock.

Every FAQ answer template is rendered with the base context (``c`` the config, ``now`` the
injected clock's time, ``status`` the registration windows as of now). An entry may name a
``compute`` function here; it reads the question and adds variables for its template, e.g. which
provincial department the asker means. The template, not Python, still writes the words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.core.config import CategoryDepartment, Config, QuestionDepartment

_PREFIXES = ("省", "市", "县", "区")
_SUFFIX_ALIASES = {"委员会": "委", "人民法院": "院", "人民检察院": "检察院"}


def core_name(name: str, city: str = "") -> str:
    """'省卫健委' -> '卫健委', '衡阳市档案馆' -> '档案馆'. Used to match what people type."""
    core = name
    for prefix in (city, *_PREFIXES) if city else _PREFIXES:
        if core.startswith(prefix) and len(core) - len(prefix) >= 2:
            core = core[len(prefix) :]
            break
    return core


@lru_cache(maxsize=4096)
def _aliases(name: str, city: str = "") -> frozenset[str]:
    core = core_name(name, city)
    names = {name, core}
    if city and core.endswith(city + "委") and len(core) > len(city) + 1:
        # 民盟衡阳市委 -> 民盟, 民盟市委
        party = core[: -len(city) - 1]
        names.update({party, party + "市委"})
    for long, short in _SUFFIX_ALIASES.items():
        if core.endswith(long):
            names.add(core[: -len(long)] + short)
    # Common short forms: 发展改革委 -> 发改委, 自然资源与规划局 -> 自然资源局/自规局 ...
    extra = {
        "发展改革委": ["发改委"],
        "高院": ["高级人民法院", "法院"],
        "检察院": ["检察"],
        "市场监督管理局": ["市场监管局", "市监局", "市场监管"],
        "自然资源与规划局": ["自然资源局", "自规局", "资规局", "自然资源和规划局"],
        "应急管理局": ["应急局"],
        "应急管理厅": ["应急厅"],
        "消防救援支队": ["消防支队", "消防"],
        "地方金融管理局": ["金融局", "地方金融监管局", "金融办"],
        "委网信办": ["网信办"],
        "委宣传部": ["宣传部"],
        "委统战部": ["统战部"],
        "医疗保障局": ["医保局"],
        "机关事务局": ["机关事务管理局", "事务局"],
        "公共资源交易中心": ["交易中心"],
        "农业技术服务中心": ["农技中心", "农技服务中心"],
        "公交公司": ["公交"],
        "城建投": ["城建投资"],
        "烟草局": ["烟草"],
    }
    for key, values in extra.items():
        if core.endswith(key):
            names.update(values)
    return frozenset(n for n in names if len(n) >= 2)


def find_names(question: str, names: Iterable[str], city: str = "") -> list[str]:
    """Names mentioned in ``question``, best (longest alias) first."""
    text = re.sub(r"\s+", "", question)
    hits: list[tuple[int, str]] = []
    for name in names:
        best = max((len(a) for a in _aliases(name, city) if a in text), default=0)
        if best:
            hits.append((best, name))
    hits.sort(key=lambda item: -item[0])
    return [name for _, name in hits]


@dataclass(frozen=True)
class WindowStatus:
    """One dated window (a registration, an exam, a deadline) as of ``now``."""

    key: str
    name: str
    start: dt.date
    end: dt.date
    state: str  # "upcoming" | "open" | "closed"
    days_until: int  # whole days until it opens (0 when open or closed)
    days_left: int  # whole days left including today (0 when not open)

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def _status(key: str, name: str, start: dt.date, end: dt.date, today: dt.date) -> WindowStatus:
    if today < start:
        return WindowStatus(key, name, start, end, "upcoming", (start - today).days, 0)
    if today > end:
        return WindowStatus(key, name, start, end, "closed", 0, 0)
    return WindowStatus(key, name, start, end, "open", 0, (end - today).days + 1)


def registration_windows(config: Config, now: dt.datetime) -> list[WindowStatus]:
    """Every registration / submission window of the campaign, in date order."""
    today = now.date()
    items = [
        _status(
            f"zone{r.number}",
            f"分众组考第{_cn_number(r.number)}次考试报名",
            r.registration_start,
            r.registration_end,
            today,
        )
        for r in config.zone_rounds
    ]
    cz = config.centralized
    items.append(
        _status(
            "centralized", "集中考试预报名", cz.preregistration_start, cz.preregistration_end, today
        )
    )
    mk = config.makeup
    items.append(_status("makeup", "补考报名", mk.registration_start, mk.registration_end, today))
    qs = config.question_submission
    items.append(_status("questions", "试题报送", config.study.start, qs.deadline, today))
    cp = config.county_plans
    items.append(_status("county_plans", "县市区集中组考安排报送", cp.deadline, cp.deadline, today))
    return sorted(items, key=lambda w: (w.start, w.key))


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if 0 <= n <= 10 else str(n)


def base_context(config: Config, now: dt.datetime) -> dict[str, Any]:
    windows = registration_windows(config, now)
    return {
        "c": config,
        "now": now,
        "today": now.date(),
        "windows": windows,
        "open_windows": [w for w in windows if w.is_open],
        "next_window": next((w for w in windows if w.state == "upcoming"), None),
        "window": {w.key: w for w in windows},
    }


# --- per-entry computations ------------------------------------------------------------------


def category_department(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``dept``: the attachment-1 department the question names (or None); ``member``: the
    customs unit named, when the question names one of 长沙海关's members."""
    members = {m: d for d in config.category_departments for m in d.members}
    hit_member = find_names(question, members, config.campaign.city)
    if hit_member:
        return {"dept": members[hit_member[0]], "member": hit_member[0]}
    hits = find_names(question, [d.name for d in config.category_departments], config.campaign.city)
    dept: CategoryDepartment | None = config.category_department(hits[0]) if hits else None
    return {"dept": dept, "member": None}


def centralized_unit(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``unit``: the centralized-exam unit the question names, or None."""
    hits = find_names(question, config.centralized.units, config.campaign.city)
    return {"unit": hits[0] if hits else None}


def question_department(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``qdept``: the question-bank department named by department or by one of its laws."""
    hits = find_names(question, [q.department for q in config.question_bank], config.campaign.city)
    qdept: QuestionDepartment | None = config.question_department(hits[0]) if hits else None
    law = None
    if qdept is None:
        text = re.sub(r"\s+", "", question)
        for q in config.question_bank:
            for name in q.laws:
                short = (
                    name.removeprefix(config.campaign.city).removesuffix("法").removesuffix("条例")
                )
                if name in text or (len(short) >= 2 and short in text):
                    qdept, law = q, name
                    break
            if qdept:
                break
    return {"qdept": qdept, "law": law}


COMPUTES: dict[str, Callable[[Config, str, dt.datetime], dict[str, Any]]] = {
    "category_department": category_department,
    "centralized_unit": centralized_unit,
    "question_department": question_department,
}
