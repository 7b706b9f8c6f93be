#!/usr/bin/env bash
# Builds the Kodama VS Code extension into editors/vscode/kodama-<version>.vsix, offline once the
# npm packages are in npm's cache: installs the pinned dependencies (package-lock.json), type-checks
# (tsc --noEmit), bundles src/ and vscode-languageclient into out/extension.js (esbuild) and
# packages it with @vscode/vsce --no-dependencies. Needs Node ≥ 20 and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --prefer-offline
fi
rm -f ./*.vsix
npm run --silent package
ls -1 "$PWD"/*.vsix
