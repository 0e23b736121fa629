"""Answer templates: compiled once, their bytecode kept on disk for the next start."""

from __future__ import annotations

import pytest

from faq import compiled as compiled_


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No template compiled in this process yet, the cache in ``tmp_path/cache``."""
    monkeypatch.setattr(compiled_, "_templates", {})
    monkeypatch.setattr(compiled_, "_cache", [])
    monkeypatch.setattr(compiled_, "cache_dirs", lambda: [tmp_path / "cache"])
    return tmp_path / "cache"


def test_a_template_compiled_once_is_loaded_from_the_cache_next_time(fresh, monkeypatch):
    source = "{{ n }}场：{{ items|join('，') }}"
    first = compiled_.compiled(source).render(n=2, items=["8:30", "9:00"])
    assert first == "2场：8:30，9:00"
    assert len(list(fresh.glob("jinja-*.cache"))) == 1
    # A new process: nothing in memory; the bytecode comes from the file, not the compiler.
    monkeypatch.setattr(compiled_, "_templates", {})
    monkeypatch.setattr(compiled_, "_cache", [])
    env = compiled_.environment()
    monkeypatch.setattr(env, "compile", lambda *a, **k: pytest.fail("compiled again"))
    assert compiled_.compiled(source).render(n=2, items=["8:30", "9:00"]) == first


def test_an_edited_template_is_compiled_again(fresh):
    assert compiled_.compiled("甲{{ x }}").render(x=1) == "甲1"
    assert compiled_.compiled("乙{{ x }}").render(x=1) == "乙1"
    assert len(list(fresh.glob("jinja-*.cache"))) == 2


def test_a_damaged_cache_file_costs_only_the_compilation(fresh, monkeypatch):
    source = "丙{{ x }}"
    compiled_.compiled(source)
    for path in fresh.glob("jinja-*.cache"):
        path.write_bytes(b"not bytecode")
    monkeypatch.setattr(compiled_, "_templates", {})
    monkeypatch.setattr(compiled_, "_cache", [])
    assert compiled_.compiled(source).render(x=3) == "丙3"


def test_without_a_writable_directory_templates_still_compile(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would go")
    monkeypatch.setattr(compiled_, "_templates", {})
    monkeypatch.setattr(compiled_, "_cache", [])
    monkeypatch.setattr(compiled_, "cache_dirs", lambda: [blocked / "cache"])
    assert compiled_.compiled("丁{{ x }}").render(x=4) == "丁4"
    assert compiled_._cache == [None]
