#!/bin/bash
# The benchmark on a machine that cannot reach a registry (the quiet machine of issue 19): Node and the
# packages travel with the tree in .devcarry/ (ignored by git; see below), nothing is installed there.
#
# Prepare here (Node 24 on PATH), once per dependency change:
#   mkdir -p .devcarry /tmp/bundle && cp package.json package-lock.json /tmp/bundle/
#   (cd /tmp/bundle && npm ci --omit=dev --omit=optional --ignore-scripts)
#   # autocannon with its own dependencies nested under it; typescript and @types/node: the gateway is compiled at the start of a run
#   mkdir -p /tmp/ac && (cd /tmp/ac && echo '{"private":true}' >package.json && npm i --ignore-scripts autocannon@8)
#   cp -r /tmp/ac/node_modules/autocannon /tmp/bundle/node_modules/ && mkdir -p /tmp/bundle/node_modules/autocannon/node_modules
#   (cd /tmp/ac/node_modules && for d in *; do [ "$d" = autocannon ] || cp -r "$d" /tmp/bundle/node_modules/autocannon/node_modules/; done)
#   cp -r node_modules/typescript node_modules/@types /tmp/bundle/node_modules/
#   tar -C /tmp/bundle -cf - node_modules | xz -T2 -6 > .devcarry/nm.tar.xz       # ~7 MB
#   xz -T2 -9 -c "$(command -v node)" > .devcarry/node.xz                         # ~29 MB
#   npm run build                                                                  # dist/, for rest-rss
# There: bash bench/offline-run.sh [bench options, e.g. --only 2]; results in $OUT (or /tmp/benchout).
set -o pipefail
t0=$(date +%s)
mkdir -p /tmp/n && xz -dc .devcarry/node.xz > /tmp/n/node && chmod +x /tmp/n/node || exit 3
export PATH=/tmp/n:$PATH
rm -rf node_modules && tar -xJf .devcarry/nm.tar.xz || exit 4
OUT=${OUT:-/tmp/benchout}; mkdir -p "$OUT"
{ nproc; grep -m1 'model name' /proc/cpuinfo; node -v; uname -r; uptime; command -v taskset; } 2>&1 | tee "$OUT/machine.txt"
node bench/run.ts --write "$@" 2>&1 | tee "$OUT/bench.log"
echo "bench rc=$? at $(( $(date +%s) - t0 )) s"
cp docs/benchmarks.md "$OUT/benchmarks.md"
node bench/rest-rss.ts 10 3 2>&1 | tee "$OUT/rest-rss.log"
echo "done at $(( $(date +%s) - t0 )) s"
