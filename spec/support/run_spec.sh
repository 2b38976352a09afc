#!/bin/sh
# Runs one busted spec file with Lua 5.4 (busted's own shebang picks
# whatever `lua` is). A spec that needs something this machine lacks
# prints why and exits 77, which CTest reports as skipped.
lua=$1 busted=$2 spec=$3
case $spec in
*real_systemd*_spec.lua)
    if ! reason=$("$(dirname "$0")/container.sh" check 2>&1); then
        echo "SKIPPED: $(basename "$spec"): $reason"
        exit 77
    fi
    case $spec in
    *release*)
        if ! command -v mix >/dev/null; then
            echo "SKIPPED: $(basename "$spec"): Debian's elixir is not installed (make test installs it)"
            exit 77
        fi ;;
    esac ;;
esac
exec "$lua" "$busted" --output=plainTerminal --lpath="$(dirname "$0")/?.lua" "$spec"
