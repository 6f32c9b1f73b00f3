# The two set-up commands of the README, and the pieces they are made of.
PROMPT := // 4-bit counter with synchronous reset\nmodule counter(

.PHONY: install quickstart test test-python test-extension corpus

install:
	bash scripts/install.sh

# Install everything, then run the main job on the default model.
quickstart: install
	verifrag generate --prompt '$(PROMPT)' --decoder medusa --json

# Install test needs, then run the whole suite (Python tests and the VS Code extension build + tests).
test:
	bash scripts/install.sh --test
	$(MAKE) test-python test-extension

test-python:
	python3 -m pytest

test-extension:
	bash vscode-extension/scripts/test.sh

# Optional: the pythondata-* packages the default training corpus comes from.
corpus:
	python3 -m pip install -q -e '.[corpus]'
