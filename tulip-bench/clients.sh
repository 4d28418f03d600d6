#!/usr/bin/env bash
# clients.sh: checks that Tulip's LoadClient (tulip-examples) measures what the neutral C client measures
# (run: ./tulipw bench clients). Both load the same C epoll echo server (core 0) from core 1, interleaved.
#
#   clients.sh [--rounds N] [--seconds S] [--conns C] [--size BYTES] [--no-build]
#
# Defaults: 3 rounds of 5 s, 10 connections, 1 KiB. Prints each run and the medians; agreement means the medians
# differ by about as much as rounds of the same client differ from each other. 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
ROUNDS=3 SECS=5 CONNS=10 SIZE=1024 BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --seconds) SECS="$2"; shift ;;
    --conns) CONNS="$2"; shift ;;
    --size) SIZE="$2"; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "clients.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
if [ "$BUILD" = 1 ]; then
  # bench.sh builds the Java modules and the C tools; --list makes it stop right after.
  bash "$here/bench.sh" --list > /dev/null
fi
JAVA="$("$root/tulipw" jdk)/bin/java"
CDIR="$here/target/c"
CP="$root/tulip-examples/target/classes:$(cat "$root/tulip-examples/target/runtime-classpath.txt")"
port=$(( 10000 + RANDOM % 20000 ))
taskset -c 0 timeout -s KILL $(( ROUNDS * (SECS + 5) * 2 + 60 )) "$CDIR/c_epoll_echo" "$port" &
guard=$!
trap 'kill $guard 2>/dev/null || true; wait $guard 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
c=() j=()
for r in $(seq 1 "$ROUNDS"); do
  a="$(taskset -c 1 "$CDIR/echo_load" 127.0.0.1 "$port" "$CONNS" "$SIZE" "$SECS" || true)"
  b="$(taskset -c 1 "$JAVA" --add-exports java.base/jdk.internal.vm=ALL-UNNAMED --enable-native-access=ALL-UNNAMED \
        -cp "$CP" dev.tulip.examples.LoadClient --port "$port" --conns "$CONNS" --size "$SIZE" --duration "$SECS" || true)"
  echo "round $r  C:    $a"
  echo "round $r  Tulip: $b"
  c+=("$(echo "$a" | sed -n 's/.*reqs_per_s=\([0-9]*\).*/\1/p' | grep . || echo 0)")
  j+=("$(echo "$b" | sed -n 's/.*reqs_per_s=\([0-9]*\).*/\1/p' | grep . || echo 0)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mc="$(median "${c[@]}")" mj="$(median "${j[@]}")"
echo "median req/s: C client $mc, Tulip LoadClient $mj, ratio $(awk -v a="$mj" -v b="$mc" 'BEGIN { printf "%.2f", a / b }')"
