"""The layout's promises, checked: small modules, one name per template, words in templates.

The layering itself (who may import whom, no cycles, no Telegram in services, no tests in the
product) is import-linter's job (``make test`` runs ``lint-imports``; contracts in pyproject.toml).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from bot.core.render import template_dirs

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "reminders", "faq")
MAX_LINES = 500
MAX_CHINESE_LITERALS = 100
CHINESE = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def product_files() -> list[Path]:
    return sorted(
        p
        for package in PRODUCT
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts or "versions" not in p.parts
    )


def chinese_literals(path: Path) -> list[tuple[int, str]]:
    """String constants with Chinese in them, docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CHINESE.search(node.value)
    ]


def test_no_product_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in product_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_template_names_are_unique_across_capabilities() -> None:
    names = Counter(p.name for d in template_dirs() for p in d.glob("*.j2"))
    assert [name for name, count in names.items() if count > 1] == []


def test_words_live_in_templates_and_data_files() -> None:
    """Every word a user reads comes from a template or a data file; the few Chinese literals
    left in Python (date-format filters, a handful of vocabularies) stay under a fixed budget."""
    found = {str(p.relative_to(ROOT)): len(chinese_literals(p)) for p in product_files()}
    total = sum(found.values())
    worst = sorted(found.items(), key=lambda item: -item[1])[:5]
    assert total < MAX_CHINESE_LITERALS, f"{total} Chinese literals in Python; most in {worst}"
