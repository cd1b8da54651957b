#!/bin/sh
# Runs the pods-kvm benchmark (KvmBenchmark) against qemu:///system. Needs root and a running libvirtd.
# usage: pods-kvm/src/main/sh/benchmark.sh [rounds]      (from the repository root)
set -eu
cd "$(dirname "$0")/../../../.."
mvn -B -q -pl pods-kvm -am install -DskipTests
CP=$(mktemp)
trap 'rm -f "$CP"' EXIT
mvn -B -q -pl pods-kvm dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP" >/dev/null
# pods-core from this checkout first: ~/.m2 may hold a pods-core SNAPSHOT installed from another branch
exec java -cp "pods-kvm/target/test-classes:pods-kvm/target/classes:pods-core/target/classes:$(cat "$CP")" dev.pods.kvm.KvmBenchmark "$@"
