# Two commands: `make run` serves the demo municipality, `make test` runs the whole suite.
# Everything else here is what those two need; each step is skipped when already done.

PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
KERN := node_modules/@kern-ux/native/dist
CHROMIUM := /usr/bin/chromium
TRANSLATIONS := learning/translations

.PHONY: run test bench setup translations chromium slapd wrk lint messages clean

run: setup
	LEARNING_DEMO=1 $(FLASK) db upgrade
	LEARNING_DEMO=1 $(FLASK) demo load --if-empty
	LEARNING_DEMO=1 $(FLASK) courses sync
	@# The scheduler (reminders, outbox, retention) runs beside the web server and stops with it.
	LEARNING_DEMO=1 $(FLASK) scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	LEARNING_DEMO=1 $(FLASK) run --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), each on a database of its own; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: setup chromium slapd
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Benchmarks print their figures and mark each target met or MISSED (about 15–20 minutes; BENCH_ARGS=--quick).
bench: setup wrk
	$(BIN)/python bench/all.py $(BENCH_ARGS)

setup: $(VENV)/.installed static/vendor/.installed translations

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Third-party assets are installed from npm and copied here, never committed.
static/vendor/.installed: node_modules/.installed
	rm -rf static/vendor
	mkdir -p static/vendor/kern
	cp $(KERN)/kern.min.css static/vendor/kern/
	cp -r $(KERN)/fonts static/vendor/kern/
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) 2>&1 | grep -v '^compiling' || true
	@test -f $(TRANSLATIONS)/de/LC_MESSAGES/messages.mo

# Browser tests drive Debian's Chromium; it is installed with apt where missing (never downloaded).
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium at $(CHROMIUM): sudo apt-get install chromium"; fi; }

# The directory tests start their own OpenLDAP (tests/directory/slapd.py) from Debian's slapd. The package
# is installed without a directory of its own, and its system service is stopped and disabled: nothing listens
# on port 389 afterwards.
slapd:
	@test -x /usr/sbin/slapd -a -x /usr/bin/ldapsearch || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; \
	    if [ -d /run/systemd/system ]; then systemctl disable --now slapd.service >/dev/null 2>&1 || true; \
	    else invoke-rc.d slapd stop >/dev/null 2>&1 || true; update-rc.d slapd disable >/dev/null 2>&1 || true; fi; \
	  else echo "Directory tests need Debian's slapd: sudo apt-get install slapd ldap-utils (then stop its service)"; fi; }

# The load generator of the benchmarks, from Debian's packages like Chromium.
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The throughput benchmark uses wrk if present: sudo apt-get install wrk"; fi; }

# Extract user-visible strings and merge them into the German catalogue.
messages: $(VENV)/.installed
	@# --ignore-dirs: pybabel skips every directory whose name starts with _ otherwise (templates/_macros)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o $(TRANSLATIONS)/messages.pot --no-location --sort-output --width 100 \
		--ignore-dirs '.* node_modules static instance' .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --width 100

lint: setup
	$(BIN)/ruff check learning tests

clean:
	rm -rf $(VENV) node_modules static/vendor instance/learning.db*
