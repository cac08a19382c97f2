#!/usr/bin/env bash
# The one command that runs segsa's JMH benchmarks:  bench/run.sh [JMH options]
#   e.g. bench/run.sh -wi 2 -i 3 -f 1            (the short settings of RESULTS.md)
#        bench/run.sh 'Mdsa.*' -p d=64           (a subset)
# Installs the engine (root project, tests skipped, native library built by CMake) into the local
# Maven repository, packages bench/ into target/benchmarks.jar and runs it. Environment:
#   SEGSA_TARGET   build directory of the modules (default /tmp/segsa-bench-target, keeps target/ untouched)
#   MVN_OFFLINE=1  pass -o to Maven (everything already in ~/.m2)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME
off=()
[ "${MVN_OFFLINE:-0}" = 1 ] && off=(-o)
target="${SEGSA_TARGET:-/tmp/segsa-bench-target}"
(cd "$here/.." && mvn -q -B "${off[@]}" -Dsegsa.target.root="$target" install -DskipTests)
(cd "$here" && mvn -q -B "${off[@]}" package)
export OMP_WAIT_POLICY=PASSIVE
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dsegsa.home="$(cd "$here/.." && pwd)" \
  -jar "$here/target/benchmarks.jar" "$@"
