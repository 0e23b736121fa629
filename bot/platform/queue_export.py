"""The operator's workbook (``python -m bot platform tasks --export FILE.xlsx``): one row per
task with everything needed to carry it out on the platform by hand. The column headers are in
``cli.toml`` [export]; kind, state and field names come from ``_platform.j2``, the same ones
every message uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from bot.core import words, xlsx
from bot.core.config import Config
from bot.core.render import environment, strip_html
from bot.platform.queue import Item

WORDS_FILE = Path(__file__).with_name("cli.toml")


def _words() -> dict[str, Any]:
    return words.load(WORDS_FILE)


def _labels(config: Config) -> Any:
    """The macros of ``_platform.j2`` (kind_label, status_label, fields_text)."""
    return environment().get_template("_platform.j2").make_module({"c": config})


def row(item: Item, config: Config, labels: Any) -> list[Any]:
    """One task as the workbook shows it (plain text, times in the campaign's zone)."""
    task = item.task
    return [
        task.id,
        strip_html(str(labels.kind_label(task.kind))),
        strip_html(str(labels.status_label(task.status))),
        task.account,
        item.learner_name,
        task.unit_code,
        item.unit_name,
        strip_html(str(labels.fields_text(task.fields))),
        task.requester_name,
        task.requested_at.astimezone(config.tz),
        task.result,
    ]


def write_queue_xlsx(
    items: Sequence[Item], config: Config, target: str | os.PathLike[str] | IO[bytes]
) -> int:
    """Write the workbook; its size in bytes."""
    spec = _words()["export"]
    headers, widths = zip(*spec["columns"], strict=True)
    book = xlsx.new_workbook()
    sheet = xlsx.add_sheet(book, spec["sheet"], headers, widths)
    labels = _labels(config)
    xlsx.put_rows(sheet, [row(item, config, labels) for item in items])
    return xlsx.save(book, target)
