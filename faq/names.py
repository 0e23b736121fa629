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
        )


FORMS = NameForms.load()


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
    text = without_spaces(question)
    hits: list[tuple[int, str]] = []
    for name in names:
        best = max((len(a) for a in aliases(name, city) if a in text), default=0)
        if best:
            hits.append((best, name))
    hits.sort(key=lambda item: -item[0])
    return [name for _, name in hits]


def short_law_name(law: str, city: str = "") -> str:
    """'衡阳市湘江保护条例' -> '湘江保护': how a question may name a law."""
    short = law.removeprefix(city)
    for suffix in FORMS.law_suffixes:
        short = short.removesuffix(suffix)
    return short
