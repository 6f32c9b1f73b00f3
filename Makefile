# The two set-up commands of the README, and the pieces they are made of. Everything runs in the
# project's own virtual environment, .venv/ (made by scripts/install.sh); `source .venv/bin/activate`
# puts `verifrag` on your PATH.
PROMPT := // 4-bit counter with synchronous reset\nmodule counter(
VENV := .venv/bin

.PHONY: install quickstart test test-python test-extension corpus

install:
	bash scripts/install.sh

# Install everything, then run the main job on the default model.
quickstart: install
	$(VENV)/verifrag generate --prompt '$(PROMPT)' --decoder medusa --json

# Install test needs, then run the whole suite (Python tests and the VS Code extension build + tests).
test:
	bash scripts/install.sh --test
	$(MAKE) test-python test-extension

test-python:
	$(VENV)/python -m pytest

test-extension:
	bash vscode-extension/scripts/test.sh

# Optional: the pythondata-* packages the default training corpus comes from.
corpus:
	$(VENV)/python -m pip install -q -e '.[corpus]'
