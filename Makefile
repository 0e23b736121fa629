# Two entry points for a fresh machine: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run sandbox test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip >&2
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' >&2
	@touch $(STAMP)

# With TELEGRAM_BOT_TOKEN set: serve Telegram. Without it: the offline sandbox.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then exec $(PY) -m bot run; else exec $(PY) -m bot sandbox; fi

sandbox: $(STAMP)
	@exec $(PY) -m bot sandbox

test: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m pytest -q

lint: $(STAMP)
	@$(PY) -m ruff check .

bench: $(STAMP)
	@$(PY) -m bot.bench

clean:
	rm -rf $(VENV) .pytest_cache
