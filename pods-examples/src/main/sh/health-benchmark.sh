#!/bin/sh
# Runs the health benchmark (dev.pods.examples.HealthBenchmark): a domain destroyed behind the runtime's back ->
# the instance leaves READY and a peer's reload starts (p50/max over N trials), start() -> READY again vs a fresh
# deploy of the same unit, kill -9 of QEMU -> STOPPED and READY again vs the same fresh deploy, and SIGSTOP of QEMU
# -> UNHEALTHY vs the liveness timeout.
# Needs root, a running libvirtd, dnsmasq, nft and genisoimage. Builds offline, installs nothing into ~/.m2.
# usage: pods-examples/src/main/sh/health-benchmark.sh [stops [freezes [crashes]]]   (from anywhere; defaults 20 3 5)
set -eu
cd "$(dirname "$0")/../../../.."
mvn -o -B -q -Dstyle.color=never -pl pods-examples -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test >/dev/null
exec java -cp "pods-examples/target/test-classes:pods-examples/target/classes:$(cat pods-examples/target/cp.txt)" \
  dev.pods.examples.HealthBenchmark "$@"
