# Herald: every target installs what it needs first, so a fresh clone needs only `make run`
# or `make test`. Stamps keep `make setup` quick when nothing changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
VENDOR := static/vendor
INSTANCE := instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run serve test bench bench-scale demo lint clean

setup: $(VENV)/.installed $(VENDOR)/.stamp

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Copy only the built files the templates load; the list is the contract with templates/base.html.
$(VENDOR)/.stamp: node_modules/.stamp
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/bootstrap-icons $(VENDOR)/htmx
	cp node_modules/bootstrap/dist/css/bootstrap.min.css $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css $(VENDOR)/bootstrap-icons/
	cp -r node_modules/bootstrap-icons/font/fonts $(VENDOR)/bootstrap-icons/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	# The map (webapp/reports/map_builder.py points folium here): Leaflet keeps images/ beside
	# its css; the world outline is world-atlas's TopoJSON, decoded by topojson-client.
	mkdir -p $(VENDOR)/leaflet $(VENDOR)/leaflet.markercluster $(VENDOR)/leaflet.heat \
		$(VENDOR)/topojson-client $(VENDOR)/world-atlas
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
		node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
		node_modules/leaflet.markercluster/dist/MarkerCluster.css \
		node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css \
		$(VENDOR)/leaflet.markercluster/
	cp node_modules/leaflet.heat/dist/leaflet-heat.js $(VENDOR)/leaflet.heat/
	cp node_modules/topojson-client/dist/topojson-client.min.js $(VENDOR)/topojson-client/
	cp node_modules/world-atlas/countries-110m.json $(VENDOR)/world-atlas/
	# The API browser (templates/api/browser.html, started by static/js/api-browser.js).
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		$(VENDOR)/swagger-ui/
	touch $@

$(INSTANCE)/secret_key:
	mkdir -p $(INSTANCE)
	$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	chmod 600 $@

run: setup $(INSTANCE)/secret_key
	HERALD_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) $(FLASK) db upgrade
	HERALD_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) $(FLASK) bootstrap
	HERALD_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) HERALD_SCHEDULER=true \
		$(FLASK) run --host $(HOST) --port $(PORT)

# Production serving: gunicorn workers plus a dedicated scheduler process (webapp/system/serve.py).
# WORKERS=N overrides the default (2 * cores + 1, at most 8).
serve: setup $(INSTANCE)/secret_key
	HERALD_SECRET_KEY=$${HERALD_SECRET_KEY:-$$(cat $(INSTANCE)/secret_key)} $(FLASK) db upgrade
	HERALD_SECRET_KEY=$${HERALD_SECRET_KEY:-$$(cat $(INSTANCE)/secret_key)} $(FLASK) bootstrap
	HERALD_SECRET_KEY=$${HERALD_SECRET_KEY:-$$(cat $(INSTANCE)/secret_key)} \
		$(BIN)/python -m webapp.system.serve --host $(HOST) --port $(PORT) \
		$(if $(WORKERS),--workers $(WORKERS))

demo: setup $(INSTANCE)/secret_key
	HERALD_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) $(FLASK) db upgrade
	HERALD_SECRET_KEY=$$(cat $(INSTANCE)/secret_key) $(FLASK) demo $(DEMO_ARGS)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark on SQLite and PostgreSQL, one table, JSON in bench/results/ (bench/README.md).
# BENCH="logs api" runs only those; HERALD_BENCH_DATABASES / HERALD_BENCH_EVENTS pass through.
bench: setup
	$(BIN)/python -m bench $(BENCH)

# Issue #11's scale check: Logs (with the volume chart), search, the map, the export, the API and
# the retention cleanup on PostgreSQL at 10,000,000 events (the dataset is built on first use
# and then cached).
bench-scale: setup
	HERALD_BENCH_EVENTS=10000000 HERALD_BENCH_DATABASES=postgresql \
		$(BIN)/python -m bench logs search map export api retention

lint: setup
	$(BIN)/ruff check .

.PHONY: docs screenshots

# docs/configuration.md from SETTINGS in webapp/core/config.py (a unit test fails when stale).
docs: setup
	$(BIN)/python -m scripts.config_reference

# The README's pictures in docs/screenshots/: a throwaway Herald on SQLite with seeded demo
# events, driven through Debian's Chromium (apt-get install chromium).
screenshots: setup
	$(BIN)/python -m scripts.screenshots

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
