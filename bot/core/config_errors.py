"""Turning a config.toml problem into one bilingual line that names the key.

The words are data (``config_errors.toml``): what each kind of validation error expected, and the
message formats. ``describe`` is for pydantic's validation errors, ``toml_error`` for TOML that
does not parse (an impossible date, say), ``message`` for the rest.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.core import words

WORDS = Path(__file__).with_name("config_errors.toml")
_TOML_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_.\-\"]+)\s*=")
_TABLE_LINE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")


def _words() -> dict[str, Any]:
    return words.load(WORDS)


def message(name: str, **params: Any) -> str:
    """One of the message formats of config_errors.toml, filled in."""
    return str(_words()["messages"][name]).format(**params)


def key_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location as the dotted key a user finds in config.toml."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(root)"


def describe(error: dict[str, Any], source: str) -> str:
    """The first validation error of a config, on one line."""
    expected: dict[str, list[str]] = _words()["expected"]
    kind = error["type"]
    if kind in expected:
        zh, en = expected[kind]
    else:
        zh, en = _words()["messages"]["invalid_value"], error["msg"].removeprefix("Value error, ")
    got = ""
    if kind != "missing" and "input" in error and not isinstance(error["input"], dict | list):
        got = f"; got {error['input']!r}"
    return message("invalid", path=source, key=key_path(error["loc"]), zh=zh, en=en, got=got)


def toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """Name the key on the line TOML could not read (e.g. an impossible date)."""
    line_no = getattr(exc, "lineno", None)
    if line_no is None:
        match = re.search(r"line (\d+)", str(exc))
        line_no = int(match.group(1)) if match else None
    key, table = "?", ""
    if line_no:
        lines = text.splitlines()
        if 0 < line_no <= len(lines) and (m := _TOML_KEY_LINE.match(lines[line_no - 1])):
            key = m.group(1)
        for previous in reversed(lines[: max(line_no - 1, 0)]):
            if header := _TABLE_LINE.match(previous):
                table = header.group(1) + "."
                break
    where = f"line {line_no}" if line_no else "unknown line"
    return message("bad_toml", path=path, key=f"{table}{key}", where=where, error=exc)
