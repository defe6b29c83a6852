#!/bin/bash
# test_cluster_vacuum.sh - tombstones of the replicated databases are
# vacuumed (docs/cluster.md "Vacuuming tombstones"; clusterd with
# "vacuum interval = 1"):
#
#   up 3
#   vacuum:      nodes 1-3 each create and delete CLDB_N keys at once
#                (3N tombstones) while a live record stays; within a
#                few seconds no tombstone is left on any node, the live
#                record is still there, the dumps of the three nodes
#                are identical (cldb_tool dump) and hold the database's
#                vacuum floor
#   floor:       a vacuumed key created again starts above the floor
#   stale CAS:   node 1 reads a new key (fetch_locked) and holds it;
#                node 2 deletes it, the vacuum removes the tombstone,
#                node 2 creates it again with the same value; node 1's
#                store with what it read must get NT_STATUS_RETRY (with
#                seqs restarting at 1 it went through: a lost update)
#   churn:       nodes 1 and 2 add and subtract on one key at once (a
#                change that leaves 0 deletes it, the next one creates
#                it again) while vacuums run; node 3 increments a
#                counter meanwhile: the key is gone and the counter
#                exact on every node (no update lost across a vacuum),
#                the floor went up, dumps identical, no tombstone left;
#                prints how often the floor moved while the churn ran
#                (vacuums that removed the churned key's tombstone)
#   rejoin:      clusterd of node 3 restarted takes the snapshot with
#                the floor: dumps identical
#
# Needs clusterd and cldb_tool built in $SMB3_BUILD (else exit 77).
# Bounded (SMB3C_TEST_LIMIT, default 110 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
TOOL=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")/clusterd/cldb_tool
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
export SMB3C_VACUUM_INTERVAL=${SMB3C_VACUUM_INTERVAL:-1}
cluster_test_main "$@"

N=${CLDB_N:-200}
CN=${CLDB_CHURN_N:-1000} # add/subtract pairs per churning node
DB=test_vac
# the database's vacuum floor key (CLDB_FLOOR_KEY), hex as in a dump
FLOOR=00636c64622d666c6f6f72

sock() { echo "$("$C" info ROOT)/node$1/clusterd/run/clusterd-db.sock"; }
tool() { # NODE ARGS...
	local n=$1
	shift
	"$C" exec "$n" timeout 60 "$TOOL" "$(sock "$n")" "$DB" "$@"
}
# this test's database in node NODE's dump: "KEYHEX SEQ DELETED VALUEHEX"
dbdump() {
	"$TOOL" dump "$R/node$1/clusterd/db" |
		awk -v db="$DB" '/^db / { on = ($2 == db); next } on'
}
# tombstones of clients' keys (the floor is one too, but reserved)
tombstones() { dbdump "$1" | awk -v f="$FLOOR" '$1 != f && $3 == 1' | wc -l; }
floor() { dbdump "$1" | awk -v f="$FLOOR" '$1 == f { print $2 }'; }
no_tombstones() { # NODES...
	local n
	for n in "$@"; do
		[ "$(tombstones "$n")" = 0 ] || return 1
	done
}
same_dumps() { # NODES...: identical whole dumps (every database)
	local a b n
	a=$("$TOOL" dump "$R/node$1/clusterd/db") || return 1
	for n in "${@:2}"; do
		b=$("$TOOL" dump "$R/node$n/clusterd/db") || return 1
		[ "$a" = "$b" ] || return 1
	done
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3 (vacuum interval $SMB3C_VACUUM_INTERVAL s)"
R=$("$C" info ROOT)

# --- tombstones from three nodes are vacuumed everywhere -------------------
tool 1 set live 42 >/dev/null || fail "set live"
t0=$EPOCHREALTIME
for n in 1 2 3; do
	tool "$n" mkdel "n$n" "$N" >"$R/mkdel$n.out" 2>&1 &
done
rc=0
for n in 1 2 3; do wait -n || rc=1; done
[ $rc = 0 ] || fail "create/delete runs: $(cat "$R"/mkdel*.out)"
ok "$((3 * N)) keys created and deleted from 3 nodes in $(since "$t0") s"
t=$(poll 20 no_tombstones 1 2 3) ||
	fail "tombstones left after 20 s: $(tombstones 1)/$(tombstones 2)/$(tombstones 3)"
poll 10 same_dumps 1 2 3 >/dev/null || fail "dumps differ after the vacuum"
f1=$(floor 1)
[ -n "$f1" ] && [ "$f1" -gt 0 ] || fail "no vacuum floor in the dump"
for n in 1 2 3; do
	[ "$(tool "$n" get live)" = 42 ] || fail "node $n: live record lost"
	[ "$(tool "$n" count)" = 1 ] || fail "node $n: $(tool "$n" count) records, not 1"
	[ "$(dbdump "$n" | wc -l)" = 2 ] ||
		fail "node $n: $(dbdump "$n" | wc -l) replica records, not 2 (live + floor)"
done
ok "no tombstone left on any node after ${t}s, live record kept, dumps identical, floor $f1"

# --- a vacuumed key starts above the floor ----------------------------------
tool 2 set n1-0 5 >/dev/null || fail "re-create n1-0"
k=$(printf 'n1-0' | od -An -tx1 | tr -d ' \n')
seq=$(dbdump 2 | awk -v k="$k" '$1 == k { print $2 }')
[ -n "$seq" ] && [ "$seq" -gt "$f1" ] ||
	fail "re-created key has seq '$seq', not above the floor $f1"
for n in 1 3; do
	tool "$n" wait n1-0 5 5000 >/dev/null || fail "node $n: n1-0 not 5"
done
ok "a vacuumed key created again starts at seq $seq (floor $f1)"
tool 2 delete n1-0 || fail "delete n1-0"

# --- a stale CAS across a vacuum is refused ----------------------------------
tool 2 set aba 1 >/dev/null || fail "set aba"
tool 1 wait aba 1 5000 >/dev/null || fail "node 1: aba not 1"
rm -f "$R/go"
tool 1 staleset aba 99 "$R/go" >"$R/stale.out" 2>&1 &
sp=$!
poll 10 grep -qs read "$R/stale.out" >/dev/null || fail "staleset: $(cat "$R/stale.out")"
tool 2 delete aba || fail "delete aba"
k=$(printf 'aba' | od -An -tx1 | tr -d ' \n')
vacuumed() { ! dbdump 1 | awk -v k="$k" '$1 == k' | grep -q .; }
t=$(poll 10 vacuumed) || fail "the tombstone of aba was not vacuumed"
tool 2 set aba 1 >/dev/null || fail "re-create aba"
tool 1 wait aba 1 5000 >/dev/null || fail "node 1: aba not re-created"
touch "$R/go"
wait "$sp" || fail "staleset: $(cat "$R/stale.out")"
[ "$(tail -1 "$R/stale.out")" = NT_STATUS_RETRY ] ||
	fail "a stale CAS across a vacuum: $(tail -1 "$R/stale.out"), not NT_STATUS_RETRY"
for n in 1 2 3; do
	[ "$(tool "$n" get aba)" = 1 ] || fail "node $n: aba is $(tool "$n" get aba)"
done
ok "a CAS that read the key before its delete, vacuum (${t}s) and re-creation gets NT_STATUS_RETRY"
tool 2 delete aba || fail "delete aba"

# --- churn: deletes and re-creates across vacuums lose no update ------------
at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.5 }')
t0=$EPOCHREALTIME
"$C" exec 1 env CLDB_START_AT="$at" timeout 90 "$TOOL" "$(sock 1)" "$DB" \
	churn ch 1 "$CN" >"$R/churn1.out" 2>&1 &
p1=$!
"$C" exec 2 env CLDB_START_AT="$at" timeout 90 "$TOOL" "$(sock 2)" "$DB" \
	churn ch 1000 "$CN" >"$R/churn2.out" 2>&1 &
p2=$!
"$C" exec 3 env CLDB_START_AT="$at" timeout 90 "$TOOL" "$(sock 3)" "$DB" \
	incr counter "$N" >"$R/incr3.out" 2>&1 &
p3=$!
# the floor of node 1 while the churn runs: each move is a vacuum that
# removed a tombstone of ch between its changes
floors=""
while kill -0 "$p1" 2>/dev/null || kill -0 "$p2" 2>/dev/null; do
	floors="$floors $(floor 1)"
	sleep 0.2
done
rc=0
for p in $p1 $p2 $p3; do wait "$p" || rc=1; done
[ $rc = 0 ] || fail "churn runs: $(cat "$R"/churn*.out "$R"/incr3.out)"
retries=$(cat "$R"/churn1.out "$R"/churn2.out | awk '{print $2}' | paste -sd' ')
moves=$(($(echo "$floors" | tr ' ' '\n' | grep . | uniq | wc -l) - 1))
ok "churn: $((4 * CN)) changes of one key from nodes 1 and 2 in $(since "$t0") s" \
	"(1.5 s start delay included), CAS retries $retries; the floor moved" \
	"$moves times while it ran"
for n in 1 2 3; do
	gone() { [ "$(tool "$1" get ch)" = none ]; }
	poll 5 gone "$n" >/dev/null ||
		fail "node $n: ch is $(tool "$n" get ch), not gone (an update was lost)"
	tool "$n" wait counter "$N" 5000 >/dev/null ||
		fail "node $n: counter $(tool "$n" get counter), not $N"
done
ok "ch gone and counter $N on every node: no update lost"
t=$(poll 20 no_tombstones 1 2 3) || fail "tombstones left after the churn"
poll 10 same_dumps 1 2 3 >/dev/null || fail "dumps differ after the churn"
f2=$(floor 1)
[ "$f2" -gt "$f1" ] || fail "the floor did not move ($f1 -> $f2)"
ok "after the churn: no tombstone (${t}s), dumps identical, floor $f1 -> $f2"

# --- a restarted clusterd takes the floor with its snapshot -----------------
"$C" kill 3 --only clusterd >/dev/null || fail "kill clusterd of node 3"
"$C" start 3 >/dev/null 2>&1 || fail "start node 3"
synced3() { [ "$(tool 3 get live 2>/dev/null)" = 42 ]; }
t=$(poll 40 synced3) || fail "node 3 after its restart: live '$(tool 3 get live 2>&1)'"
poll 10 same_dumps 1 2 3 >/dev/null || fail "dumps differ after node 3 rejoined"
[ "$(floor 3)" = "$f2" ] || fail "node 3's floor '$(floor 3)', not $f2"
ok "clusterd of node 3 restarted: in sync after ${t}s, floor $f2, dumps identical"
