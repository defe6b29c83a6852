#!/bin/bash
# single_node.sh BUILD_DIR - clusterd on a one-node corosync, end to end.
#
# Runs itself again inside private network, mount and PID namespaces
# (unshare -n -m -p): a loopback corosync with votequorum, a dummy
# interface for the public IPs, a tiny TCP listener standing in for smbd
# (so 50.smbd's monitor passes), clusterd with ctdb-scripts/10.interface
# and 50.smbd.  Checks through clusterctl and `ip addr`:
#   1. clusterd started before corosync waits for it; then 1 node ok,
#      quorum, leader = node 1, both public IPs owned by and configured
#      on it;
#   2. the "smbd" listener stops -> monitor fails -> unhealthy, IPs gone;
#      it comes back -> IPs back;
#   2b. a monitor script that hangs is killed at the event timeout, the
#      node turns unhealthy and gives up its IPs, then recovers;
#   3. clusterctl stop / continue;
#   4. SIGTERM: clusterd releases the IPs and exits 0; clusterctl then
#      says "not running" with exit code 3;
#   5. restarted, it takes the IPs again; corosync killed -9: clusterd
#      releases them and exits 1.
# Bounded: the whole run is under `timeout 120`; the PID namespace takes
# every process with it when the script ends, also after a failure.
# Needs root, corosync, iproute2, python3.
set -u

BUILD=$(readlink -f "${1:?usage: single_node.sh BUILD_DIR}")
SELF=$(readlink -f "$0")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)

if [ "${CLUSTERD_SINGLE_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "single_node.sh: needs root (SKIP)"; exit 77; }
	command -v corosync >/dev/null || { echo "single_node.sh: corosync not installed (SKIP)"; exit 77; }
	CLUSTERD_SINGLE_INNER=1 exec timeout -k 5 120 \
		unshare -n -m -p --fork --mount-proc \
		bash "$SELF" "$BUILD"
fi

# ---- inside the namespaces (we are pid 1) ----
T=$(mktemp -d /tmp/clusterd-single.XXXXXX)
fail() {
	echo "FAIL: $*"
	echo "---- clusterd log"; tail -n 40 "$T/clusterd.log" 2>/dev/null
	echo "---- corosync log"; tail -n 15 "$T/corosync.log" 2>/dev/null
	rm -rf "$T"
	exit 1
}
trap 'rm -rf "$T"' EXIT

mount --make-rprivate / || fail "mount --make-rprivate"
mount -t tmpfs tmpfs /run || fail "tmpfs /run"
mount -t tmpfs tmpfs /dev/shm || fail "tmpfs /dev/shm"
mkdir -p "$T/corosync-lib" /var/lib/corosync
mount --bind "$T/corosync-lib" /var/lib/corosync || fail "bind /var/lib/corosync"
ip link set lo up || fail "lo up"
ip link add pub0 type veth peer name pub0p && ip link set pub0p up && ip link set pub0 up || fail "veth interface"

cat >"$T/corosync.conf" <<EOC
totem {
	version: 2
	cluster_name: clusterd-single
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		nodeid: 1
		name: node1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_logfile: yes
	logfile: $T/corosync.log
	to_stderr: no
	to_syslog: no
}
EOC
mkdir -p "$T/events"
cp "$REPO/ctdb-scripts/10.interface" "$REPO/ctdb-scripts/50.smbd" "$T/events/"
# a script that hangs in "monitor" while $T/hang exists (timeout test)
cat >"$T/events/99.hang" <<EOS
#!/bin/sh
[ "\$1" = monitor ] && [ -e "$T/hang" ] || exit 0
[ -e "$T/hang.pid" ] || echo \$\$ >"$T/hang.pid" # the first one
exec sleep 100
EOS
chmod +x "$T/events/99.hang"
printf '%s\n' "# test" "10.77.1.2/24 pub0" "10.77.1.1/24 pub0" >"$T/public_addresses"
PORT=14455
cat >"$T/cluster.conf" <<EOC
[clusterd]
state dir = $T/state
run dir = $T/run
public addresses = $T/public_addresses
event script dir = $T/events
monitor interval = 1
event timeout = 3
smbd port = $PORT
log level = 3
EOC


start_listener() {
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.close()' "$PORT" &
	LISTENER=$!
}
start_listener

CTL="$BUILD/clusterd/clusterctl -c $T/cluster.conf"
# clusterd first: it waits for corosync (up to 30 s)
"$BUILD/clusterd/clusterd" -c "$T/cluster.conf" -F >"$T/clusterd.log" 2>&1 &
CLUSTERD=$!
sleep 1
corosync -f -c "$T/corosync.conf" >"$T/corosync.out" 2>&1 &
COROSYNC=$!
for i in $(seq 1 100); do
	corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate: *Yes' && break
	sleep 0.1
done
corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate: *Yes' || fail "corosync not quorate"

# wait_for SECS PYTHON-EXPR : until the JSON status (variable s) matches
wait_for() {
	local secs=$1 expr=$2 i
	for i in $(seq 1 $((secs * 5))); do
		$CTL status --json >"$T/status.json" 2>/dev/null
		python3 - "$T/status.json" "$expr" <<'EOP' && return 0
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
sys.exit(0 if eval(sys.argv[2]) else 1)
EOP
		sleep 0.2
	done
	echo "---- last status"; cat "$T/status.json"
	return 1
}
addrs() { ip -o -4 addr show dev pub0 | awk '{print $4}' | sort | tr '\n' ' '; }

ALL_HERE='s["ok"] and s["quorum"] and s["leader"] == 1 and s["generation"] >= 1 and len(s["nodes"]) == 1 and s["nodes"][0]["state"] == "ok" and s["nodes"][0]["address"] == "127.0.0.1" and [i["address"] for i in s["public_ips"]] == ["10.77.1.1", "10.77.1.2"] and all(i["node"] == 1 and i["held_here"] for i in s["public_ips"])'
NONE_HERE='not any(i["held_here"] or i["node"] for i in s["public_ips"])'

wait_for 30 "$ALL_HERE" || fail "1: node not ok with both IPs"
grep -q 'corosync does not answer yet' "$T/clusterd.log" || fail "1: clusterd did not wait for corosync"
[ "$(addrs)" = "10.77.1.1/24 10.77.1.2/24 " ] || fail "1: pub0 has '$(addrs)'"
$CTL status >"$T/status.txt"; rc=$?
[ $rc = 0 ] || fail "1: clusterctl status exit $rc"
grep -q '^Leader: *1$' "$T/status.txt" || fail "1: text status lacks the leader"
GEN1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation"])' "$T/status.json")
echo "ok 1 - one node ok, quorum, leader 1, both IPs on it (generation $GEN1)"

kill "$LISTENER"; wait "$LISTENER" 2>/dev/null
wait_for 20 "$NONE_HERE and s['nodes'][0]['state'] == 'unhealthy' and not s['ok']" ||
	fail "2: IPs not released after the monitor failed"
[ -z "$(addrs)" ] || fail "2: pub0 still has '$(addrs)'"
$CTL status >/dev/null; rc=$?
[ $rc = 4 ] || fail "2: clusterctl status exit $rc for an unhealthy node, want 4"
grep -q '50.smbd failed with exit code 1' "$T/clusterd.log" || fail "2: no monitor failure logged"
start_listener
wait_for 20 "$ALL_HERE" || fail "2: IPs not back after the monitor passed"
[ "$(addrs)" = "10.77.1.1/24 10.77.1.2/24 " ] || fail "2: pub0 has '$(addrs)'"
echo "ok 2 - monitor failure releases the IPs, recovery takes them back"

touch "$T/hang"
wait_for 20 "$NONE_HERE and s['nodes'][0]['state'] == 'unhealthy'" ||
	fail "2b: IPs not released after the monitor hung"
grep -q 'event monitor: 99.hang timed out after 3 s, killing it' "$T/clusterd.log" ||
	fail "2b: no timeout logged"
hung=$(cat "$T/hang.pid")
for i in $(seq 1 20); do kill -0 "$hung" 2>/dev/null || break; sleep 0.1; done
kill -0 "$hung" 2>/dev/null && fail "2b: the hung script (pid $hung) was not killed"
rm -f "$T/hang"
wait_for 20 "$ALL_HERE" || fail "2b: IPs not back after the hang ended"
echo "ok 2b - a monitor script over its timeout is killed, the node turns unhealthy, then recovers"

$CTL stop || fail "3: clusterctl stop"
wait_for 20 "$NONE_HERE and s['nodes'][0]['state'] == 'stopped'" || fail "3: stop"
[ -z "$(addrs)" ] || fail "3: pub0 still has '$(addrs)'"
$CTL continue || fail "3: clusterctl continue"
wait_for 20 "$ALL_HERE" || fail "3: continue"
echo "ok 3 - clusterctl stop / continue"

kill -TERM "$CLUSTERD"
for i in $(seq 1 100); do
	kill -0 "$CLUSTERD" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$CLUSTERD" 2>/dev/null && fail "4: clusterd still running 10 s after SIGTERM"
wait "$CLUSTERD"; rc=$?
[ $rc = 0 ] || fail "4: clusterd exit code $rc"
[ -z "$(addrs)" ] || fail "4: pub0 still has '$(addrs)' after shutdown"
out=$($CTL status 2>&1); rc=$?
[ $rc = 3 ] || fail "4: clusterctl exit $rc without clusterd, want 3"
case $out in *"not running"*) ;; *) fail "4: message '$out'" ;; esac
echo "ok 4 - SIGTERM releases the IPs; clusterctl says not running (exit 3)"

"$BUILD/clusterd/clusterd" -c "$T/cluster.conf" -F >>"$T/clusterd.log" 2>&1 &
CLUSTERD=$!
wait_for 30 "$ALL_HERE and s['generation'] > $GEN1" ||
	fail "5: clusterd restarted without its IPs or with a generation <= $GEN1"
kill -9 "$COROSYNC"
wait "$COROSYNC" 2>/dev/null
for i in $(seq 1 100); do
	kill -0 "$CLUSTERD" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$CLUSTERD" 2>/dev/null && fail "5: clusterd still running 10 s after corosync died"
wait "$CLUSTERD"; rc=$?
[ $rc = 1 ] || fail "5: clusterd exit code $rc after losing corosync, want 1"
[ -z "$(addrs)" ] || fail "5: pub0 still has '$(addrs)' after corosync died"
echo "ok 5 - restart: generation persisted and grows; corosync killed: clusterd releases the IPs and exits 1"
[ -n "${VERBOSE:-}" ] && cat "$T/clusterd.log"
echo "6 passed, 0 failed"
exit 0
