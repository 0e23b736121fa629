"""Words and vocabularies kept as data: TOML files beside the code that uses them (header
aliases, labels, command-line help, the sandbox's lines …), each read once per process."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


@cache
def load(path: Path) -> dict[str, Any]:
    """A TOML data file, parsed once."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def beside(module_file: str, name: str) -> dict[str, Any]:
    """The data file ``name`` in the folder of the module whose ``__file__`` is given."""
    return load(Path(module_file).with_name(name))


def of(package: str, name: str) -> dict[str, Any]:
    """The data file ``name`` of a package (``of("bot.org", "cli.toml")``)."""
    return load(Path(str(resources.files(package).joinpath(name))))
