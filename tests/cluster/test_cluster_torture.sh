#!/bin/bash
# test_cluster_torture.sh - smbd with "clustering = yes" (its share modes,
# leases, byte-range locks and smbXsrv records in clusterd's replicated
# databases, docs/cluster.md "smbd in a cluster") passes the smbtorture
# tests of must_pass.txt in the suites smb2.lock, smb2.oplock, smb2.lease
# and smb2.sharemode on a 1-node test cluster, as a single-node smbd does.
#
#   up 1 (clustering = yes in the node's smb.conf: checked)
#   run_smbtorture.sh in the client namespace against the node
#   clusterctl status --json: the locking, leases and brlock databases
#   exist (the server really used the replicated backend)
#   sweep: a file held open, smbd's parent and child killed with SIGKILL
#   (their records stay), smbd started again: its start sweep removes
#   them (smbstatus --all)
#
# Needs clusterd and smbtorture (else exit 77).  Bounded by
# SMB3C_TEST_LIMIT (default 1200 s; each smbtorture test by
# TORTURE_TIMEOUT, default 120 s), always cleans up (lib.sh).
# TORTURE_SUITES: an extended regex of suites (or tests) instead of the four.
set -u
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-1200}
. "$(dirname "$0")/lib.sh"
need_clusterd
command -v smbtorture >/dev/null || {
	echo "SKIP: $CLUSTER_TEST_NAME needs smbtorture"
	exit 77
}
cluster_test_main "$@"

SUITES=${TORTURE_SUITES:-smb2\.(lock|oplock|lease|sharemode)}
REPO=$(cd "$CLUSTER_DIR/../.." && pwd)

"$C" down >/dev/null 2>&1
# run_smbtorture.sh's own server has this share option too
out=$(SMB3C_EXTRA_SHARE='	hide files = /hidefile/' "$C" up 1 2>&1) ||
	{ echo "$out" | tail -40; fail "up 1"; }
ok "up 1"
R=$("$C" info ROOT)
grep -q '^[[:space:]]*clustering = yes' "$R/node1/smb.conf" ||
	fail "node 1's smb.conf has no clustering = yes"
ok "node 1 runs with clustering = yes"

list=$R/torture.list
grep -E "^(${SUITES})(\.|\$)" "$REPO/tests/smbtorture/must_pass.txt" >"$list"
[ -s "$list" ] || fail "no tests of $SUITES in must_pass.txt"
echo "running $(wc -l <"$list") smbtorture tests against node 1"
t0=$SECONDS
"$C" client env SMB3_PORT=445 SMB3_HOST="$("$C" info NODE_IPS | awk '{print $1}')" \
	SMB3_USER="$("$C" info SMB_USER)" SMB3_PASS="$("$C" info SMB_PASS)" \
	TORTURE_TIMEOUT="${TORTURE_TIMEOUT:-120}" TORTURE_LOGDIR="$R/torture-logs" \
	"$REPO/tests/smbtorture/run_smbtorture.sh" "$list" >"$R/torture.out" 2>&1
rc=$?
grep -E '^(FAIL|run_smbtorture)' "$R/torture.out"
tail -1 "$R/torture.out"
[ $rc -eq 0 ] || fail "smbtorture on the clustered node (logs in $R/torture-logs)"
ok "smbtorture: $(tail -1 "$R/torture.out") in $((SECONDS - t0)) s"

dbs=$("$C" ctl 1 status --json 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(d["name"] for d in json.load(sys.stdin)["databases"])))')
for db in locking leases brlock smbXsrv_session_global smbXsrv_open_global; do
	case " $dbs " in
	*" $db "*) ;;
	*) fail "database $db not replicated (clusterd has: $dbs)" ;;
	esac
done
ok "smbd's databases are clusterd's: $dbs"

# --- the sweep -------------------------------------------------------------
# A file held open through node 1; then smbd (parent and the child serving
# the client) killed with SIGKILL at once, so nobody removes the open's
# records; they stay in the replicated databases (clusterd keeps them).
# The next smbd's start sweep must remove them.
BUILD_DIR=$("$C" info BUILD)
status_json() {
	"$C" exec 1 timeout 20 "$BUILD_DIR/tools/smbstatus" \
		-s "$R/node1/smb.conf" --json --all 2>/dev/null
}
# number of records (open_files + share_modes) naming NAME
count_name() {
	status_json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin); n = sys.argv[1]
print(sum(1 for k in ("open_files", "share_modes") for r in d.get(k, [])
          if n in json.dumps(r)))' "$1"
}
held() { [ "$(count_name sweep.dat)" = 2 ]; }
gone() { [ "$(count_name sweep.dat)" = 0 ]; }
echo data >"$("$C" info SHARE_DIR)/sweep.dat"
chmod 666 "$("$C" info SHARE_DIR)/sweep.dat"
( (echo "open sweep.dat"; sleep 20) | "$C" client timeout 30 smbclient \
	"//$("$C" info NODE_IPS | awk '{print $1}')/share" \
	-U "$("$C" info SMB_USER)%$("$C" info SMB_PASS)" >"$R/sweep-client.out" 2>&1 ) &
client=$!
poll 15 held >/dev/null || fail "the open of sweep.dat is not in smbstatus"
ppid_ns=$(cat "$R/node1/run/smbd.pid")
kids=$("$C" exec 1 ps -o pid= --ppid "$ppid_ns" | xargs)
[ -n "${kids// /}" ] || fail "no smbd child on node 1"
# shellcheck disable=SC2086
"$C" exec 1 kill -9 "$ppid_ns" $kids
sleep 1
held || fail "the killed smbd's records were removed before the restart (nothing to sweep)"
ok "smbd killed (parent $ppid_ns, children $kids): its open's 2 records stay"
"$C" start 1 >/dev/null 2>&1 || fail "restarting smbd on node 1"
t=$(poll 30 gone) || fail "the start sweep left the dead smbd's records"
ok "the new smbd's start sweep removed them (${t} s after the restart)"
grep -q "sweep" "$R/node1/log/smbd.log" ||
	fail "smbd.log does not mention the sweep"
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null
exit 0
