#!/usr/bin/env bash
# Measures the CPU kernels with JMH and writes docs/benchmarks/cpu-kernels.md.
# Builds the benchmarks (-Pbench), runs every benchmark in one JMH run on JDK 25 (the copy
# bandwidth that the kernels are compared with is measured in the same run), keeps JMH's JSON in
# benchmarks/target/cpu-kernels.json and renders the Markdown table from it.
#   benchmarks/run.sh                     the full table (about 10 minutes)
#   benchmarks/run.sh 'Matmul' -p type=F16   extra arguments go to JMH (a benchmark regex, -p ...)
#   FORKS=3 ITERATIONS=10                 more forks and measured iterations for a tighter interval
#   REPORT=docs/benchmarks/x.md benchmarks/run.sh 'Prefill'   writes the table of a subset elsewhere
#   RETROINFER_JAVA_HOME                  a JDK 25+ to use (else JAVA_HOME if 25+, else /usr/lib/jvm)
# Run it on an otherwise idle machine: other load makes the memory-bound figures meaningless.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=tools/find-jdk.sh
source "$root/tools/find-jdk.sh"

require_build_tools run.sh

echo "run.sh: building the benchmarks with Maven..." >&2
mvn -B -q -ntp -Pbench -pl benchmarks -am -DskipTests package

jar=benchmarks/target/benchmarks.jar
report=${REPORT:-docs/benchmarks/cpu-kernels.md}
json=benchmarks/target/$(basename "$report" .md).json
# One fork per benchmark and parameter set; 3 warm-up and 8 measured iterations of 1 s each:
# about 13 s per line, 40 lines. JMH's 99.9% confidence interval comes from the 8 iterations.
# The forks get their JVM flags from the benchmarks' @Fork annotations (the launcher's flags).
jmh=(-f "${FORKS:-1}" -wi 3 -w 1s -i "${ITERATIONS:-8}" -r 1s -prof gc -rf json -rff "$json" "$@")
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
"$jdk/bin/java" -jar "$jar" "${jmh[@]}"

machine=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
"$jdk/bin/java" --add-modules jdk.incubator.vector -cp "$jar" org.retroinfer.benchmarks.CpuKernelsReport "$json" "$report" \
  "machine=${machine:-unknown CPU}" "cores=$(nproc)" "date=$(date -u +%Y-%m-%dT%H:%MZ)" \
  "load=$load_before; $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')" \
  "command=${REPORT:+REPORT=$REPORT }benchmarks/run.sh${*:+ $*} (java -jar $jar ${jmh[*]})"
