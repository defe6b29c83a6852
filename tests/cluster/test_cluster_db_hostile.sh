#!/bin/bash
# test_cluster_db_hostile.sh - clusterd's database socket against a
# hostile local client (tests/cluster/cluster_db_hostile.py):
#
#   up 2
#   cluster_db_hostile.py on node 1: frames with bad lengths, records that
#                do not parse or break the protocol's rules (connection
#                closed), COMMITs of garbage transactions (refused), a
#                COMMIT to a volatile name and a STORE to a persistent
#                one (OBJECT_NAME_COLLISION: else the name exists as both
#                kinds on every node and neither attaches again), clients
#                vanishing mid-frame or while their update is under way,
#                two requests at once, 1100 connections, 300 mutated
#                requests; every outcome as expected
#   the same clusterd (pid) still answers, clusterctl status works
#   limit:       node 1's clients attach names until node 1 refuses more
#                (INSUFFICIENT_RESOURCES); a record stored through node 2
#                in a database new to both is on node 1 too (the limit
#                counts names only node 1's clients attached: enforced
#                where an update was applied, node 1 dropped what node 2
#                applied and the replicas differed)
#
# Run it on a sanitizer build (SMB3_BUILD) with ASAN_OPTIONS log_path to
# catch memory errors too.  Needs clusterd and cldb_tool (else exit 77).
# About 15 s,
# bounded (SMB3C_TEST_LIMIT, default 60 s), always cleans up (lib.sh).
set -u
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-60}
. "$(dirname "$0")/lib.sh"
need_clusterd
TOOL=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")/clusterd/cldb_tool
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
cluster_test_main "$@"

out=$("$C" up 2 2>&1) || { echo "$out" | tail -20; fail "up 2"; }
ok "up 2"
R=$("$C" info ROOT)
pid=$(cat "$R/node1/run/clusterd.pid")
"$C" exec 1 timeout 45 /usr/bin/python3 "$CLUSTER_DIR/cluster_db_hostile.py" \
	"$R/node1/clusterd/run/clusterd-db.sock" "${HOSTILE_SEED:-1}" \
	>"$R/hostile.out" 2>&1
rc=$?
sed 's/^/  | /' "$R/hostile.out"
[ $rc -eq 0 ] || fail "the hostile client's cases (exit $rc)"
ok "every hostile case had the expected outcome"
[ "$(cat "$R/node1/run/clusterd.pid")" = "$pid" ] &&
	"$C" exec 1 sh -c "kill -0 $pid" ||
	fail "clusterd of node 1 is not the one that started"
ctl_get 1 's["quorum"]' >/dev/null || fail "clusterctl status does not answer"
ok "clusterd $pid still runs and answers clusterctl status"

sock() { echo "$R/node$1/clusterd/run/clusterd-db.sock"; }
o=$("$C" exec 1 timeout 30 /usr/bin/python3 \
	"$CLUSTER_DIR/cluster_db_hostile.py" "$(sock 1)" fill 2>&1) ||
	fail "node 1 never refused another database: $o"
ok "node 1: $o"
o=$("$C" exec 2 timeout 20 "$TOOL" "$(sock 2)" beyond set k 7 2>&1) ||
	fail "store through node 2 into a new database: $o"
got() { [ "$("$C" exec 1 timeout 10 "$TOOL" "$(sock 1)" beyond get k 2>/dev/null)" = 7 ]; }
t=$(poll 5 got) ||
	fail "node 1 lacks what node 2 stored: $("$C" exec 1 timeout 10 "$TOOL" "$(sock 1)" beyond get k 2>&1 | tail -1)"
ok "a database new to both, stored through node 2, is on node 1 at its limit too (after ${t}s)"
