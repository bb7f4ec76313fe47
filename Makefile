# ConvLab — build and test the course.
#   make book     set up .venv + site JavaScript, execute every chapter, render _build/html
#                 (English) and _build/html/zh (Chinese, from locales/zh_CN)
#   make po       update the translation catalogues (locales/) from the chapters; list stale ones
#   make translations  is the Chinese edition complete? (catalogue tests; make test runs them too)
#   make test     ruff, strict book build, unit and browser tests (headless Chromium), in parallel
#   make term     the site for a term without public answers, in _build/term/_build/html
#   make serve    serve _build/html on http://127.0.0.1:8000
#   make lab      JupyterLab on the chapters (the .md files open as notebooks)
#   make student  student (no solutions) and instructor notebooks in _build/notebooks
#                 (Chinese ones in _build/notebooks/{student,instructor}/zh_CN)
#   make assignments  nbgrader course folders: _build/course, _build/course-zh_CN (Chinese)
#   make bench    benchmarks (print figures and ratios)
#   make publish  push _build/html to the gh-pages branch (ghp-import)
#   make clean    remove _build (keeps .venv and node_modules)

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
BUILD_FLAGS := -W -n --keep-going

.DEFAULT_GOAL := help
.PHONY: help book po translations term test lint unit site browser serve lab student assignments bench publish clean prereqs

help:
	@sed -n '2,16p' Makefile | sed 's/^# *//'

prereqs:
	@command -v $(PYTHON) >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || \
	  { echo "ConvLab needs Python 3.11: install it (e.g. 'apt-get install python3.11 python3.11-venv') and retry."; exit 1; }
	@py=$$(command -v $(PYTHON) || command -v python3); \
	  $$py -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "ConvLab needs Python 3.11 but '$$py' is $$($$py -V 2>&1): install Python 3.11 or run 'make PYTHON=/path/to/python3.11 book'."; exit 1; }
	@command -v npm >/dev/null 2>&1 || \
	  { echo "ConvLab needs Node.js and npm to fetch the site's JavaScript: install them (e.g. 'apt-get install nodejs npm') and retry."; exit 1; }

$(BIN)/python: | prereqs
	@py=$$(command -v $(PYTHON) || command -v python3); $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# After each install, rfc3987-syntax is removed again. jupyter-events asks for
# jsonschema[format-nongpl], and jsonschema imports rfc3987-syntax whenever it is installed; that
# builds about 35 Earley parsers at import, about 1 s in every process that imports nbformat
# (each nbgrader command, JupyterLab, Sphinx, jupytext, the test workers): `import nbformat`
# takes 1.08 s with it and 0.14 s without. It only checks the "iri" string formats, which no
# schema of these packages uses, and jsonschema skips those formats without it
# (python-jsonschema/jsonschema#1428). `pip check` still passes.
SLOW_IMPORT := rfc3987-syntax

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip uninstall --quiet --yes $(SLOW_IMPORT)
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip uninstall --quiet --yes $(SLOW_IMPORT)
	@touch $@

node_modules/.installed: package.json package-lock.json | prereqs
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# Torch (and numpy's BLAS) run on one thread in the build, in the notebook kernels it starts
# (they inherit the environment) and in the tests. The course's tensors are tiny: on a 2-core
# machine shared with other work, torch's default of one thread per core makes a clean build
# about 1.6x slower and chapter 4's receptive-field cell up to 40x slower. Set here, where the
# build and the tests start; `import convlab` sets nothing. (`make lab` keeps torch's default.)
# Python's byte-code cache stays on, whatever the environment says (some set
# PYTHONDONTWRITEBYTECODE): every notebook kernel, grader and test worker imports convlab and the
# tests, and without the cache each compiles them again (collecting the tests: 8.7 s instead of
# 6.0 s). The caches go to __pycache__/ folders, which git ignores.
unexport PYTHONDONTWRITEBYTECODE

book term test lint unit site browser student bench: export OMP_NUM_THREADS := 1
book term test lint unit site browser student bench: export MKL_NUM_THREADS := 1
book term test lint unit site browser student bench: export OPENBLAS_NUM_THREADS := 1

# A no-change `make book` only checks: _build/.book-built is newer than every input.
# When an input changed, tools/build_stamp.py first decides whether the cached executions are
# still valid: it hashes the *code* of convlab and the site extension (syntax trees without
# docstrings, plus JS/CSS), so a comment, a docstring or a revert costs no clean build. Then
# jupyter-cache re-executes only the chapters whose cells changed.
BOOK_INPUTS := _config.yml _toc.yml requirements.txt package-lock.json tools/make_student.py \
  tools/translate_notebook.py tools/build_stamp.py tools/i18n.py tools/execute_chapters.py \
  $(wildcard book/*.md book/_ext/*.py book/_ext/*.js book/_ext/templates/* \
  book/_static/* convlab/*.py convlab/*.js convlab/*.css convlab/locales/*/LC_MESSAGES/*.po \
  locales/*/LC_MESSAGES/*.po \
  locales/*/LC_MESSAGES/*/*.po locales/*/*.tsv locales/*/notebooks.po) \
  $(if $(wildcard _build/html/index.html),,book-missing)
.PHONY: book-missing

# The notebooks of both editions run first, JOBS at a time (tools/execute_chapters.py, into the
# caches myst-nb reads). The Chinese edition (tools/i18n.py: same chapters, locales/zh_CN, its
# own jupyter-cache) is then built at the same time as the English one, on the second core; its
# log is shown after the English build's. Both must succeed.
_build/.book-built: $(BOOK_INPUTS) $(VENV)/.installed node_modules/.installed
	@$(BIN)/python tools/build_stamp.py
	@$(BIN)/python tools/execute_chapters.py --jobs $(JOBS)
	@mkdir -p _build/zh
	@$(BIN)/python tools/i18n.py build zh_CN > _build/zh/build.log 2>&1 & zh=$$!; \
	  $(BIN)/jupyter-book build . $(BUILD_FLAGS); en=$$?; \
	  wait $$zh; zh_status=$$?; \
	  echo "---- the Chinese edition (_build/zh/build.log) ----"; cat _build/zh/build.log; \
	  test $$en -eq 0 -a $$zh_status -eq 0
	@touch $@

book: _build/.book-built
	@echo "Built: _build/html/index.html  (view it with 'make serve')"

# Translation catalogues: one .pot per document from the chapters (Sphinx's gettext builder,
# code left out), merged into locales/zh_CN/LC_MESSAGES/**.po by sphinx-intl; prints every
# message whose English changed (marked fuzzy) and how many are untranslated.
po: $(VENV)/.installed node_modules/.installed
	$(BIN)/python tools/i18n.py po

# Is the Chinese edition complete? Every message translated and current, catalogues in step
# with the chapters, the search finds the chapters (tests/test_i18n_complete.py; `make test`
# runs them too, after the build).
translations: $(VENV)/.installed-dev
	$(BIN)/python tools/i18n.py status
	$(BIN)/python -m pytest -q -m translations

# A term without public answers (book/_ext/convlab_term.py): the same book with every solution
# left out of the pages and no source downloads, in its own output folder so the self-study
# site in _build/html stays as it is. It reuses the default build's cached executions.
term: _build/.book-built
	CONVLAB_TERM=1 $(BIN)/jupyter-book build . $(BUILD_FLAGS) --path-output _build/term
	@echo "Built: _build/term/_build/html/index.html  (publish this folder for the term)"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check convlab tests tools bench book/_ext

# Tests run TEST_JOBS at a time (pytest-xdist workers, see below). `--dist loadgroup`
# keeps the tests of one page on one server together on one worker, so a page is still loaded
# once per server (tests/conftest.py). Tests marked `serial` build again in _build while they
# run: they run alone, before the tests that read the site.
# (`nproc` would answer OMP_NUM_THREADS, which the targets above set to 1: ask without it.)
JOBS ?= $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 2)
PYTEST := $(BIN)/python -m pytest -q
# The tests run one worker more than JOBS: a browser test spends part of its time waiting on
# its page (the network going idle, colour transitions) and a notebook test on its kernel, and
# the extra worker keeps every core busy meanwhile (on 2 cores, 3 workers finish the tests in
# about 247 s where 2 take 262-280 s, and 4 take 251 s). `JOBS=1` still runs one at a time.
TEST_JOBS = $(if $(filter 1,$(JOBS)),1,$(shell expr $(JOBS) + 1))
PARALLEL := -n $(TEST_JOBS) --dist loadgroup
UNIT := not site and not browser and not slow and not translations
# The `serial` tests are collected from the files that mark any (collecting every test file
# imports torch, Sphinx and Playwright: seconds of a run that executes two tests).
SERIAL := -m serial $(shell grep -l 'pytest.mark.serial' tests/test_*.py)
CHROMIUM_CHECK := test -x "$${CONVLAB_CHROMIUM:-/usr/bin/chromium}" || { echo "Browser tests need Debian's chromium: 'apt-get install -y chromium' (or set CONVLAB_CHROMIUM to a Chromium binary)."; exit 1; }

unit: $(VENV)/.installed-dev
	$(PYTEST) $(PARALLEL) -m "$(UNIT)"

site: book

browser: $(VENV)/.installed-dev
	@$(CHROMIUM_CHECK)
	$(PYTEST) $(SERIAL)
	$(PYTEST) $(PARALLEL) -m "not ($(UNIT)) and not serial"

# Everything after a build: the `serial` tests alone, then unit and browser tests together, so
# that a worker waiting on Chromium or a kernel leaves the core to the other.
test: lint site $(VENV)/.installed-dev
	@$(CHROMIUM_CHECK)
	$(PYTEST) $(SERIAL)
	$(PYTEST) $(PARALLEL) -m "not serial"

serve:
	@test -f _build/html/index.html || { echo "Nothing built yet: run 'make book' first."; exit 1; }
	@echo "Serving http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

lab: $(VENV)/.installed
	$(BIN)/python tools/lab_settings.py --prefix $(VENV)
	$(BIN)/jupyter lab book/

student: $(VENV)/.installed
	$(BIN)/python tools/make_student.py --src book --out _build/notebooks

assignments: $(VENV)/.installed
	$(BIN)/python tools/make_assignments.py --src book --out _build/course

bench: $(VENV)/.installed-dev node_modules/.installed
	$(BIN)/python bench/reference_speed.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/check_overhead.py
	$(BIN)/python bench/transfer_size.py
	$(BIN)/python bench/build_time.py
	$(BIN)/python bench/parallel_builds.py
	$(BIN)/python bench/grading_speed.py

publish: $(VENV)/.installed-dev
	@test -f _build/html/index.html || { echo "Nothing built yet: run 'make book' first."; exit 1; }
	$(BIN)/ghp-import --no-jekyll --push --force --branch gh-pages _build/html

clean:
	rm -rf _build
