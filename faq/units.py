"""The units a question names, resolved through the config: which attachment-1 row a city or
county department belongs to (by its system's words, ``bot.org.sectors``), at which level, and
which question-bank duty it has (by department, law or theme); and the config's names a
question may use (units, departments, laws, people), which the segmenter keeps whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.core.config import CategoryDepartment, Config, QuestionDepartment
from bot.org.sectors import department_named
from faq.names import (
    COUNTY,
    FORMS,
    aliases,
    core_name,
    find_names,
    short_law_name,
    topic_theme,
    unit_level,
    unit_mention,
    without_spaces,
)
from faq.text import normalise


@dataclass(frozen=True)
class UnitHit:
    """A unit a question names, resolved through attachment 1."""

    mention: str | None  # the name as written ("耒阳市公安局"), when it reads as a unit's name
    dept: CategoryDepartment | None  # the attachment-1 row of its system
    member: str | None  # the customs unit named, for the customs row
    explicit: bool  # the row itself is named ("省科技厅"), not a unit of its system
    level: str | None  # COUNTY, CITY, or None when the name does not say
    qdept: QuestionDepartment | None  # its question-bank duty (city departments)


def resolve_unit(config: Config, text: str) -> UnitHit:
    city = config.campaign.city
    mention = unit_mention(text)
    office = config.campaign.city_office
    bare_office = core_name(office, city).removeprefix(FORMS.committee)  # without its 市委
    if mention and (office.startswith(mention) or bare_office in mention):
        mention = None  # "市依法治市办" is the city office, not a unit that takes an exam
    level = unit_level(mention or text)
    members = {m: d for d in config.category_departments for m in d.members}
    hit = find_names(text, members, city)
    if hit:
        return UnitHit(mention, members[hit[0]], hit[0], True, level, None)
    named = find_names(text, [d.name for d in config.category_departments], city)
    explicit = bool(named) and any(text.find(n) >= 0 for n in named)
    dept = config.category_department(named[0]) if named and explicit else None
    if dept is None and mention is not None:
        dept = department_named(config, mention)
    if dept is None:
        dept = department_named(config, text)
    bank = find_names(mention or text, [q.department for q in config.question_bank], city)
    qdept = config.question_department(bank[0]) if bank and level != COUNTY else None
    return UnitHit(mention, dept, None, explicit, level, qdept)


def question_department(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``qdept``: the question-bank department named by department (a county's namesake is
    not it) or by one of its laws; ``law``: the law, when it was named by a law."""
    city = config.campaign.city
    hits = find_names(question, [q.department for q in config.question_bank], city)
    if unit_level(unit_mention(question) or "") == COUNTY:
        hits = []  # "衡东县教育局" is a county's bureau, not the city's 市教育局
    qdept: QuestionDepartment | None = config.question_department(hits[0]) if hits else None
    text = without_spaces(question)
    by_law = next(
        (
            (q, law)
            for q in config.question_bank
            for law in q.laws
            if law in text or (len(short := short_law_name(law, city)) >= 2 and short in text)
        ),
        None,
    )
    by_law = by_law or law_in_words(config, text)
    if by_law is not None and (qdept is None or by_law[0] is not qdept):
        # "反有组织犯罪法的题是市公安局报的吧": the law's department, and the one named (``asked``)
        q, law = by_law
        return {"qdept": q, "law": law, "named": q, "unlisted": None, "asked": qdept}
    if qdept is not None:
        return {"qdept": qdept, "law": None, "named": qdept, "unlisted": None, "asked": None}
    for q in config.question_bank:
        theme = topic_theme(q.topic)
        if theme is not None and theme in text:
            return {"qdept": q, "law": None, "named": q, "unlisted": None, "asked": None}
    # a unit named that has no duty ("市财政局要报送试题吗"): it is not on the list
    return {
        "qdept": None,
        "law": None,
        "named": None,
        "unlisted": unit_mention(question),
        "asked": None,
    }


def law_in_words(config: Config, text: str) -> tuple[QuestionDepartment, str] | None:
    """A law named in a question's own words ("秸秆焚烧那个条例", "安全生产那块"): the law
    whose own character pairs (those of no other department's laws) the question holds, over
    ``LAW_CHARS`` characters at least; None when no law, or more than one, is so named."""
    bank = tuple((q.department, tuple(q.laws)) for q in config.question_bank)
    found = {
        (dept, law)
        for dept, law, pairs in _law_pairs(bank, config.campaign.city)
        if len({ch for pair in pairs if pair in text for ch in pair}) >= LAW_CHARS
    }
    if len({dept for dept, _ in found}) != 1:
        return None
    dept, law = sorted(found)[0]
    q = config.question_department(dept)
    return (q, law) if q is not None else None


LAW_CHARS = 3  # "秸秆焚烧", "安全生产": a law's own pairs; "交通" alone names no law


@lru_cache(maxsize=4)
def _law_pairs(
    bank: tuple[tuple[str, tuple[str, ...]], ...], city: str
) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """Each law of the question bank (department, its laws) with its character pairs that no
    other department's laws use (the city's name and the laws' common endings aside)."""
    laws = [(dept, law, _pairs(short_law_name(law, city))) for dept, own in bank for law in own]
    out = []
    for dept, law, pairs in laws:
        others = set().union(*(p for d, _, p in laws if d != dept))
        out.append((dept, law, frozenset(pairs - others)))
    return tuple(out)


def _pairs(name: str) -> set[str]:
    text = without_spaces(normalise(name))
    return {text[i : i + 2] for i in range(len(text) - 1)}


def fact_terms(config: Config) -> tuple[str, ...]:
    """The names a yes-or-no question may check against an answer ("是在如法网上考吗"): the
    platform's, the units', the departments', the laws'."""
    p = config.platform
    names = [p.name, p.short_name, p.site, p.app, config.campaign.city_office]
    names += [config.books.compiler, config.books.publisher]
    names += [config.question_submission.compiler, config.question_submission.receiver]
    names += config.contacts.people
    names += [alias for n in config_names(config) for alias in aliases(n, config.campaign.city)]
    return _longest_first(names)


def law_names(config: Config) -> tuple[str, ...]:
    """The question bank's laws as a question may name them: in full or shortened
    ("湘江保护条例", "湘江保护")."""
    city = config.campaign.city
    names = {law for q in config.question_bank for law in q.laws}
    names |= {short_law_name(n, city) for n in names}
    return _longest_first(names)


def _longest_first(names: Iterable[str]) -> tuple[str, ...]:
    """Each name once, normalised, longest first (so a longer name is matched before a part
    of it); one-character names dropped."""
    return tuple(sorted({normalise(n) for n in names if len(n) >= 2}, key=len, reverse=True))


def config_names(config: Config) -> list[str]:
    """The names of units, departments and laws in the config: words the segmenter keeps whole."""
    names = list(config.centralized.units)
    names += [q.department for q in config.question_bank]
    names += [law for q in config.question_bank for law in q.laws]
    names += [d.name for d in config.category_departments]
    names += [m for d in config.category_departments for m in d.members]
    names += config.contacts.people
    return names
