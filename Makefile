# Two entry points for a fresh machine: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run sandbox test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "正在准备 .venv（首次约需一分钟） / preparing .venv ..." >&2
	@$(PY) -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 \
		&& $(PY) -m pip install --disable-pip-version-check -e '.[test]' >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log >&2; echo "依赖安装失败 / installing dependencies failed" >&2; exit 1; }
	@touch $(STAMP)

# With TELEGRAM_BOT_TOKEN set: serve Telegram. Without it: the offline sandbox.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then exec $(PY) -m bot run; else exec $(PY) -m bot sandbox; fi

sandbox: $(STAMP)
	@exec $(PY) -m bot sandbox

# Lint, the layering contracts (import-linter), types (mypy), then the tests.
test: $(STAMP)
	@$(PY) -m ruff check .
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m mypy
	@$(PY) -m pytest -q -n 2

lint: $(STAMP)
	@$(PY) -m ruff check .
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) -m mypy

bench: $(STAMP)
	@$(PY) -m benchmarks.bench

clean:
	rm -rf $(VENV) .pytest_cache
