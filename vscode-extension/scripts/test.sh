#!/usr/bin/env bash
# Builds and tests the VS Code extension from a clean clone: install, typecheck, bundle, unit tests,
# package the .vsix, then check what went into it. Non-interactive; called by the project's test command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CI=true
# Old outputs could hide a broken build: the tests read dist/ and the .vsix.
rm -rf out dist ./*.vsix

npm ci --no-audit --no-fund
npm run typecheck
npm run bundle
npm test
npm run package </dev/null
npm run test:package
ls -l ./*.vsix
