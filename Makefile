# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything is installed into .venv (and tools/kaitai/node_modules for the
# Kaitai conformance test); nothing is installed system-wide except Debian
# tools that tests drive as real programs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS ?= test

.PHONY: setup demo test node clean

$(BIN)/.installed-$(EXTRAS): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

setup: $(BIN)/.installed-$(EXTRAS)

tools/kaitai/node_modules/.installed: tools/kaitai/package.json tools/kaitai/package-lock.json
	cd tools/kaitai && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: tools/kaitai/node_modules/.installed

demo: setup
	$(BIN)/python tools/make_vectors.py --out out/demo
	$(BIN)/cmvc-probe out/demo/valid/multi_segment.cmvc

test: setup node
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) tools/kaitai/node_modules out .pytest_cache .hypothesis
