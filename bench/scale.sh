#!/bin/sh
# Scale: one run of a scripted config with 1,000 and 10,000 services,
# against a bare Lua interpreter in the same run. Targets: 10,000
# services in under 1 s and 64 MiB, and 10,000 within 12x of 1,000.
set -eu
unitforge=$(realpath "${1:-build/unitforge}")
cd "$(dirname "$0")/.."
hyperfine --warmup 2 --runs 15 -N --export-markdown bench/scale.md \
    "lua5.4 -e ''" \
    "env FLEET_SIZE=1000 $unitforge bench/scale.lua --stdout" \
    "env FLEET_SIZE=10000 $unitforge bench/scale.lua --stdout"
awk -F'|' 'NR > 2 { gsub(/ /, "", $3); t[NR] = $3 + 0 }
    END { printf "10,000 services: %.0f ms; 10,000 / 1,000 services: %.1fx; 1,000 services / lua5.4 -e \"\": %.1fx\n",
          t[5], t[5] / t[4], t[4] / t[3] }' bench/scale.md
for n in 1000 10000; do
    FLEET_SIZE=$n /usr/bin/time -f "$n services: peak memory %M KiB" "$unitforge" bench/scale.lua --stdout >/dev/null
done
