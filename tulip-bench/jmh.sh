#!/usr/bin/env bash
# jmh.sh: runs every JMH benchmark in tulip-bench (package dev.tulip.bench and below) in one command, with short
# settings (run: ./tulipw bench jmh, or bash tulip-bench/jmh.sh).
#
#   jmh.sh [--no-build] [--ignore-lock] [REGEX] [-- extra JMH options]
#
# REGEX selects benchmarks (default: all under dev.tulip.bench). Short settings: 1 fork, 2 x 1 s warm-up,
# 3 x 1 s measured; override with JMH options after "--" (for example: -- -f 2 -i 5). The forked JVMs get the
# flags that enable Tulip's fast paths (the Continuation engine, native access). Results go to
# results/<timestamp>-jmh/ at the repository root (jmh.txt, jmh.json; git-ignored). JMH lets one run at a time per
# machine (/tmp/jmh.lock); --ignore-lock runs anyway (numbers are then disturbed by the other run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
BUILD=1 LOCK=() REGEX="dev\\.tulip\\.bench\\..*"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --ignore-lock) LOCK=(-Djmh.ignoreLock=true) ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) REGEX="$1" ;;
  esac
  shift
done
JAVA="$("$root/tulipw" jdk)/bin/java"
if [ "$BUILD" = 1 ]; then
  echo "jmh.sh: building tulip-bench" >&2
  "$root/tulipw" mvn -q -pl tulip-bench -am package -DskipTests >&2
fi
CP="$here/target/classes:$(cat "$here/target/runtime-classpath.txt")"
[ -f "$here/target/classes/META-INF/BenchmarkList" ] || { echo "jmh.sh: no benchmarks compiled (BenchmarkList missing)" >&2; exit 3; }
OUT="$root/results/$(date -u +%Y%m%dT%H%M%SZ)-jmh"
mkdir -p "$OUT"
FLAGS="--add-exports java.base/jdk.internal.vm=ALL-UNNAMED --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
# Short defaults, each dropped when the same option is given after "--".
SHORT=()
for kv in "-f 1" "-wi 2" "-w 1s" "-i 3" "-r 1s"; do
  k="${kv%% *}"
  [[ " ${EXTRA[*]+"${EXTRA[*]}"} " == *" $k "* ]] || SHORT+=($kv)
done
# JMH takes one -jvmArgsAppend (given twice, it stops splitting the value at spaces and the forked JVM fails to
# start): merge the caller's into ours, e.g. -- -jvmArgsAppend -Dtulip.coroutines=vthread.
REST=()
i=0
while [ $i -lt ${#EXTRA[@]} ]; do
  if [ "${EXTRA[$i]}" = -jvmArgsAppend ] && [ $((i + 1)) -lt ${#EXTRA[@]} ]; then
    FLAGS="$FLAGS ${EXTRA[$((i + 1))]}"; i=$((i + 2))
  else
    REST+=("${EXTRA[$i]}"); i=$((i + 1))
  fi
done
EXTRA=("${REST[@]+"${REST[@]}"}")
"$JAVA" "${LOCK[@]+"${LOCK[@]}"}" -cp "$CP" org.openjdk.jmh.Main "$REGEX" "${SHORT[@]}" \
  -jvmArgsAppend "$FLAGS" -rf json -rff "$OUT/jmh.json" "${EXTRA[@]+"${EXTRA[@]}"}" 2>&1 | tee "$OUT/jmh.txt"
echo "jmh.sh: results in $OUT" >&2
