#!/bin/sh
# Runs the storage benchmark (dev.pods.examples.StorageBenchmark): a new 10 GiB persistent disk through the runtime
# vs qemu-img create + virsh attach-disk + mkfs + mount by hand, and journal line latency guest -> event.
# Needs root, a running libvirtd, dnsmasq, nft and QEMU. Installs nothing into ~/.m2.
# usage: pods-examples/src/main/sh/storage-benchmark.sh [rounds [samples]]   (defaults 3 100)
set -eu
cd "$(dirname "$0")/../../../.."
mvn -o -B -q -Dstyle.color=never -pl pods-examples -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test >/dev/null
exec java -cp "pods-examples/target/test-classes:pods-examples/target/classes:$(cat pods-examples/target/cp.txt)" \
  dev.pods.examples.StorageBenchmark "$@"
