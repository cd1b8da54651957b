#!/bin/sh
# Parsing benchmark of pods-template (one thread, so one core): builds the module with its
# dependencies, then runs dev.pods.template.ParseBenchmark on the test classpath.
# Usage (from the repository root): pods-template/bench.sh [seconds-per-round]
set -e
cd "$(dirname "$0")/.."
mvn -B -q -pl pods-template -am test-compile
mvn -B -q -pl pods-template dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt
exec java -cp "pods-template/target/test-classes:pods-template/target/classes:pods-core/target/classes:$(cat pods-template/target/bench-classpath.txt)" \
    dev.pods.template.ParseBenchmark "$@"
