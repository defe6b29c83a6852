#!/bin/bash
# test_cluster_db_hostile.sh - clusterd's database socket against a
# hostile local client (tests/cluster/cluster_db_hostile.py):
#
#   up 1
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
#
# Run it on a sanitizer build (SMB3_BUILD) with ASAN_OPTIONS log_path to
# catch memory errors too.  Needs clusterd (else exit 77).  About 10 s,
# bounded (SMB3C_TEST_LIMIT, default 60 s), always cleans up (lib.sh).
set -u
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-60}
. "$(dirname "$0")/lib.sh"
need_clusterd
cluster_test_main "$@"

out=$("$C" up 1 2>&1) || { echo "$out" | tail -20; fail "up 1"; }
ok "up 1"
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
