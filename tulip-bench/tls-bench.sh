#!/usr/bin/env bash
# TLS echo throughput: Tulip's TLS layer vs Netty's SslHandler (JDK provider), one loop thread each.
# Server pinned to core 0, load client (peers/tls_echo_load.c: C, OpenSSL, epoll) on core 1; short interleaved runs.
#   tulip-bench/tls-bench.sh [ROUNDS] [SECONDS] [CONNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
rounds="${1:-3}"; secs="${2:-5}"; conns="${3:-10}"
JAVA="$("$root/tulipw" java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.home/ {print $2; exit}')/bin/java"
cp="$root/tulip/target/classes:$here/target/classes:$(cat "$here/target/runtime-classpath.txt")"
flags=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -XX:+UseParallelGC)
ks="$(mktemp -d)/bench.p12"
load="$here/target/tls_echo_load"
gcc -O2 -o "$load" "$here/peers/tls_echo_load.c" -lssl -lcrypto
"$JAVA" -cp "$cp" dev.tulip.bench.tls.TlsEchoBench keystore "$ks" >/dev/null 2>&1
port=$((20000 + RANDOM % 10000))
for r in $(seq 1 "$rounds"); do
  order=(tulip netty); [ $((r % 2)) -eq 0 ] && order=(netty tulip)
  for kind in "${order[@]}"; do
    port=$((port + 1))
    taskset -c 0 "$JAVA" "${flags[@]}" -cp "$cp" dev.tulip.bench.tls.TlsEchoBench server "$kind" "$port" "$ks" >/dev/null 2>&1 &
    spid=$!
    for i in $(seq 1 150); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
    taskset -c 1 "$load" "$port" "$conns" 16384 3 >/dev/null # JIT warm-up of the fresh server JVM, discarded
    for size in 1024 102400; do
      res="$(taskset -c 1 "$load" "$port" "$conns" "$size" "$secs")"
      echo "round=$r server=$kind size=$size conns=$conns $res"
    done
    kill "$spid"; wait "$spid" 2>/dev/null || true
  done
done
