# Shared by every script of the project: finds JDK 25+ and a pinned Maven 3.9.
# Sourced, not executed. Exports JAVA_HOME and defines armdb_mvn.

ARMDB_MAVEN_VERSION=3.9.16
ARMDB_JDK_FALLBACK=/usr/lib/jvm/temurin-25-jdk-amd64

armdb_java_major() {
  # Prints the feature version of the java binary given, or nothing.
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1
}

armdb_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" "$ARMDB_JDK_FALLBACK"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    major=$(armdb_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "armdb: needs JDK 25 or newer; JAVA_HOME is '${JAVA_HOME:-unset}' and $ARMDB_JDK_FALLBACK has none." >&2
  echo "armdb: install a JDK 25 and set JAVA_HOME to it." >&2
  return 1
}

armdb_find_maven() {
  # Uses the pinned Maven if present; fetches it once through the installed mvn from the
  # configured Maven repository (no host is hard-coded here).
  local home="$HOME/.m2/armdb-maven/apache-maven-$ARMDB_MAVEN_VERSION"
  if [ ! -x "$home/bin/mvn" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      echo "armdb: needs Maven (any 3.x) on PATH to fetch Maven $ARMDB_MAVEN_VERSION." >&2
      return 1
    fi
    echo "armdb: fetching Maven $ARMDB_MAVEN_VERSION (once)..." >&2
    mvn -q -B dependency:get -Dtransitive=false \
      -Dartifact="org.apache.maven:apache-maven:$ARMDB_MAVEN_VERSION:tar.gz:bin" >&2 || return 1
    local archive="$HOME/.m2/repository/org/apache/maven/apache-maven/$ARMDB_MAVEN_VERSION/apache-maven-$ARMDB_MAVEN_VERSION-bin.tar.gz"
    mkdir -p "$HOME/.m2/armdb-maven"
    tar -xzf "$archive" -C "$HOME/.m2/armdb-maven" || return 1
  fi
  ARMDB_MVN="$home/bin/mvn"
}

armdb_mvn() {
  "$ARMDB_MVN" -B -ntp "$@"
}
