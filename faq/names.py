"""Finding the units, departments and laws a question names, however people shorten them.

The names come from config.toml; the ways people shorten them (level prefixes, suffixes, common
short forms) from ``names.toml``, so a new campaign's units need no code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NAMES_PATH = Path(__file__).resolve().parent / "names.toml"
MIN_ALIAS_CHARS = 2  # a one-character alias ("委") would match almost any question
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class NameForms:
    """The vocabulary of ``names.toml``."""

    prefixes: tuple[str, ...]
    suffix_aliases: dict[str, str]
    committee: str
    short_committee: str
    law_suffixes: tuple[str, ...]
    short_forms: dict[str, tuple[str, ...]]
    county_places: tuple[str, ...] = ()
    county_marks: tuple[str, ...] = ()
    city_marks: tuple[str, ...] = ()
    unit_endings: tuple[str, ...] = ()
    not_in_name: str = ""
    generic_marks: str = ""
    not_generic: tuple[str, ...] = ()
    theme_between: tuple[str, ...] = ()
    theme_drop: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path = NAMES_PATH) -> NameForms:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return cls(
            prefixes=tuple(data["prefixes"]),
            suffix_aliases=dict(data["suffix_aliases"]),
            committee=data["party"]["committee"],
            short_committee=data["party"]["short_committee"],
            law_suffixes=tuple(data["laws"]["suffixes"]),
            short_forms={k: tuple(v) for k, v in data["short_forms"].items()},
            county_places=tuple(data["levels"]["county_places"]),
            county_marks=tuple(data["levels"]["county_marks"]),
            city_marks=tuple(data["levels"]["city_marks"]),
            unit_endings=tuple(data["levels"]["unit_endings"]),
            not_in_name=data["levels"]["not_in_name"],
            theme_between=tuple(data["laws"]["theme_between"]),
            theme_drop=tuple(data["laws"]["theme_drop"]),
            generic_marks=data["levels"]["generic_marks"],
            not_generic=tuple(data["levels"].get("not_generic", [])),
        )


FORMS = NameForms.load()
COUNTY, CITY = "county", "city"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MENTION = re.compile(
    f"(?:{_alternation((*FORMS.county_places, *FORMS.prefixes))})"
    f"[^\\s{re.escape(FORMS.not_in_name)}]{{0,8}}?(?:{_alternation(FORMS.unit_endings)})"
)
MIN_NAME_CHARS = 2  # "省厅": a level and a kind, no name between
_GENERIC = re.compile(f"[{re.escape(FORMS.generic_marks)}]")  # "省级部门", "市直单位"


def unit_mention(text: str) -> str | None:
    """The first unit a question names by its level and its kind ("市文旅广电局", "衡南县侨联",
    "耒阳市公安局"), whether or not the config knows it; None for "省级部门", "市直单位", and
    for a level and a kind alone ("省厅", "县局"), which name no one unit."""
    return next(iter(unit_mentions(text)), None)


def unit_mentions(text: str) -> list[str]:
    """Every unit a question names, in order ("市网信办和市财政局": both), each once."""
    found: list[str] = []
    for m in _MENTION.finditer(without_spaces(text)):
        name = m.group()
        generic = _GENERIC.search(_without(name, FORMS.not_generic))
        if len(name) > MIN_NAME_CHARS and not generic and name not in found:
            found.append(name)
    return found


def _without(text: str, words: Iterable[str]) -> str:
    for word in words:
        text = text.replace(word, "")
    return text


def unit_level(name: str) -> str | None:
    """COUNTY for a county's or district's unit ("耒阳市公安局", "县卫健局", "衡山分局"), CITY for
    the city's ("市财政局"), None when the name does not say."""
    if any(p in name for p in FORMS.county_places) or any(m in name for m in FORMS.county_marks):
        return COUNTY
    if any(m in name for m in FORMS.city_marks):
        return CITY
    return None


def without_spaces(text: str) -> str:
    return _SPACE.sub("", text)


def core_name(name: str, city: str = "") -> str:
    """'省卫健委' -> '卫健委', '衡阳市档案馆' -> '档案馆'. Used to match what people type."""
    core = name
    for prefix in (city, *FORMS.prefixes) if city else FORMS.prefixes:
        if core.startswith(prefix) and len(core) - len(prefix) >= MIN_ALIAS_CHARS:
            core = core[len(prefix) :]
            break
    return core


@lru_cache(maxsize=4096)
def aliases(name: str, city: str = "") -> frozenset[str]:
    """Every way a question may write ``name``: in full, without its level prefix, with its
    suffix shortened, or by a common short form."""
    core = core_name(name, city)
    names = {name, core}
    party_suffix = city + FORMS.committee
    if city and core.endswith(party_suffix) and len(core) > len(party_suffix):
        party = core[: -len(party_suffix)]
        names.update({party, party + FORMS.short_committee})
    for long, short in FORMS.suffix_aliases.items():
        if core.endswith(long):
            names.add(core[: -len(long)] + short)
    for ending, forms in FORMS.short_forms.items():
        if core.endswith(ending):
            names.update(forms)
    return frozenset(n for n in names if len(n) >= MIN_ALIAS_CHARS)


def find_names(question: str, names: Iterable[str], city: str = "") -> list[str]:
    """Names mentioned in ``question``, best (longest alias) first."""
    return list(_found(without_spaces(question), tuple(names), city))


@lru_cache(maxsize=8192)
def _found(text: str, names: tuple[str, ...], city: str) -> tuple[str, ...]:
    """``find_names`` once per text and list: a question is looked up by several answers."""
    hits: list[tuple[int, str]] = []
    for name in names:
        best = max((len(a) for a in aliases(name, city) if a in text), default=0)
        if best:
            hits.append((best, name))
    hits.sort(key=lambda item: -item[0])
    return tuple(name for _, name in hits)


@lru_cache(maxsize=1024)
def short_law_name(law: str, city: str = "") -> str:
    """'衡阳市湘江保护条例' -> '湘江保护': how a question may name a law."""
    short = law.removeprefix(city)
    for suffix in FORMS.law_suffixes:
        short = short.removesuffix(suffix)
    return short


def looks_like_name(word: str) -> bool:
    """A word that is (part of) a unit's or a place's name ("县卫健局", "衡南县", "支队"): the
    knowledge base cannot hold every unit, so such a word is no sign of an unknown topic."""
    return any(e in word for e in FORMS.unit_endings) or any(
        p in word for p in (*FORMS.county_places, *FORMS.county_marks)
    )


@lru_cache(maxsize=1024)
def topic_theme(topic: str) -> str | None:
    """'…等与耕地保护相关的法律法规试题' -> '耕地保护': the theme a question may name."""
    if len(FORMS.theme_between) != 2:
        return None
    before, after = (re.escape(w) for w in FORMS.theme_between)
    m = re.search(f"{before}(.+?){after}", topic)
    if m is None:
        return None
    theme = m.group(1)
    for word in FORMS.theme_drop:
        theme = theme.removeprefix(word)
    return theme if len(theme) >= MIN_ALIAS_CHARS else None
