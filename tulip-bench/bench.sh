#!/usr/bin/env bash
# bench.sh: the side-by-side comparison of Tulip with its peers, in one run, on this machine (run: ./tulipw bench).
#
#   ./tulipw bench jmh [REGEX] [-- JMH options]   runs the JMH microbenchmarks instead (see jmh.sh)
#   ./tulipw bench clients [--rounds N]           checks LoadClient against the C load client (see clients.sh)
#   ./tulipw bench [--quick] [--rounds N] [--warmup S] [--seconds S] [--cells LIST] [--peers LIST] [--no-build]
#
#   --quick        2 s warm-up + 3 s measured, and only Tulip, Netty and C (no Python, no Node)
#   --rounds N     interleaved rounds (A B C A B C ...); default 3. Medians over rounds are reported
#   --warmup S     discarded warm-up seconds per cell, same load as measured; default 5
#   --seconds S    measured seconds per cell; default 5
#   --cells LIST   comma-separated subset of: echo1k10,echo1k100,echo10k10,echo100k10,http   (default: all)
#   --peers LIST   comma-separated subset of peer names (see --list)                           (default: all found)
#   --list         print the peers that would run and the ones skipped (and why), then exit
#   --no-build     do not run Maven / gcc first
#   --jfr          profile the JVM servers with Java Flight Recorder over the measured window; writes
#                  logs/<cell>.<round>.<server>.jfr and .hot.txt (jfr view hot-methods) per run
#
# Protocol (../shared/bench/README.md): a fresh server process per cell and round, pinned to core 0 (taskset -c 0),
# the load pinned to core 1; the same discarded warm-up for every server; interleaved rounds (order rotated); ratios to Netty epoll
# of the same round; server CPU time per request from /proc/PID/stat (utime+stime over the measured window).
# Everything binds and targets 127.0.0.1 only. Output: results/<timestamp>/ at the repository root (git-ignored):
# table.md, chart.svg, raw.csv and one log per server and load run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

if [ "${1:-}" = jmh ]; then shift; exec bash "$here/jmh.sh" "$@"; fi
if [ "${1:-}" = clients ]; then shift; exec bash "$here/clients.sh" "$@"; fi
ROUNDS=3 WARMUP=5 SECONDS_MEASURED=5 QUICK=0 BUILD=1 LIST_ONLY=0 JFR=0
CELLS="echo1k10,echo1k100,echo10k10,echo100k10,http"
PEERS_WANTED=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; WARMUP=2; SECONDS_MEASURED=3 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --seconds) SECONDS_MEASURED="$2"; shift ;;
    --cells) CELLS="$2"; shift ;;
    --peers) PEERS_WANTED="$2"; shift ;;
    --list) LIST_ONLY=1 ;;
    --no-build) BUILD=0 ;;
    --jfr) JFR=1 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$ROUNDS" "$WARMUP" "$SECONDS_MEASURED"; do
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "bench.sh: rounds and seconds must be positive integers" >&2; exit 2; }
done

JAVA="$("$root/tulipw" jdk)/bin/java"
PY=/usr/bin/python3
CDIR="$here/target/c"
HOST=127.0.0.1   # the only address this script ever binds or targets

# ---------------------------------------------------------------------------------------------------------------
# Build: the Java peers (Tulip examples, Netty servers) and the neutral C tools.
# ---------------------------------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  echo "bench.sh: building (Maven package of tulip-examples and tulip-bench, gcc -O2 of the C tools)" >&2
  "$root/tulipw" mvn -q -pl tulip-examples,tulip-bench -am package -DskipTests >&2
  # The neutral C tools live in shared/bench beside the repository ($TULIP_SHARED overrides).
  shared=""
  for d in "${TULIP_SHARED:-}" "$root/../shared" "$root/../../shared"; do
    if [ -n "$d" ] && [ -f "$d/bench/echo_load.c" ]; then shared="$d"; break; fi
  done
  [ -n "$shared" ] || { echo "bench.sh: shared/bench/echo_load.c not found beside the repository (set TULIP_SHARED)" >&2; exit 3; }
  mkdir -p "$CDIR"
  for n in echo_load c_epoll_echo c_epoll_http; do
    gcc -O2 -o "$CDIR/$n" "$shared/bench/$n.c"
  done
fi
[ -x "$CDIR/echo_load" ] || { echo "bench.sh: $CDIR/echo_load missing (run without --no-build)" >&2; exit 3; }
BENCH_CP="$here/target/classes:$(cat "$here/target/runtime-classpath.txt")"
EX_CP=""
if [ -f "$root/tulip-examples/target/runtime-classpath.txt" ]; then
  EX_CP="$root/tulip-examples/target/classes:$(cat "$root/tulip-examples/target/runtime-classpath.txt")"
fi
# @JFR@ becomes the flight-recorder option with --jfr, and nothing otherwise.
NETTY_JVM=("$JAVA" @JFR@ --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -cp "$BENCH_CP")
TULIP_JVM=("$JAVA" @JFR@ --add-exports java.base/jdk.internal.vm=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -cp "$EX_CP")
# The same JVM on the FFM epoll backend (issue 10): sun.nio.ch exported for the channels' fds, the backend forced.
TULIP_EPOLL_JVM=("$JAVA" @JFR@ --add-exports java.base/jdk.internal.vm=ALL-UNNAMED --enable-native-access=ALL-UNNAMED
  --add-exports java.base/sun.nio.ch=ALL-UNNAMED -Dtulip.backend=epoll -cp "$EX_CP")

# ---------------------------------------------------------------------------------------------------------------
# Peers: name|kind(echo,http)|command with @PORT@. Order is the order within a round.
# ---------------------------------------------------------------------------------------------------------------
PEERS=() SKIPPED=()
have_class() { [ -n "$EX_CP" ] && [ -f "$root/tulip-examples/target/classes/${1//.//}.class" ]; }
add() { PEERS+=("$1|$2|$3"); }
skip() { local s; for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do [ "$s" = "$1: $2" ] && return 0; done; SKIPPED+=("$1: $2"); }

# Tulip servers, whichever exist in tulip-examples.
if have_class dev.tulip.examples.EchoServer; then
  add tulip-protocol echo "${TULIP_JVM[*]} dev.tulip.examples.EchoServer --host $HOST --port @PORT@ --api protocol"
  add tulip-protocol-epoll echo "${TULIP_EPOLL_JVM[*]} dev.tulip.examples.EchoServer --host $HOST --port @PORT@ --api protocol"
  if [ "${TULIP_BENCH_READINESS_ONLY:-0}" = 1 ]; then # epoll for readiness, the JDK channels for the bytes
    add tulip-protocol-epoll-jdkio echo "${TULIP_EPOLL_JVM[*]} -Dtulip.nativeIo=false dev.tulip.examples.EchoServer --host $HOST --port @PORT@ --api protocol"
  fi
  add tulip-sock echo "${TULIP_JVM[*]} dev.tulip.examples.EchoServer --host $HOST --port @PORT@ --api sock"
else
  skip tulip-protocol "dev.tulip.examples.EchoServer not built"; skip tulip-sock "dev.tulip.examples.EchoServer not built"
  skip tulip-protocol-epoll "dev.tulip.examples.EchoServer not built"
fi
if have_class dev.tulip.examples.StreamsEchoServer; then
  add tulip-streams echo "${TULIP_JVM[*]} dev.tulip.examples.StreamsEchoServer --host $HOST --port @PORT@"
else
  skip tulip-streams "dev.tulip.examples.StreamsEchoServer not built"
fi
if have_class dev.tulip.examples.http.HttpServer; then
  add tulip-http http "${TULIP_JVM[*]} dev.tulip.examples.http.HttpServer --host $HOST --port @PORT@"
  add tulip-http-epoll http "${TULIP_EPOLL_JVM[*]} dev.tulip.examples.http.HttpServer --host $HOST --port @PORT@"
else
  skip tulip-http "dev.tulip.examples.http.HttpServer not built"; skip tulip-http-epoll "dev.tulip.examples.http.HttpServer not built"
fi
# Netty 4.2, one event-loop thread, epoll (JNI) and NIO.
for t in epoll nio; do
  add "netty-$t" echo "${NETTY_JVM[*]} dev.tulip.bench.netty.NettyEchoServer @PORT@ $t"
  add "netty-$t" http "${NETTY_JVM[*]} dev.tulip.bench.netty.NettyHttpServer @PORT@ $t"
done
# The C reference servers (the practical limit of one core here).
add c-epoll echo "$CDIR/c_epoll_echo @PORT@"
add c-epoll http "$CDIR/c_epoll_http @PORT@"
# Python asyncio / uvloop and Node, where installed (not in --quick).
if [ "$QUICK" = 1 ]; then
  skip "asyncio, uvloop, node" "--quick runs only Tulip, Netty and C"
else
  if [ -x "$PY" ]; then
    add asyncio echo "$PY $here/peers/asyncio_server.py echo @PORT@"
    add asyncio http "$PY $here/peers/asyncio_server.py http @PORT@"
    if "$PY" -c 'import uvloop' 2>/dev/null; then
      add uvloop echo "$PY $here/peers/asyncio_server.py echo @PORT@ --uvloop"
      add uvloop http "$PY $here/peers/asyncio_server.py http @PORT@ --uvloop"
    else
      skip uvloop "python3-uvloop not installed for $PY (apt-get install -y python3-uvloop)"
    fi
  else
    skip "asyncio, uvloop" "$PY not found"
  fi
  if command -v node >/dev/null 2>&1; then
    add node echo "node $here/peers/node_server.js echo @PORT@"
    add node http "node $here/peers/node_server.js http @PORT@"
  else
    skip node "node not installed"
  fi
fi
if ! command -v wrk >/dev/null 2>&1; then
  skip "http cell" "wrk not installed (apt-get install -y wrk)"
  CELLS="$(echo ",$CELLS," | sed 's/,http,/,/; s/^,//; s/,$//')"
fi
if [ -n "$PEERS_WANTED" ]; then
  kept=()
  for p in "${PEERS[@]}"; do
    name="${p%%|*}"
    if [[ ",$PEERS_WANTED," == *",$name,"* ]] || [ "$name" = netty-epoll ]; then kept+=("$p"); else skip "$name" "not in --peers"; fi
  done
  PEERS=("${kept[@]}")
fi

peers_of() { # kind -> peer lines of that kind
  local p; for p in "${PEERS[@]}"; do [ "$(echo "$p" | cut -d'|' -f2)" = "$1" ] && echo "$p"; done; return 0
}

echo "bench.sh: cells: $CELLS; rounds $ROUNDS; warm-up ${WARMUP}s, measured ${SECONDS_MEASURED}s" >&2
for p in "${PEERS[@]}"; do echo "  run:  $(echo "$p" | cut -d'|' -f1,2 | tr '|' ' ')" >&2; done
for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do echo "  skip: $s" >&2; done
[ "$LIST_ONLY" = 1 ] && exit 0

# ---------------------------------------------------------------------------------------------------------------
# Running one cell: fresh server on core 0, warm-up, measured run on core 1, CPU from /proc, cleanup.
# ---------------------------------------------------------------------------------------------------------------
OUT="$root/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT/logs"
RAW="$OUT/raw.csv"
echo "cell,round,peer,reqs_per_s,cpu_us_per_req,p50_us,p99_us,errors" > "$RAW"
{
  echo "# bench.sh run $(basename "$OUT")"
  echo "cells=$CELLS rounds=$ROUNDS warmup=$WARMUP seconds=$SECONDS_MEASURED quick=$QUICK"
  echo "kernel=$(uname -r) cpus=$(nproc) model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "java=$("$JAVA" -version 2>&1 | head -1)"
  for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do echo "skipped: $s"; done
} > "$OUT/meta.txt"
TICK="$(getconf CLK_TCK)"
GUARD_SECONDS=$(( WARMUP + SECONDS_MEASURED + 120 ))
SERVER_PID=""   # the server process itself (its CPU is measured)
GUARD_PID=""    # the timeout(1) that kills it if this script dies without cleaning up

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$GUARD_PID" ]; then
    kill -TERM "$GUARD_PID" 2>/dev/null || true
    wait "$GUARD_PID" 2>/dev/null || true
  fi
  SERVER_PID="" GUARD_PID=""
}
trap cleanup EXIT
trap 'cleanup; echo "bench.sh: interrupted; partial results in $OUT" >&2; exit 130' INT TERM

free_port() { # a port nothing listens on right now, below the ephemeral range (clients' local ports live there)
  local p lo
  lo="$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  for _ in $(seq 1 50); do
    p=$(( 10000 + RANDOM % (lo - 10000) ))
    if ! (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  echo "bench.sh: no free port found" >&2; return 1
}

wait_listening() { # port pid -> 0 once the port accepts, 1 if the server died or 20 s passed
  local i
  for i in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

cpu_ticks() { # utime+stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat, after the comm field)
  local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
  s="${s##*) }"
  echo "$s" | awk '{print $12 + $13}'
}

load() { # cell port seconds logfile -> runs the load on core 1; prints "reqs_per_s requests p50 p99 errors"
  local cell="$1" port="$2" secs="$3" log="$4" conns size line
  case "$cell" in
    echo1k10) conns=10; size=1024 ;;
    echo1k100) conns=100; size=1024 ;;
    echo10k10) conns=10; size=10240 ;;
    echo100k10) conns=10; size=102400 ;;
    http) conns=100 ;;
  esac
  if [ "$cell" = http ]; then
    timeout $(( secs + 30 )) taskset -c 1 wrk -t1 -c100 -d"${secs}s" --latency "http://$HOST:$port/" > "$log" 2>&1 || true
    awk -v secs="$secs" '
      / requests in / { req = $1 }
      /^Requests\/sec:/ { rps = $2 }
      /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
      /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
      /Non-2xx/ { err += $NF }
      function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
      END { printf "%s %s %s %s %d\n", (rps == "" ? 0 : rps), (req == "" ? 0 : req), us(p50), us(p99), err }' "$log"
  else
    # echo_load adds its own 1 s warm-up before the measured seconds.
    timeout $(( secs + 30 )) taskset -c 1 "$CDIR/echo_load" "$HOST" "$port" "$conns" "$size" "$secs" > "$log" 2>&1 || true
    line="$(grep '^echo ' "$log" | tail -1)"
    if [ -z "$line" ]; then echo "0 0 0 0 1"; return; fi
    echo "$line" | tr ' ' '\n' | awk -F= -v secs="$secs" '
      $1 == "reqs_per_s" { r = $2 } $1 == "p50_us" { p50 = $2 } $1 == "p99_us" { p99 = $2 } $1 == "errors" { e = $2 }
      END { printf "%s %d %s %s %s\n", r, r * secs, p50, p99, e }'
  fi
}

run_cell() { # cell round peer-line
  local cell="$1" round="$2" name kind cmd port log c0 c1 res rps reqs p50 p99 err cpu
  name="$(echo "$3" | cut -d'|' -f1)"; kind="$(echo "$3" | cut -d'|' -f2)"; cmd="$(echo "$3" | cut -d'|' -f3-)"
  log="$OUT/logs/$cell.r$round.$name"
  local attempt started=0 template="$cmd"
  for attempt in 1 2 3; do # a port can be taken between the check and the bind: try another one
    port="$(free_port)"
    cmd="${template//@PORT@/$port}"
    if [ "$JFR" = 1 ]; then
      cmd="${cmd//@JFR@/-XX:StartFlightRecording=delay=$(( WARMUP + 1 ))s,settings=profile,dumponexit=true,filename=$log.jfr}"
    else
      cmd="${cmd//@JFR@ /}"
    fi
    # The server runs under timeout(1), so it ends by itself even if this script is killed outright.
    # shellcheck disable=SC2086  # the command line is split on purpose
    taskset -c 0 timeout -s KILL "$GUARD_SECONDS" $cmd > "$log.server.log" 2>&1 &
    GUARD_PID=$!
    SERVER_PID=""
    for _ in $(seq 1 50); do
      SERVER_PID="$(pgrep -P "$GUARD_PID" | head -1 || true)"
      [ -n "$SERVER_PID" ] && break
      sleep 0.05
    done
    if [ -n "$SERVER_PID" ] && wait_listening "$port" "$SERVER_PID"; then started=1; break; fi
    cleanup
  done
  if [ "$started" = 0 ]; then
    echo "bench.sh: $name did not start for $cell (see $log.server.log)" >&2
    cleanup
    echo "$cell,$round,$name,0,0,0,0,1" >> "$RAW"
    return
  fi
  load "$cell" "$port" "$WARMUP" "$log.warmup.log" > /dev/null
  if [ "$cell" = http ]; then
    c0="$(cpu_ticks "$SERVER_PID")"
    res="$(load "$cell" "$port" "$SECONDS_MEASURED" "$log.load.log")"
    c1="$(cpu_ticks "$SERVER_PID")"
  else
    # Sample the server's CPU after echo_load's own 1 s warm-up, so the window matches what it measures.
    load "$cell" "$port" "$SECONDS_MEASURED" "$log.load.log" > "$log.res" &
    local lp=$!
    sleep 1
    c0="$(cpu_ticks "$SERVER_PID")"
    wait "$lp" || true
    c1="$(cpu_ticks "$SERVER_PID")"
    res="$(cat "$log.res")"; rm -f "$log.res"
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || echo "bench.sh: $name died during $cell (see $log.server.log)" >&2
  cleanup
  if [ -f "$log.jfr" ]; then
    "$(dirname "$JAVA")/jfr" view --width 160 hot-methods "$log.jfr" > "$log.hot.txt" 2>&1 || true
  fi
  read -r rps reqs p50 p99 err <<< "$res"
  cpu="$(awk -v d=$(( c1 - c0 )) -v t="$TICK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.2f", d / t * 1e6 / n; else print 0 }')"
  printf '  %-10s round %d  %-15s %10.0f req/s  %7s us/req CPU  errors %s\n' "$cell" "$round" "$name" "$rps" "$cpu" "$err" >&2
  echo "$cell,$round,$name,$rps,$cpu,$p50,$p99,$err" >> "$RAW"
}

start=$(date +%s)
for cell in ${CELLS//,/ }; do
  kind=echo; [ "$cell" = http ] && kind=http
  mapfile -t cell_peers < <(peers_of "$kind")
  [ ${#cell_peers[@]} -gt 0 ] || continue
  echo "bench.sh: cell $cell (${#cell_peers[@]} servers x $ROUNDS rounds)" >&2
  n=${#cell_peers[@]}
  for round in $(seq 1 "$ROUNDS"); do
    # Rotate the order each round (A B C, B C A, ...) so no server always runs first or last.
    for i in $(seq 0 $(( n - 1 ))); do run_cell "$cell" "$round" "${cell_peers[$(( (i + round - 1) % n ))]}"; done
  done
done
echo "bench.sh: measured in $(( $(date +%s) - start )) s" >&2

"$PY" "$here/report.py" "$OUT" >&2 || python3 "$here/report.py" "$OUT" >&2
if command -v rsvg-convert >/dev/null 2>&1; then rsvg-convert -o "$OUT/chart.png" "$OUT/chart.svg" || true; fi
echo "bench.sh: results in $OUT (table.md, chart.svg, chart.png if rsvg-convert is installed, raw.csv, logs/)" >&2
cat "$OUT/table.md"
