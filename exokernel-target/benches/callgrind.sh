#!/bin/sh
# Instructions per MSS-sized data segment of each stack in the `tcp_bulk` bench, both ends
# together (client and server, application calls included), by callgrind's difference method:
# the instructions of a run that transfers 2N segments less those of a run that transfers N,
# divided by N. Set-up, handshake and the pattern's generation cancel out. Then the functions
# that account for the difference, by self cost (inlined code counts for the function it was
# inlined into), per segment.
#
# Usage: exokernel-target/benches/callgrind.sh [N] [TOP]    (defaults: N = 4000, TOP = 25)
#
# Environment: STACKS (default "smoltcp prolac prolac-nohp prolac-unbatched prolac-quickack":
# smoltcp, the Prolac TCP, the same without header prediction, the Prolac TCP without ACK
# batching (one ACK per two segments) and acknowledging every segment; see the bench's
# header); OUT (default target/callgrind), where the
# callgrind files stay; INCLUSIVE=yes lists functions by inclusive cost (callees included);
# GLIBC_TUNABLES is passed on: glibc copies of 4 KiB and more with
# `rep movsb` under valgrind, and callgrind counts every byte `rep movsb` moves as one
# instruction; `GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000` makes it copy with
# vector loops instead, whose count reflects the work (BENCHMARKS.md reports both).
set -eu

N=${1:-4000}
TOP=${2:-25}
INCLUSIVE=${INCLUSIVE:-no}
STACKS=${STACKS:-"smoltcp prolac prolac-nohp prolac-64k prolac-unbatched prolac-quickack"}
cd "$(dirname "$0")/../.."
OUT=${OUT:-target/callgrind}
mkdir -p "$OUT"

BIN=$(cargo bench -p exokernel-target --bench tcp_bulk --no-run 2>&1 |
    grep -o 'target/release/deps/tcp_bulk-[0-9a-f]*' | head -n 1)
[ -n "$BIN" ] || { echo "could not build the tcp_bulk bench" >&2; exit 1; }

# Cost per function name (file names dropped, so that code inlined from several files
# sums up under the function it ended up in).
by_function() {
    callgrind_annotate --auto=no --inclusive="$INCLUSIVE" --threshold=100 "$1" 2>/dev/null | awk '
        /^ *[0-9][0-9,]* / && !/PROGRAM TOTALS/ {
            n = $1; gsub(",", "", n)
            line = $0
            sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", line)   # the count and percentage
            sub(/ \[[^]]*\]$/, "", line)                  # the object
            i = index(line, ":"); if (i > 0) line = substr(line, i + 1)
            cost[line] += n
        }
        END { for (f in cost) printf "%d\t%s\n", cost[f], f }'
}

total() {
    awk '/^totals:/ { print $2 }' "$1"
}

for stack in $STACKS; do
    for n in "$N" $((2 * N)); do
        valgrind --tool=callgrind --callgrind-out-file="$OUT/$stack-$n.out" \
            "$BIN" --segments "$n" --stack "$stack" >"$OUT/$stack-$n.log" 2>"$OUT/$stack-$n.err"
    done
    small=$(total "$OUT/$stack-$N.out")
    large=$(total "$OUT/$stack-$((2 * N)).out")
    echo "== $stack: $small instructions for $N segments, $large for $((2 * N))"
    sed 's/^/   /' "$OUT/$stack-$((2 * N)).log"
    echo "   instructions per segment: $(awk -v a="$small" -v b="$large" -v n="$N" \
        'BEGIN { printf "%.0f", (b - a) / n }')"
    by_function "$OUT/$stack-$N.out" >"$OUT/$stack-$N.fn"
    by_function "$OUT/$stack-$((2 * N)).out" >"$OUT/$stack-$((2 * N)).fn"
    echo "   top functions (instructions per segment, inclusive=$INCLUSIVE, share of the total):"
    awk -F '\t' -v n="$N" -v sum="$((large - small))" '
        NR == FNR { small[$2] = $1; next }
        { d[$2] = $1 - small[$2]; delete small[$2] }
        END {
            for (f in small) d[f] = -small[f]
            for (f in d) printf "%.1f\t%.1f%%\t%s\n", d[f] / n, 100 * d[f] / sum, f
        }' "$OUT/$stack-$N.fn" "$OUT/$stack-$((2 * N)).fn" |
        sort -t "$(printf '\t')" -k1,1 -g -r | head -n "$TOP" |
        awk -F '\t' '{ printf "   %9s  %6s  %s\n", $1, $2, $3 }'
done
