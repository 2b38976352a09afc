#!/bin/sh
# Start-up cost: unitforge rendering the basic example against a bare
# Lua interpreter, measured in the same run so the ratio is what counts.
set -eu
unitforge=${1:-build/unitforge}
cd "$(dirname "$0")/.."
hyperfine --warmup 20 --min-runs 200 -N --export-markdown bench/startup.md \
    "lua5.4 -e ''" \
    "$unitforge examples/basic/deploy.lua --stdout"
awk -F'|' 'NR > 2 { gsub(/ /, "", $3); t[NR] = $3 + 0 }
    END { if (t[3] > 0) printf "unitforge / lua5.4 -e \"\": %.2fx\n", t[4] / t[3] }' bench/startup.md
