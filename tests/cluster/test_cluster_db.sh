#!/bin/bash
# test_cluster_db.sh - replicated databases through the clustered dbwrap
# backend (dbwrap/dbwrap_cluster.c, clusterd/cluster_db.c):
#
#   up 3
#   concurrent increments: cldb_tool on all three nodes at once adds 1 to
#                one record N times each (fetch_locked + record_store,
#                retrying on a CAS conflict); the value is exactly 3N on
#                every node
#   local lock:  two processes on node 2 increment another record at once:
#                no CAS retry (they wait for each other), 2N everywhere
#   acknowledged write: a value set on node 1 is read on nodes 2 and 3;
#                the other nodes apply it when CPG delivers it to them,
#                so the read polls for at most 5 s and prints how long
#                it took (normally 0 ms)
#   watch:       a watcher of a key on node 3 is woken when node 1 stores
#                the key (clusterd of node 3 applies it and wakes it)
#   delete:      a record deleted on node 2 is gone on every node
#   status:      clusterctl status (text, --json) lists the database with
#                its 2 live records on every node
#   rejoin:      clusterd of node 3 killed and restarted: it gets a
#                snapshot, then serves the same values; nodes 1 and 3
#                increment together and every node agrees
#   big value:   1 MB reaches every node, over 1 MiB is refused
#
# Needs clusterd and cldb_tool built in $SMB3_BUILD (else exit 77).
# Bounded (SMB3C_TEST_LIMIT, default 110 s), always cleans up (lib.sh).
# CLDB_N: increments per node (default 200).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
TOOL=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")/clusterd/cldb_tool
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
cluster_test_main "$@"

N=${CLDB_N:-200}
DB=test_repl

sock() { echo "$("$C" info ROOT)/node$1/clusterd/run/clusterd-db.sock"; }
tool() { # NODE ARGS...
	local n=$1
	shift
	"$C" exec "$n" timeout 60 "$TOOL" "$(sock "$n")" "$DB" "$@"
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"

# --- concurrent increments -------------------------------------------------
R=$("$C" info ROOT)
# all three start at the same moment (starting a process in a node takes
# longer than a short run): conflicts must happen and be resolved
at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.5 }')
t0=$EPOCHREALTIME
for n in 1 2 3; do
	"$C" exec "$n" env CLDB_START_AT="$at" timeout 60 "$TOOL" "$(sock "$n")" \
		"$DB" incr counter "$N" >"$R/incr$n.out" 2>&1 &
done
rc=0
for n in 1 2 3; do wait -n || rc=1; done
[ $rc = 0 ] || fail "an increment run failed: $(cat "$R"/incr*.out)"
retries=$(cat "$R"/incr1.out "$R"/incr2.out "$R"/incr3.out |
	awk '{print $2}' | paste -sd' ')
ok "$((3 * N)) increments from 3 nodes (1.5 s start delay included) in" \
	"$(since "$t0") s; CAS retries: $retries"
[ "$(echo "$retries" | awk '{print $1 + $2 + $3}')" -gt 0 ] ||
	fail "no CAS conflict at all: the runs did not overlap"
for n in 1 2 3; do
	# all increments are acknowledged; the last ones may still be on
	# their way to the other nodes
	tool "$n" wait counter $((3 * N)) 5000 >/dev/null ||
		fail "node $n: counter is $(tool "$n" get counter), not $((3 * N))"
done
ok "counter = $((3 * N)) on every node"
for n in 1 2 3; do
	v=$(tool "$n" get counter)
	[ "$v" = $((3 * N)) ] || fail "node $n: counter went on to $v"
done

# --- processes of one node wait for each other (node-local lock) -----------
at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.5 }')
for i in 1 2; do
	"$C" exec 2 env CLDB_START_AT="$at" timeout 60 "$TOOL" "$(sock 2)" \
		"$DB" incr local "$N" >"$R/local$i.out" 2>&1 &
done
rc=0
for i in 1 2; do wait -n || rc=1; done
[ $rc = 0 ] || fail "local increments: $(cat "$R"/local*.out)"
lr=$(cat "$R"/local1.out "$R"/local2.out | awk '{print $2}' | paste -sd' ')
[ "$lr" = "0 0" ] || fail "two processes of node 2 met in the CAS: retries $lr"
for n in 1 2 3; do
	tool "$n" wait local $((2 * N)) 5000 >/dev/null ||
		fail "node $n: local is $(tool "$n" get local), not $((2 * N))"
done
ok "two processes of node 2: $((2 * N)) increments, no CAS retry (they wait for each other)"
tool 2 delete local || fail "delete local"

# --- an acknowledged write is visible on the other nodes -------------------
lat=""
for i in 1 2 3 4 5; do
	v=$((1000 + i))
	tool 1 set ack "$v" >/dev/null || fail "set on node 1"
	[ "$(tool 1 get ack)" = "$v" ] || fail "node 1 does not read its own acknowledged write"
	t2=$(tool 2 wait ack "$v" 5000) || fail "node 2: $t2"
	t3=$(tool 3 wait ack "$v" 5000) || fail "node 3: $t3"
	lat="$lat ${t2% ms}/${t3% ms}"
done
ok "write acknowledged on node 1 read on nodes 2/3 after (ms):$lat"

# --- a watch on node 3 fires when node 1 stores ---------------------------
MSGDIR=$R/node3/lock/msg.sock
"$C" exec 3 timeout 20 "$TOOL" "$(sock 3)" "$DB" watch "$MSGDIR" watched \
	10000 >"$R/watch.out" 2>&1 &
wpid=$!
poll 10 grep -qs ready "$R/watch.out" >/dev/null ||
	fail "watcher not ready: $(cat "$R/watch.out")"
tool 1 set watched 7 >/dev/null || fail "set watched on node 1"
wait $wpid || fail "watcher on node 3 not woken: $(cat "$R/watch.out")"
grep -q woken "$R/watch.out" || fail "watcher: $(cat "$R/watch.out")"
ok "watcher on node 3 woken by a store on node 1"

# --- delete -----------------------------------------------------------------
tool 2 delete ack || fail "delete on node 2"
gone() { [ "$(tool "$1" get ack)" = none ]; }
for n in 1 2 3; do
	poll 5 gone "$n" >/dev/null || fail "node $n still has the deleted record"
done
c1=$(tool 1 count) c2=$(tool 2 count) c3=$(tool 3 count)
[ "$c1/$c2/$c3" = "2/2/2" ] || fail "record counts $c1/$c2/$c3, not 2 each"
ok "deleted on node 2, gone everywhere; 2 records on every node"

# --- clusterctl status lists the database with its record count ------------
for n in 1 2 3; do
	v=$(ctl_get "$n" "[d['records'] for d in s['databases'] if d['name'] == '$DB']")
	[ "$v" = 2 ] || fail "node $n: clusterctl status shows '$v' records of $DB"
done
"$C" ctl 1 status | grep -q "^  $DB  *2\$" || fail "clusterctl status text lacks $DB"
ok "clusterctl status: $DB with 2 records on every node"

# --- snapshot on join: a restarted clusterd gets the replicas --------------
"$C" kill 3 --only clusterd >/dev/null || fail "kill clusterd of node 3"
"$C" start 3 >/dev/null 2>&1 || fail "start node 3"
synced3() { [ "$(tool 3 get counter 2>/dev/null)" = $((3 * N)) ]; }
t=$(poll 40 synced3) ||
	fail "node 3 after its clusterd restarted: counter '$(tool 3 get counter 2>&1)'"
[ "$(tool 3 count)" = 2 ] || fail "node 3 after restart: $(tool 3 count) records"
ok "clusterd of node 3 restarted: serves the replicas (counter $((3 * N)), 2 records) after ${t}s"
for n in 1 3; do
	tool "$n" incr counter 20 >"$R/incr$n.out" 2>&1 &
done
rc=0
for n in 1 3; do wait -n || rc=1; done
[ $rc = 0 ] || fail "increments after the restart: $(cat "$R"/incr1.out "$R"/incr3.out)"
for n in 1 2 3; do
	tool "$n" wait counter $((3 * N + 40)) 5000 >/dev/null ||
		fail "node $n after the restart: counter $(tool "$n" get counter)"
done
ok "after the restart nodes 1 and 3 increment together: $((3 * N + 40)) on every node"

# --- a value near the 1 MiB limit travels; one over it is refused ----------
tool 1 fill big 1000000 || fail "a 1 MB value not stored on node 1"
for n in 2 3; do
	bigsize() { [ "$(tool "$1" size big 2>/dev/null)" = 1000008 ]; }
	poll 5 bigsize "$n" >/dev/null ||
		fail "node $n: big value size '$(tool "$n" size big 2>&1)'"
done
tool 1 fill big 1100000 2>/dev/null && fail "a value over 1 MiB was accepted"
[ "$(tool 2 size big)" = 1000008 ] || fail "big value changed"
ok "a 1 MB value reaches every node; one over 1 MiB is refused, clusterd lives on"
