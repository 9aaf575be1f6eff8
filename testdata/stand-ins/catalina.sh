#!/bin/sh
# A stand-in for Tomcat's bin/catalina.sh on test hosts: "catalina.sh start"
# starts the java stand-in detached, with Tomcat's usual arguments, and
# returns once it has recorded its PID.
set -eu
[ "${1:-}" = start ] || { echo "catalina.sh stand-in: only start" >&2; exit 2; }
home=$(cd "$(dirname "$0")/.." && pwd)
old=$(cat /var/lib/tejun-ps/java.pid 2>/dev/null || true)
setsid /usr/local/bin/java -Dcatalina.home="$home" -classpath "$home/bin/bootstrap.jar" org.apache.catalina.startup.Bootstrap start </dev/null >/dev/null 2>&1 &
i=0
while [ "$(cat /var/lib/tejun-ps/java.pid 2>/dev/null || true)" = "$old" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
