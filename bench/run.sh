#!/bin/sh
# The benchmarks of unitforge, in one run, each one a ratio against a
# floor measured in the same run, so only the ratios count:
#
#   1. compute: unitforge bench/scale.lua --stdout against bench/floor.lua
#      (plain Lua printing the same bytes) at 1,000, 10,000 and 100,000
#      services                                               <= 15x each
#   2. linear: unitforge at 10k / 1k and 100k / 10k           <= 11 each
#   3. memory: peak RSS at 100k / bytes of its --stdout       <= 1.5x
#   4. limits: 100k services pass the default limits; a config that
#      never ends is stopped by --timeout 1 in about 1 s      <= 1.5 s
#   5. writing: syscalls per unit file into a fresh folder    <= 6
#      and the time of a fresh --out at 10k against bench/write_floor.c
#      writing the same files the same atomic way            <= 1.2x
#   6. start-up: examples/basic/deploy.lua against lua5.4 -e '' <= 1.2x
#
# A goal not met is reported, not an error; the script fails only when
# something is wrong (outputs differ, a command fails). Times are the
# medians of hyperfine; its exports go to bench/results/.
#
# Usage: bench/run.sh [path/to/unitforge]     (default: build/unitforge)
# shellcheck disable=SC2154 # t_uf_N, t_floor_N, files_N are set by eval
set -eu

fail() { echo "bench/run.sh: $*" >&2; exit 1; }

unitforge=$(realpath "${1:-build/unitforge}")
cd "$(dirname "$0")/.."
[ -x "$unitforge" ] || fail "no executable $unitforge"
for tool in hyperfine strace lua5.4 cc cmp diff; do
    command -v "$tool" >/dev/null || fail "$tool is missing"
done
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (Debian package time)"

results=bench/results
mkdir -p "$results"
tmp=$(mktemp -d)
# The writing benchmarks write into a tmpfs when there is one (override
# with BENCH_WRITE_DIR=a/folder): on a disk, the kernel's share of
# creating 12,000 files swings by several times from run to run (0.2 to
# 2 s for the same C floor on this project's ext4 VM), which drowns what
# unitforge itself does.
if [ -n "${BENCH_WRITE_DIR:-}" ]; then
    wtmp=$(mktemp -d "$BENCH_WRITE_DIR/unitforge-bench.XXXXXX")
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
    wtmp=$(mktemp -d /dev/shm/unitforge-bench.XXXXXX)
else
    wtmp=$(mktemp -d)
fi
trap 'rm -rf "$tmp" "$wtmp"' EXIT
trap 'exit 130' INT TERM

# Benchmark a copy, so that a rebuild during the run cannot mix two
# binaries into one table (the templates are built in).
given=$unitforge
unitforge="$tmp/unitforge"
cp "$given" "$unitforge"
uf="'$unitforge'"
table="$tmp/table"
: >"$table"

# hyperfine -N with a quiet style, outputs to /dev/null; $1 names the
# export files, the rest are hyperfine's arguments.
bench() {
    name=$1; shift
    hyperfine -N --style basic --output=null \
        --export-csv "$results/$name.csv" --export-markdown "$results/$name.md" "$@"
}
# median (seconds) of the Nth command of an export
median() { awk -F, -v n="$2" 'NR == n + 1 { print $4 }' "$results/$1.csv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
# row MEASURE VALUE UNIT GOAL: GOAL is a maximum; a VALUE that is not a
# number (n/a) is not met
row() {
    met=$(awk -v v="$2" -v g="$4" 'BEGIN {
        print (v ~ /^[0-9.]+$/ && v + 0 <= g + 0) ? "met" : "not met" }')
    printf '%s|%s%s|<= %s%s|%s\n' "$1" "$2" "$3" "$4" "$3" "$met" >>"$table"
}
row_text() { printf '%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" >>"$table"; }
section() { printf '\n=== %s\n' "$*"; }

# --- 1-4. compute, linear, memory, 100k under the default limits ----------
ok100k=yes
for n in 1000 10000 100000; do
    section "compute, $n services"
    out="$tmp/uf.$n"
    if [ "$n" = 100000 ]; then
        # peak RSS and the default limits, from the run that gives the bytes
        if FLEET_SIZE=$n /usr/bin/time -f %M -o "$tmp/rss" \
            "$unitforge" bench/scale.lua --stdout >"$out" 2>"$tmp/err.$n"; then
            rc=0
        else
            rc=$?
        fi
        if [ "$rc" != 0 ]; then
            ok100k="no (exit $rc)"
            echo "unitforge failed at $n services with the default limits (exit $rc):"
            sed 's/^/  /' "$tmp/err.$n"
            echo "skipping the $n-service timing"
            continue
        fi
    else
        FLEET_SIZE=$n "$unitforge" bench/scale.lua --stdout >"$out" ||
            fail "unitforge bench/scale.lua --stdout failed at $n services"
    fi
    FLEET_SIZE=$n lua5.4 bench/floor.lua >"$tmp/floor.$n" ||
        fail "lua5.4 bench/floor.lua failed at $n services"
    cmp "$out" "$tmp/floor.$n" ||
        fail "bytes differ between unitforge and bench/floor.lua at $n services"
    echo "outputs byte-identical ($(wc -c <"$out") bytes)"
    rm -f "$tmp/floor.$n"
    case $n in
        1000) runs="--warmup 3 --runs 20" ;;
        10000) runs="--warmup 2 --runs 10" ;;
        *) runs="--warmup 1 --runs 3" ;;
    esac
    # shellcheck disable=SC2086
    FLEET_SIZE=$n bench "compute-$n" $runs \
        "$uf bench/scale.lua --stdout" "lua5.4 bench/floor.lua"
    eval "t_uf_$n=\$(median compute-$n 1)"
    eval "t_floor_$n=\$(median compute-$n 2)"
done

for n in 1000 10000 100000; do
    eval "tu=\${t_uf_$n:-}"; eval "tf=\${t_floor_$n:-}"
    if [ -n "$tu" ]; then
        row "compute $n: unitforge / floor.lua ($(ms "$tu") / $(ms "$tf"))" \
            "$(ratio "$tu" "$tf")" x 15
    else
        row "compute $n: unitforge / floor.lua" n/a "" 15
    fi
done
row "linear: t(10k) / t(1k)" "$(ratio "$t_uf_10000" "$t_uf_1000")" "" 11
if [ -n "${t_uf_100000:-}" ]; then
    row "linear: t(100k) / t(10k)" "$(ratio "$t_uf_100000" "$t_uf_10000")" "" 11
    rss_kib=$(cat "$tmp/rss")
    bytes=$(wc -c <"$tmp/uf.100000")
    row "memory 100k: peak RSS / output bytes ($((rss_kib / 1024)) MiB / $((bytes / 1048576)) MiB)" \
        "$(awk -v k="$rss_kib" -v b="$bytes" 'BEGIN { printf "%.2f", k * 1024 / b }')" x 1.5
else
    row "linear: t(100k) / t(10k)" n/a "" 11
    row "memory 100k: peak RSS / output bytes" n/a "" 1.5
fi
rm -f "$tmp/uf.1000" "$tmp/uf.100000"
row_text "limits: 100k services with the default limits" "$ok100k" yes \
    "$([ "$ok100k" = yes ] && echo met || echo 'not met')"

# --- 4. a config that never ends, stopped by --timeout 1 ----------------
section "limits: while true do end, --timeout 1"
printf 'while true do end return {}\n' >"$tmp/loop.lua"
# timeout(1) guards against a limit that does not work at all
if timeout 10 "$unitforge" "$tmp/loop.lua" --stdout --timeout 1 \
    >/dev/null 2>"$tmp/loop.err"; then
    rc=0
else
    rc=$?
fi
sed 's/^/  /' "$tmp/loop.err"
echo "exit status $rc"
if [ "$rc" = 0 ]; then
    row "limits: endless config stopped by --timeout 1" "n/a (exit 0, no error)" "" 1.5
elif [ "$rc" = 124 ]; then
    row "limits: endless config stopped by --timeout 1" "n/a (not stopped in 10 s)" "" 1.5
elif [ ! -s "$tmp/loop.err" ]; then
    row "limits: endless config stopped by --timeout 1" "n/a (exit $rc, no message)" "" 1.5
else
    bench timeout --runs 3 -i "$uf '$tmp/loop.lua' --stdout --timeout 1"
    row "limits: endless config stopped by --timeout 1 (exit $rc)" \
        "$(awk -v s="$(median timeout 1)" 'BEGIN { printf "%.2f", s }')" " s" 1.5
fi

# --- 5. writing -------------------------------------------------------------
section "writing: syscalls per unit file (strace -f -c, fresh folder)"
for n in 100 1000; do
    dir="$wtmp/strace-$n"
    FLEET_SIZE=$n strace -f -c -o "$tmp/strace.$n" \
        "$unitforge" bench/scale.lua --out "$dir" >/dev/null ||
        fail "unitforge --out failed under strace at $n services"
    eval "files_$n=$(find "$dir/lib/systemd/system" -type f ! -name '.unitforge*' | wc -l)"
    left=$(find "$dir" -name '.unitforge*' | wc -l)
    [ "$left" = 0 ] || echo "note: $left hidden .unitforge* files left in the folder at $n services"
    rm -rf "$dir"
done
# calls per syscall name, from strace -c's table
calls() {
    awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { c[$NF] += $4 }
        END { for (s in c) print s, c[s] }' "$1"
}
calls "$tmp/strace.100" >"$tmp/calls.100"
calls "$tmp/strace.1000" >"$tmp/calls.1000"
files=$((files_1000 - files_100))
echo "files: $files_100 at 100 services, $files_1000 at 1000"
echo "per file, (calls at 1000 - calls at 100) / $files:"
awk -v f="$files" 'NR == FNR { a[$1] = $2; next }
    { d = ($2 - a[$1]) / f; t += ($2 - a[$1]); if (d >= 0.01) printf "  %-12s %6.2f\n", $1, d }
    END { printf "  %-12s %6.2f\n", "all", t / f }' \
    "$tmp/calls.100" "$tmp/calls.1000" | sort -k2 -rn
per_file=$(awk -v f="$files" 'NR == FNR { a += $2; next } { b += $2 }
    END { printf "%.2f", (b - a) / f }' "$tmp/calls.100" "$tmp/calls.1000")
row "writing: syscalls per unit file" "$per_file" "" 6
fsyncs=$(awk '$1 ~ /^(fsync|fdatasync|sync_file_range|syncfs|sync)$/ { s += $2 }
    END { print s + 0 }' "$tmp/calls.1000")
if [ "$fsyncs" -gt 0 ]; then
    echo "unitforge syncs: $fsyncs fsync-family calls at 1000 services; the floor fsyncs too"
    sync_arg=fsync
else
    echo "unitforge does not fsync; neither does the floor"
    sync_arg=
fi

section "writing: fresh --out at 10000 services against bench/write_floor.c"
echo "in $wtmp ($(df -PT "$wtmp" | awk 'NR == 2 { print $2 }'))"
cc -O2 -o "$tmp/write_floor" bench/write_floor.c || fail "cannot compile bench/write_floor.c"
stream="$tmp/uf.10000"    # the --stdout bytes, checked against floor.lua above
FLEET_SIZE=10000 "$unitforge" bench/scale.lua --out "$wtmp/check-uf" >/dev/null ||
    fail "unitforge --out failed at 10000 services"
# shellcheck disable=SC2086
"$tmp/write_floor" "$wtmp/check-floor" "$stream" $sync_arg || fail "write_floor failed"
diff -r -x '.unitforge*' "$wtmp/check-uf" "$wtmp/check-floor" >"$tmp/diff" ||
    { head -20 "$tmp/diff" >&2; fail "write_floor's files differ from unitforge --out's"; }
echo "folders identical ($(find "$wtmp/check-floor" -type f | wc -l) files)"
rm -rf "$wtmp/check-uf" "$wtmp/check-floor"
w="$wtmp/w"
FLEET_SIZE=10000 bench write-10000 --warmup 2 --runs 10 --prepare "rm -rf '$w'" \
    "$uf bench/scale.lua --out '$w'" \
    "'$tmp/write_floor' '$w' '$stream' $sync_arg" \
    "$uf bench/scale.lua --stdout"
t_out=$(median write-10000 1); t_wf=$(median write-10000 2); t_stdout=$(median write-10000 3)
row "writing 10k: unitforge --out / write_floor ($(ms "$t_out") / $(ms "$t_wf"))" \
    "$(ratio "$t_out" "$t_wf")" x 1.2
rm -rf "$w"

# --- 6. start-up -------------------------------------------------------------
section "start-up: examples/basic/deploy.lua against lua5.4 -e ''"
bench startup --warmup 20 --min-runs 200 \
    "$uf examples/basic/deploy.lua --stdout" "lua5.4 -e ''"
t_su=$(median startup 1); t_lua=$(median startup 2)
row "start-up: unitforge basic / lua5.4 -e '' ($(ms "$t_su") / $(ms "$t_lua"))" \
    "$(ratio "$t_su" "$t_lua")" x 1.2

# --- the table -----------------------------------------------------------------
section "results ($(date -u '+%Y-%m-%d %H:%M UTC'), $("$unitforge" --version 2>/dev/null | head -1), $given as of the start, sha256 $(sha256sum <"$unitforge" | cut -c1-12))"
{ echo "measure|value|goal|met"; cat "$table"; } |
    awk -F'|' '{ printf "%-72s %10s %10s  %s\n", $1, $2, $3, $4 }'
awk -v o="$t_out" -v s="$t_stdout" -v f="$t_wf" 'BEGIN {
    printf "\nnote: writing 10k includes the compute: --stdout alone takes %.1f ms, so the\n", s * 1000
    printf "      writing itself (--out minus --stdout) is %.1f ms, %.2fx write_floor (%.1f ms)\n",
        (o - s) * 1000, (o - s) / f, f * 1000 }'
echo "hyperfine exports: $results/"
