# Sourced by the launcher and the scripts: finds a JDK 25 or newer.
#   find_jdk               prints the first of RETROINFER_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*, /opt/java/*,
#                          /usr/local/java/* that holds a JDK 25+, or nothing
#   require_build_tools NAME  sets jdk, and checks for Maven, or exits 2 naming the script (below)

java_major() { # prints the major version of the JDK at $1, or nothing
  [[ -x $1/bin/java && -f $1/release ]] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
}

find_jdk() {
  local candidate major
  for candidate in "${RETROINFER_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /usr/local/java/*; do
    [[ -n $candidate && -d $candidate ]] || continue
    major=$(java_major "$candidate")
    if [[ -n $major ]] && ((major >= 25)); then
      echo "$candidate"
      return
    fi
  done
}

# require_build_tools NAME: sets jdk to a JDK 25+ and checks that Maven is on the PATH, or exits 2
# with one line that says, under the calling script's NAME, what is missing and what to do.
require_build_tools() {
  jdk=$(find_jdk)
  if [[ -z $jdk ]]; then
    echo "$1: no JDK 25 or newer found in RETROINFER_JAVA_HOME, JAVA_HOME or /usr/lib/jvm; install one or set RETROINFER_JAVA_HOME" >&2
    exit 2
  fi
  command -v mvn >/dev/null || { echo "$1: Maven (mvn) is needed to build the benchmarks" >&2; exit 2; }
}
