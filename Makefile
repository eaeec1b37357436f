# Two commands for a new machine: `make run` and `make test`. Both create .venv and install.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= resources/demo/bigbuckbunny.mp4
XPKGS  := xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0

.PHONY: install run test soak bench screenshots train clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@missing=""; for p in $(XPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "make run needs these Debian packages:$$missing (apt-get install$$missing)"; exit 1; fi
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display: running the app under Xvfb (xvfb-run)."; \
		xvfb-run -a $(VENV)/bin/siamcross gui $(DEMO); \
	else $(VENV)/bin/siamcross gui $(DEMO); fi

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not soak" --timeout=600

soak: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m soak --timeout=3600

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) -m benchmarks.screenshots

# Retrains siamcross-lite as the model card says (hours on 2 cores; resumes with RESUME=runs/lite/last.pt).
# The training folder is rebuilt first from clones of the repositories in ../shared/data/TRAIN_SOURCES.md:
#   $(PY) -m benchmarks.build_training_data --clones DIR
train: $(STAMP)
	$(VENV)/bin/siamcross train benchmarks/train_configs/lite_cpu.json --out runs/lite --threads 1 \
		--max-steps 2400 $(if $(RESUME),--resume $(RESUME))

clean:
	rm -rf $(VENV) .pytest_cache
