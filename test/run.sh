#!/usr/bin/env bash
# The whole test suite: build the daemon, compile the tests, run them with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build
npm run --silent build
npx tsc -p tsconfig.json
mapfile -t files < <(find build/test -name "*.test.js" | sort)
node --test "${files[@]}"
