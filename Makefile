# The whole setup on a fresh machine: `make demo`, `make test`. Nothing else to install by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13, the Lambda runtime: from PATH, else from pyenv's versions (a pyenv shim may exist
# without working, so each candidate is tried).
PYTHON ?= $(shell for p in $$(command -v python3.13) $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n 1); do "$$p" -c "import sys" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
PY := $(VENV)/bin/python
INPUT ?=
VENDOR ?=
# A job of steps instead of one vendor: vendor names in order, separated by spaces or commas (STEPS='pubrio prospeo
# check365'); OPTIONS='prospeo.enrich_mobile=true' is then that step's option, OPTIONS='max_credits=500' the job's.
STEPS ?=
comma := ,
STEP_NAMES := $(subst $(comma), ,$(STEPS))
OPTIONS ?=
# The column each field is read from: COLUMNS='email=Work Email 2,company_name=Account' (the job option `columns`).
# Only from the command line: shells export COLUMNS as the terminal's width.
COLUMNS_OPTION := $(if $(filter command line,$(origin COLUMNS)),$(COLUMNS))
# Named faults for `make run`, each word NAME or NAME*N or out_of_credits@k (the table: localrt/faults.py).
FAULTS ?=
# A vendor's real endpoint and credentials instead of its simulator (localrt/live.py; the README's "Against a real vendor").
LIVE ?=
# Webhook receivers off the public internet for `make api` (host:port,...; jobs/webhook_address.py). Only from the
# command line, never from an exported variable: it opens the stack's webhooks to those addresses.
WEBHOOK_ALLOW_OPTION := $(if $(filter command line,$(origin WEBHOOK_ALLOW)),$(WEBHOOK_ALLOW))
# Some machines' pip configuration names local package folders that do not exist: pip warns once per package.
# Where local runs keep the stack's data between commands (jobs, the cache, outputs: localrt/state.py); make
# clean-local forgets it.
LOCAL_STATE ?= .local
PIP_FILTER := { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2

.PHONY: help setup demo run preview check-vendor api sample test bench lint static sam-setup scan-setup browser clean clean-local

help:
	@echo "make demo                                   a sample job per vendor and a waterfall, outputs under out/"
	@echo "make run INPUT=file.csv VENDOR=pubrio       one job; the last line printed is its output folder;"
	@echo "make run INPUT=file.csv STEPS='pubrio prospeo check365'"
	@echo "                                             a job of steps (instead of VENDOR), vendors in order"
	@echo "         [OPTIONS='enrich_mobile=true']      job options; with STEPS, prospeo.enrich_mobile=true is"
	@echo "                                             that step's option, max_credits=500 the job's"
	@echo "         [COLUMNS='email=Work Email 2']      the column each field is read from (the option columns)"
	@echo "         [FAULTS='accept_then_drop 429*3']   faults for the vendor, NAME or NAME*N (N times) or"
	@echo "                                             out_of_credits@k; names: accept_then_drop, crash_after_accept,"
	@echo "                                             check_5xx (not prospeo: no check), check_timeout, out_of_credits,"
	@echo "                                             429, 500, timeout, malformed, fail_job, never_complete,"
	@echo "                                             hourly_quota, daily_quota, account_blocked; insideview only:"
	@echo "                                             unknown_status, expired_link, missing_column; check365 only:"
	@echo "                                             success_false, no_results, drop_result"
	@echo "                                             (localrt/faults.py); writes simulator.json; exits 1 if FAILED"
	@echo "         [LIVE=vendor.json]                  the vendor's real endpoint and credentials, not the simulator"
	@echo "make preview INPUT=file.csv VENDOR=prospeo [OPTIONS=...] [COLUMNS=...]"
	@echo "                                             what the job would do: columns, rows to send, invalid,"
	@echo "                                             duplicates, chunks; nothing is sent; exits 1 if it would fail"
	@echo "make preview INPUT=file.csv STEPS='pubrio prospeo check365' [OPTIONS=...]"
	@echo "                                             a job of steps: each step's rows and credits, at worst and"
	@echo "                                             expected"
	@echo "make check-vendor VENDOR=prospeo [LIVE=vendor.json]"
	@echo "                                             prove the credentials work: the cheapest call, one line"
	@echo "make test                                   every test, static checks included"
	@echo "make clean-local                            forget what local runs remember (jobs, cache, outputs in .local/)"
	@echo "make api                                    the jobs API on http://127.0.0.1:3000 (SigV4-signed requests)"
	@echo "         [WEBHOOK_ALLOW=127.0.0.1:8123]      webhook receivers off the public internet (host:port,...)"
	@echo "make bench                                  the issue's figures in one table (a benchmark, not a test: long)"
	@echo "         [BENCH=cost,job_time]               sections, of: pacing, cost, cold_imports, scale, job_time"
	@echo "         [BENCH_ROWS=2000]                   rows of each job for cost and job_time (default 10000)"
	@echo "         [BENCH_SIZES=10000,100000]          row counts for scale (default 10000,100000,1000000)"
	@echo "         [BENCH_MINUTES=1] [BENCH_REPEATS=3]  pacing's minutes per vendor (3), cold imports' repeats (7)"

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (the Lambda runtime): install it or set PYTHON=/path/to/python3.13" >&2; exit 1; }
	@echo "setting up $(VENV) with $(PYTHON) ..." >&2
	@$(PYTHON) -m venv $(VENV)
	@set -o pipefail; $(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | $(PIP_FILTER)
	@set -o pipefail; $(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | $(PIP_FILTER)
	@touch $@

# A tool's own virtual environment, from its requirements file (its pins would clash with the project's):
# $(call tool_venv,what it holds)
define tool_venv
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required" >&2; exit 1; }
	@echo "setting up $(@D) ($(1)) ..." >&2
	@$(PYTHON) -m venv $(@D)
	@set -o pipefail; $(@D)/bin/pip install --quiet --disable-pip-version-check -r $< 2>&1 | $(PIP_FILTER)
	@touch $@
endef

$(SAM_VENV)/.installed: requirements-sam.txt
	$(call tool_venv,aws-sam-cli)

$(SCAN_VENV)/.installed: requirements-scan.txt
	$(call tool_venv,checkov and cfn-lint)

setup: $(VENV)/.installed

scan-setup: $(SCAN_VENV)/.installed

sam-setup: $(SAM_VENV)/.installed

demo: setup
	@$(PY) -m localrt demo --state-dir "$(LOCAL_STATE)"

run: setup
	@test -n "$(INPUT)" -a \( -n "$(VENDOR)" -o -n "$(STEP_NAMES)" \) -a \( -z "$(VENDOR)" -o -z "$(STEP_NAMES)" \) || { echo "usage: make run INPUT=path/to/file.csv VENDOR=pubrio|prospeo|check365|insideview (or STEPS='pubrio prospeo check365', not both) [OPTIONS='enrich_mobile=true' (with STEPS: 'prospeo.enrich_mobile=true max_credits=500')] [COLUMNS='email=Work Email 2'] [FAULTS='accept_then_drop 429*3 out_of_credits@2'] [LIVE=vendor.json]" >&2; exit 2; }
	@$(PY) -m localrt run --input "$(INPUT)" $(if $(STEP_NAMES),$(foreach v,$(STEP_NAMES),--step "$(v)"),--vendor "$(VENDOR)") $(foreach o,$(OPTIONS),--option "$(o)") --columns "$(COLUMNS_OPTION)" $(foreach f,$(FAULTS),--fault "$(f)") $(if $(LIVE),--live "$(LIVE)") --state-dir "$(LOCAL_STATE)"

preview: setup
	@test -n "$(INPUT)" -a \( -n "$(VENDOR)" -o -n "$(STEP_NAMES)" \) -a \( -z "$(VENDOR)" -o -z "$(STEP_NAMES)" \) || { echo "usage: make preview INPUT=path/to/file.csv VENDOR=pubrio|prospeo|check365|insideview (or STEPS='pubrio prospeo check365', not both) [OPTIONS='enrich_mobile=true' (with STEPS: 'prospeo.enrich_mobile=true max_credits=500')] [COLUMNS='email=Work Email 2']" >&2; exit 2; }
	@$(PY) -m localrt preview --input "$(INPUT)" $(if $(STEP_NAMES),$(foreach v,$(STEP_NAMES),--step "$(v)"),--vendor "$(VENDOR)") $(foreach o,$(OPTIONS),--option "$(o)") --columns "$(COLUMNS_OPTION)" --state-dir "$(LOCAL_STATE)"

check-vendor: setup
	@test -n "$(VENDOR)" || { echo "usage: make check-vendor VENDOR=pubrio|prospeo|check365|insideview [LIVE=vendor.json]" >&2; exit 2; }
	@$(PY) -m localrt check-vendor --vendor "$(VENDOR)" $(if $(LIVE),--live "$(LIVE)") --state-dir "$(LOCAL_STATE)"

api: setup
	@$(PY) -m localrt api --port "$(or $(PORT),3000)" --webhook-allow "$(WEBHOOK_ALLOW_OPTION)" --state-dir "$(LOCAL_STATE)"

sample: setup
	@test -n "$(VENDOR)$(STEPS)" || { echo "usage: make sample VENDOR=pubrio|prospeo|check365|insideview, or STEPS='pubrio prospeo check365' (rows for a job of steps) [ROWS=1000] [OUTPUT=file.csv]" >&2; exit 2; }
	@$(PY) -m localrt sample $(if $(STEPS),--waterfall,--vendor "$(VENDOR)") --rows "$(or $(ROWS),1000)" \
		--output "$(or $(OUTPUT),out/sample-$(if $(STEPS),waterfall,$(VENDOR)).csv)"

# The benchmarks (bench/): figures printed, nothing asserted on speed; not part of `make test`.
bench: setup
	@$(PY) -m bench $(if $(BENCH),--sections "$(BENCH)") $(if $(BENCH_ROWS),--rows "$(BENCH_ROWS)") \
		$(if $(BENCH_SIZES),--sizes "$(BENCH_SIZES)") $(if $(BENCH_MINUTES),--minutes "$(BENCH_MINUTES)") \
		$(if $(BENCH_REPEATS),--repeats "$(BENCH_REPEATS)")

lint: setup
	@$(VENV)/bin/ruff check .

# Debian's Chromium renders each job's report.html in a test (tests/e2e/test_report.py); installed once.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser:
	@test -x $(CHROMIUM) || { echo "installing Chromium (Debian's package), for the report test ..." >&2; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: setup sam-setup scan-setup browser
	@SAM_CLI=$(CURDIR)/$(SAM_VENV)/bin/sam SCAN_BIN=$(CURDIR)/$(SCAN_VENV)/bin PYTHON313=$(PYTHON) $(VENV)/bin/pytest -n 2 --dist loadfile

# Forget what local runs remember (jobs, the cache, outputs kept in $(LOCAL_STATE)).
clean-local:
	rm -rf "$(LOCAL_STATE)"

clean: clean-local
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam out .pytest_cache
