# Koers — `make run` starts everything on http://127.0.0.1:8000, `make test` runs the suite.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PY310 = $(shell scripts/find-python310.sh)
VENV := .venv
RASA_VENV := .venv-rasa
APP_STAMP := $(VENV)/.installed
RASA_STAMP := $(RASA_VENV)/.installed
MODEL := models/koers.tar.gz
NLU_FILES := nlu/config.yml nlu/domain.yml nlu/koers_rasa/tokenizer.py nlu/koers_rasa/classifier.py $(shell find nlu/data -name '*.yml' 2>/dev/null | sort)
# the list of training files itself: removing or renaming a file also retrains
NLU_LIST := models/.nlu-files
NLU_LIST_NOW := $(shell echo $(NLU_FILES) | sha256sum | cut -c1-16)
$(shell mkdir -p models; [ "$$(cat $(NLU_LIST) 2>/dev/null)" = "$(NLU_LIST_NOW)" ] || echo $(NLU_LIST_NOW) > $(NLU_LIST))
PO_FILES := $(wildcard locales/*/LC_MESSAGES/koers.po)
MO_FILES := $(PO_FILES:.po=.mo)
BABEL_KEYWORDS := -k say:1 -k send:3 -k text:2 -k button:2 -k t:2 -k tn:2 -k N_ -k _ --no-default-keywords
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Rasa finds Koers' own components (the tokenizer, the tracker store) in nlu/koers_rasa
RASA_ENV := PYTHONPATH=nlu
# pip's notes about this machine's extra package folders are noise, not news
PIP_NOISE := grep -v -E '^WARNING: Location|BuildBackendWarning|^ *!!|^ *\*+$$|Please be careful|name as your package|with strategy|^ *$$' || true

.PHONY: help setup run test test-unit lint typecheck i18n i18n-extract i18n-update model validate clean chromium bench bench-gate bench-scale bench-nlu bench-nlu-cv bench-caseload bench-coach test-resilience

help: ## show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(RASA_STAMP): requirements/rasa-constraints.txt
	@echo "==> [1/4] Rasa environment ($(RASA_VENV), rasa 3.6.21; about 3 minutes the first time)"
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q --upgrade pip 2> >($(PIP_NOISE) >&2)
	@$(RASA_VENV)/bin/pip install rasa==3.6.21 -c requirements/rasa-constraints.txt 2> >($(PIP_NOISE) >&2) \
		| awk '/^Collecting/ { n++; printf "\r    %d packages resolved", n; fflush() } END { print "" }'
	@$(RASA_VENV)/bin/rasa --version >/dev/null 2>&1
	@touch $@

$(APP_STAMP): pyproject.toml
	@echo "==> [2/4] Application environment ($(VENV): rasa-sdk, SQLAlchemy 2, python-telegram-bot, web app; about 1 minute)"
	@test -x $(VENV)/bin/python || $(PY310) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade pip 2> >($(PIP_NOISE) >&2)
	@$(VENV)/bin/pip install -e '.[dev]' 2> >($(PIP_NOISE) >&2) \
		| awk '/^Collecting/ { n++; printf "\r    %d packages resolved", n; fflush() } END { print "" }'
	@touch $@

setup: $(RASA_STAMP) $(APP_STAMP) i18n ## create both virtual environments and compile the catalogs

locales/%/LC_MESSAGES/koers.mo: locales/%/LC_MESSAGES/koers.po $(APP_STAMP)
	@$(VENV)/bin/pybabel compile -d locales -D koers -l $* --statistics 2>&1 | sed 's/^/    /'

i18n: $(MO_FILES) ## compile the message catalogs (.po -> .mo)

i18n-extract: $(APP_STAMP) ## extract message ids from the code into locales/koers.pot
	@$(VENV)/bin/pybabel extract -q -F babel.cfg $(BABEL_KEYWORDS) --omit-header -o locales/koers.pot bot actions

i18n-update: i18n-extract ## add new message ids to every catalog (then translate them)
	@$(VENV)/bin/pybabel update -q -i locales/koers.pot -d locales -D koers --no-fuzzy-matching

$(MODEL): $(NLU_FILES) $(NLU_LIST) $(RASA_STAMP)
	@echo "==> [3/4] Training the assistant's model (six languages: about 7 minutes on 2 cores; only when nlu/ changed)"
	@mkdir -p models var
	@$(RASA_ENV) $(RASA_VENV)/bin/rasa train --config nlu/config.yml --domain nlu/domain.yml --data nlu/data \
		--out models --fixed-model-name koers 2>&1 | tee var/train.log \
		| awk '/Starting to train component/ { sub(/.*Starting to train component /, "    training "); print; fflush() } \
		       /trained and saved/ { print "    model saved in $@"; fflush() }' \
		|| { echo "training failed; the end of var/train.log:"; grep -v '^ ' var/train.log | tail -25; exit 1; }
	@test -f $@ && touch $@

model: $(MODEL) ## train the model when nlu/ changed

validate: $(RASA_STAMP) ## check the Rasa training data for conflicts
	@mkdir -p var
	@$(RASA_ENV) $(RASA_VENV)/bin/rasa data validate --config nlu/config.yml --domain nlu/domain.yml --data nlu/data \
		--fail-on-warnings > var/validate.log 2>&1 || { tail -40 var/validate.log; exit 1; }
	@echo "    training data is valid"

run: setup $(MODEL) ## start Rasa, the action server and the web app on 127.0.0.1
	@echo "==> [4/4] Starting Koers"
	@$(VENV)/bin/koers run

lint: $(APP_STAMP) ## ruff check and format check
	@$(VENV)/bin/ruff check bot actions tests bench nlu/koers_rasa
	@$(VENV)/bin/ruff format --check bot actions tests bench nlu/koers_rasa

typecheck: $(APP_STAMP) ## mypy on bot/ and actions/
	@$(VENV)/bin/mypy

chromium: ## install Debian's chromium for the browser tests (when missing)
	@command -v chromium >/dev/null 2>&1 || { echo "==> installing chromium (Debian package)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test-unit: setup ## the fast tests (no model, no browser)
	@$(VENV)/bin/pytest -q -m "not rasa and not browser and not postgres"

test: setup $(MODEL) chromium lint typecheck validate ## everything: lint, types, data, unit, Rasa stories, end-to-end, browser, PostgreSQL
	@echo "==> Rasa conversation tests (real model)"
	@mkdir -p var
	@$(RASA_ENV) $(RASA_VENV)/bin/rasa test core --model $(MODEL) --stories nlu/tests/test_stories.yml \
		--fail-on-prediction-errors --out var/rasa-test-results >/dev/null 2>var/rasa-test.log \
		|| { tail -30 var/rasa-test.log; cat var/rasa-test-results/failed_test_stories.yml 2>/dev/null; exit 1; }
	@echo "    all conversation stories passed"
	@pg_url=$$(scripts/postgres.sh start) && trap 'scripts/postgres.sh stop' EXIT && \
		KOERS_TEST_POSTGRES_URL=$$pg_url $(VENV)/bin/pytest -q -p no:cacheprovider --durations=10

bench-nlu: setup $(MODEL) ## held-out NLU quality per language against the goal (writes bench/nlu-results.json)
	@$(VENV)/bin/python bench/nlu_quality.py

bench-nlu-cv: setup ## 3-fold cross-validation of the NLU per language: trains 3 models, about 25 minutes (writes bench/nlu-cv-results.json)
	@$(VENV)/bin/koers nlu-eval --cross-validation $${KOERS_CV_FOLDS:-3}
	@$(VENV)/bin/python bench/report.py

test-resilience: setup $(MODEL) chromium ## the slow tests: 100 conversations x 10 applications at once; 10,000 hostile messages; one slow action (CI runs it after `make test`)
	@pg_url=$$(scripts/postgres.sh start) && trap 'scripts/postgres.sh stop' EXIT && \
		KOERS_TEST_POSTGRES_URL=$$pg_url KOERS_RESILIENCE=1 \
		KOERS_LOAD_CONVERSATIONS=100 KOERS_LOAD_APPLICATIONS=10 KOERS_FUZZ_MESSAGES=10000 \
		$(VENV)/bin/python -m pytest -q -p no:cacheprovider --durations=5 tests/e2e/test_load.py tests/e2e/test_fuzz.py \
		"tests/e2e/test_postgres.py::test_one_slow_action_does_not_slow_the_others"

bench: setup $(MODEL) ## Koers against a bare `rasa init` assistant: latency, throughput, long history, cost (writes bench/results.json, BENCHMARKS.md)
	@$(VENV)/bin/python bench/turns.py
	@$(VENV)/bin/python bench/report.py

bench-gate: setup $(MODEL) ## 100 conversations at once with 0 (no limit), 1, 2, 3 turns at once in the Rasa server, 3 rounds each (writes bench/gate-results.json)
	@$(VENV)/bin/python bench/turn_gate.py
	@$(VENV)/bin/python bench/report.py

bench-scale: setup $(MODEL) ## nginx + 2 Rasa (Redis locks) + 2 action servers + PostgreSQL: 100 conversations, nothing lost (writes bench/scale-results.json)
	@for pkg in nginx:nginx-light redis-server:redis-server; do \
		command -v $${pkg%%:*} >/dev/null 2>&1 || test -x /usr/sbin/$${pkg%%:*} || { echo "==> installing $${pkg#*:} (Debian package)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $${pkg#*:} >/dev/null; }; done
	@$(VENV)/bin/python -m bench.scale
	@$(VENV)/bin/python bench/report.py

bench-caseload: setup ## the coach's caseload with 2,000 employees, p50/p95 per page (writes bench/caseload-results.json)
	@$(VENV)/bin/python bench/caseload.py

bench-coach: setup ## the coach's side at scale on SQLite and PostgreSQL: 2,000 employees x 104 weeks, pages, PDF (writes bench/coach-scale-results.json)
	@$(VENV)/bin/python bench/coach_scale.py

clean: ## remove the environments, the model and local data
	rm -rf $(VENV) $(RASA_VENV) models var .pytest_cache .mypy_cache .ruff_cache
	find locales -name '*.mo' -delete
