#!/bin/sh
# Runs the runtime benchmark (dev.pods.examples.RuntimeBenchmark): P1, one tiny guest through PodRuntime vs a raw
# qemu-system-x86_64 boot to the same point; P10, N tiny pods at once, time to ready and host memory per pod.
# Needs root, a running libvirtd, dnsmasq, nft, genisoimage and qemu-system-x86_64. Builds with Maven, online (what
# a fresh machine lacks, such as the dependency plugin, is downloaded), installs
# nothing into ~/.m2 (the reactor's target/classes are used).
# usage: pods-examples/src/main/sh/benchmark.sh [rounds [pods [memoryMib]]]   (from anywhere; defaults 5 10 128)
set -eu
cd "$(dirname "$0")/../../../.."
mvn -B -q -Dstyle.color=never -pl pods-examples -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test >/dev/null
# a fixed, pre-touched heap: the JVM's RSS then grows only by what the pods cost outside the heap
exec java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp "pods-examples/target/test-classes:pods-examples/target/classes:$(cat pods-examples/target/cp.txt)" \
  dev.pods.examples.RuntimeBenchmark "$@"
