#!/usr/bin/env bash
# udp-bench.sh: datagrams per second through a single-loop UDP echo server (1 KiB datagrams), Tulip side by side
# with Netty's epoll DatagramChannel (one event-loop thread), plus Tulip on its FFM epoll backend (recvmmsg batches)
# and Tulip with read batching off.
#
#   tulip-bench/udp/udp-bench.sh [ROUNDS=3] [SECONDS=3] [SIZE=1024] [WINDOW=128]    (WARMUP=3 seconds per server)
#
# Each cell starts a fresh server pinned to core 0 (taskset -c 0) and the load generator (udpload.c, batched with
# recvmmsg/sendmmsg) pinned to core 1; the servers are interleaved round by round so that machine noise hits them
# alike. Each server gets WARMUP seconds of load before the measured run (JIT). Prints every run, then the median per
# server and its ratio to Netty epoll: datagrams per second, and the server process's CPU time per datagram (utime +
# stime from /proc over the measured run, all threads: a steadier number than throughput on a shared machine).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:-3}"; seconds="${2:-3}"; size="${3:-1024}"; window="${4:-128}"; warmup="${WARMUP:-3}"
# NICE=-10 (as root) runs server and load ahead of other work on a shared machine; 0 (default) leaves priorities.
nice_level="${NICE:-0}"
cd "$root"

if [ -z "${SKIP_BUILD:-}" ]; then
  ./tulipw mvn -q -pl tulip-examples,tulip-bench -am package -DskipTests >/dev/null
fi
mkdir -p tulip-bench/target
gcc -O2 -o tulip-bench/target/udpload "$here/udpload.c"
# The library from this work tree (tulip/target/classes), not the jar in the shared local Maven repository, which
# another checkout may have replaced since.
own_cp() { tr ':' '\n' < "$1" | { grep -v '/dev/tulip/tulip/' || true; } | paste -sd: -; }
cp_examples="tulip-examples/target/classes:tulip/target/classes:$(own_cp tulip-examples/target/runtime-classpath.txt)"
cp_bench="tulip-bench/target/classes:tulip/target/classes:$(own_cp tulip-bench/target/runtime-classpath.txt)"
jvm=(-Xms256m -Xmx256m -XX:+UseParallelGC)

server_cmd() {
  case "$1" in
    tulip)        echo ./tulipw java "${jvm[@]}" -cp "$cp_examples" dev.tulip.examples.UdpEchoServer --port 0 ;;
    tulip-epoll)  echo ./tulipw java "${jvm[@]}" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
                    -Dtulip.backend=epoll -cp "$cp_examples" dev.tulip.examples.UdpEchoServer --port 0 ;;
    tulip-batch1) echo ./tulipw java "${jvm[@]}" -Dtulip.datagram.readBatch=1 -cp "$cp_examples" dev.tulip.examples.UdpEchoServer --port 0 ;;
    netty-epoll)  echo ./tulipw java "${jvm[@]}" --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED \
                    -Dio.netty.leakDetection.level=disabled \
                    -cp "$cp_bench" dev.tulip.bench.netty.NettyUdpEchoServer --port 0 --transport epoll ;;
  esac
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process, in clock ticks

run_cell() { # $1 = server name; prints "datagrams/s lost_windows cpu_us_per_datagram"
  local out pid port line res t0 t1
  out="$(mktemp)"
  # shellcheck disable=SC2046
  nice -n "$nice_level" taskset -c 0 $(server_cmd "$1") >"$out" 2>/dev/null &
  pid=$!
  for _ in $(seq 1 200); do
    line="$(grep -m1 '^listening ' "$out" || true)"
    [ -n "$line" ] && break
    sleep 0.05
  done
  if [ -z "$line" ]; then echo "server $1 did not start" >&2; kill "$pid" 2>/dev/null || true; return 1; fi
  port="${line##*:}"
  nice -n "$nice_level" taskset -c 1 tulip-bench/target/udpload 127.0.0.1 "$port" "$warmup" "$size" "$window" 0 \
    >/dev/null # JIT warm-up
  t0="$(cpu_ticks "$pid")"
  res="$(nice -n "$nice_level" taskset -c 1 tulip-bench/target/udpload 127.0.0.1 "$port" "$seconds" "$size" "$window" 0)"
  t1="$(cpu_ticks "$pid")"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
  echo "$res" | awk -v dt="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s %s %.2f\n", v["datagrams/s"], v["lost_windows"], dt / hz * 1e6 / (v["received"] > 0 ? v["received"] : 1) }'
}

servers=(tulip tulip-epoll netty-epoll tulip-batch1)
declare -A results cpus
echo "# udp echo: ${size}-byte datagrams, window ${window}, ${seconds}s per run, ${rounds} rounds; server on core 0, load on core 1"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg); nice $nice_level"
for r in $(seq 1 "$rounds"); do
  for s in "${servers[@]}"; do
    read -r dps lost cpu < <(run_cell "$s")
    results[$s]="${results[$s]:-} $dps"
    cpus[$s]="${cpus[$s]:-} $cpu"
    printf 'round %d  %-13s %10s datagrams/s  %6s server CPU us/datagram  (lost windows: %s)\n' "$r" "$s" "$dps" "$cpu" "$lost"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
base="$(echo "${results[netty-epoll]}" | median)"
basecpu="$(echo "${cpus[netty-epoll]}" | median)"
echo "# median datagrams/s (ratio to netty-epoll), median server CPU us per datagram (ratio to netty-epoll)"
for s in "${servers[@]}"; do
  m="$(echo "${results[$s]}" | median)"
  c="$(echo "${cpus[$s]}" | median)"
  awk -v s="$s" -v m="$m" -v b="$base" -v c="$c" -v bc="$basecpu" \
    'BEGIN {printf "%-13s %10.0f  x%.2f   %6.2f us  x%.2f\n", s, m, m / b, c, c / bc}'
done
