# Sourced by the launcher and the scripts: finds a JDK 25 or newer.
#   find_jdk   prints the first of RETROINFER_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*, /opt/java/*,
#              /usr/local/java/* that holds a JDK 25+, or nothing

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
