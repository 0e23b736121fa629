"""The knowledge base (``entries.toml``): one entry per question an administrator may ask, with
the ways people phrase it and its answer, a Jinja template over the config."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from faq.compute import COMPUTES

ENTRIES_PATH = Path(__file__).resolve().parent / "entries.toml"


@dataclass(frozen=True)
class Entry:
    id: str
    section: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    compute: str | None = None
    # Premises the notice's rule contradicts ("新管理员重新注册账号" for the rule that the
    # original account is changed over): a yes-or-no question holding one is answered "no".
    denies: tuple[str, ...] = ()
    # What the entry's rule is not about ("补考" for the zone exam's sessions): a question naming
    # one is not answered by it (the notice does not give the makeup's sessions).
    not_of: tuple[str, ...] = ()


def load_entries(path: Path = ENTRIES_PATH) -> list[Entry]:
    """The entries in file order; ids are unique and every ``compute`` names a function of
    ``faq.compute`` (checked here, so a typo fails at start-up, not at the first question)."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    entries = [
        Entry(
            id=raw["id"],
            section=raw["section"],
            question=raw["question"],
            phrasings=tuple(raw.get("phrasings", [])),
            answer=raw["answer"].strip(),
            compute=raw.get("compute"),
            denies=tuple(raw.get("denies", [])),
            not_of=tuple(raw.get("not_of", [])),
        )
        for raw in data.get("entry", [])
    ]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate FAQ entry ids")
    unknown = {e.compute for e in entries if e.compute and e.compute not in COMPUTES}
    if unknown:
        raise ValueError(f"unknown compute functions: {sorted(unknown)}")
    return entries
