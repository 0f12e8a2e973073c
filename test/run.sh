#!/usr/bin/env bash
# The test suite. `unit`: compile and run everything but the end-to-end suites (no namespaces, no moto,
# no packing), the fast loop. Without an argument: lint, build the daemon, then every test, as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
rm -rf build
if [ "$mode" = all ]; then
  npm run --silent lint
  npm run --silent build
fi
npx tsc -p tsconfig.json
if [ "$mode" = unit ]; then
  mapfile -t files < <(find build/test -name "*.test.js" -not -path "build/test/e2e/*" | sort)
else
  mapfile -t files < <(find build/test -name "*.test.js" | sort)
fi
# Most suites wait on child processes and sockets rather than the CPU: run a few files at once.
node --test --test-concurrency="${TEST_CONCURRENCY:-3}" "${files[@]}"
