#!/bin/bash
# test_cluster_partition.sh - the replicated databases across a partition
# and quorum loss (docs/cluster.md "Quorum loss and partitions"):
#
#   up 3, values written through node 1
#   cut 3       kill 3 --hard: node 3 keeps running but its view holds
#               no majority: a write through node 3 is refused, its
#               replicas stay as they were (dump equal to the one before
#               the cut: stale, nothing applied); nodes 1 and 2 change a
#               value, delete a record, add one and increment a counter
#               together
#   heal 3      start 3: node 3 takes a snapshot, serves the majority's
#               values; the dumps of all three nodes are identical;
#               nodes 1 and 3 increment together: exact everywhere
#   majority shrinks, the minority heals into it
#               cut 3 again, node 1 writes, node 2 crashes (kill 2): node
#               1 is alone, without a majority, and refuses too; heal 3:
#               {1, 3} is a majority where nobody is in sync; node 1
#               applied more updates and is chosen: node 3 gets node 1's
#               newest values (dumps equal); start 2: all three equal
#   majority restarted
#               cut 3 again, nodes 1 and 2 crash and restart: {1, 2} has
#               nobody in sync and starts empty (as a cluster restart);
#               node 1 writes; heal 3: node 3 drops its older copy (the
#               records the new majority lacks) and the dumps are equal
#
# Needs clusterd and cldb_tool built in $SMB3_BUILD (else exit 77).
# Bounded (SMB3C_TEST_LIMIT, default 150 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
TOOL=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")/clusterd/cldb_tool
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-150}
cluster_test_main "$@"

DB=test_part

sock() { echo "$("$C" info ROOT)/node$1/clusterd/run/clusterd-db.sock"; }
tool() { # NODE ARGS...
	local n=$1
	shift
	"$C" exec "$n" timeout 30 "$TOOL" "$(sock "$n")" "$DB" "$@"
}
dump() { # NODE: every replica of the node, canonical (cldb_tool dump)
	"$TOOL" dump "$R/node$1/clusterd/db"
}
# the dumps of the nodes given are identical (the first's in $R/dump)
same_dumps() {
	local a b n
	a=$(dump "$1") || return 1
	for n in "${@:2}"; do
		b=$(dump "$n") || return 1
		[ "$a" = "$b" ] || return 1
	done
	echo "$a" >"$R/dump"
}
quorum_is() { [ "$(ctl_get "$1" 's["quorum"]')" = "$2" ]; } # NODE True|False
is() { [ "$(tool "$1" get "$2" 2>/dev/null)" = "$3" ]; } # NODE KEY VALUE
refused() { # NODE: a write through it is refused
	local out
	out=$(tool "$1" set probe 1 2>&1) && return 1
	echo "$out" >"$R/refused$1.out"
}
incr_together() { # N NODES...: N increments of counter from each node
	local n k=$1 rc=0
	shift
	at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.0 }')
	for n in "$@"; do
		"$C" exec "$n" env CLDB_START_AT="$at" timeout 30 "$TOOL" \
			"$(sock "$n")" "$DB" incr counter "$k" >"$R/incr$n.out" 2>&1 &
	done
	for n in "$@"; do wait -n || rc=1; done
	[ $rc = 0 ] || fail "increments from $*: $(cat "$R"/incr*.out)"
}
counter_everywhere() { # VALUE NODES...
	local v=$1 n
	shift
	for n in "$@"; do
		tool "$n" wait counter "$v" 5000 >/dev/null ||
			fail "node $n: counter $(tool "$n" get counter 2>&1), not $v"
	done
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
R=$("$C" info ROOT)
ok "up 3"

for kv in a=1 b=2 c=3; do
	tool 1 set "${kv%=*}" "${kv#*=}" >/dev/null || fail "set $kv on node 1"
done
tool 1 incr counter 50 >/dev/null || fail "incr on node 1"
for n in 2 3; do
	poll 5 is "$n" counter 50 >/dev/null || fail "node $n: counter not 50"
done
poll 5 same_dumps 1 2 3 >/dev/null || fail "dumps differ before the cut"
before=$(cat "$R/dump")
ok "a b c counter written through node 1; the dumps of the 3 nodes are identical ($(echo "$before" | wc -l) lines)"

# --- partition: node 3 cut off --------------------------------------------
"$C" kill 3 --hard >/dev/null || fail "kill 3 --hard"
# a write sent before node 3's corosync notices the cut may still be
# applied there alone (docs/cluster.md: the window before the view
# change); the refusal is checked once node 3 knows
poll 20 quorum_is 3 False >/dev/null || fail "node 3 cut off still quorate"
t=$(poll 20 refused 3) || fail "node 3 cut off still accepts a write"
ok "node 3 cut off: a write through it refused after ${t}s ($(sed 's/^\[[^]]*\] //' "$R/refused3.out" | head -1))"
tool 1 set a 10 >/dev/null || fail "set a on node 1 during the cut"
tool 2 delete b || fail "delete b on node 2 during the cut"
tool 2 set d 4 >/dev/null || fail "set d on node 2 during the cut"
incr_together 30 1 2
counter_everywhere 110 1 2
[ "$(dump 3)" = "$before" ] ||
	fail "node 3's replicas changed while it was cut off"
refused 3 || fail "node 3 accepted a write during the cut"
[ "$(ctl_get 3 's["databases_in_sync"]')" = False ] ||
	fail "clusterctl status on node 3 does not say its databases are not in sync"
ok "nodes 1 and 2 changed a, deleted b, added d, incremented 2x30 (110); node 3 refuses, its replicas unchanged (stale), clusterctl: not in sync"

# --- heal ---------------------------------------------------------------
"$C" start 3 >/dev/null 2>&1 || fail "heal 3"
t=$(poll 40 is 3 a 10) || fail "node 3 after healing: a is '$(tool 3 get a 2>&1)'"
is 3 b none && is 3 d 4 && is 3 counter 110 ||
	fail "node 3 after healing: b $(tool 3 get b) d $(tool 3 get d) counter $(tool 3 get counter)"
[ "$(ctl_get 3 's["databases_in_sync"]')" = True ] ||
	fail "clusterctl status on node 3 does not say its databases are in sync"
ok "healed: node 3 serves the majority's values after ${t}s (a 10, b gone, d 4, counter 110)"
poll 5 same_dumps 1 2 3 >/dev/null || fail "dumps differ after healing: $(diff <(dump 1) <(dump 3) | head -5)"
ok "the dumps of the 3 nodes are identical ($(wc -l <"$R/dump") lines)"
incr_together 20 1 3
counter_everywhere 150 1 2 3
ok "nodes 1 and 3 increment together after healing: 150 on every node"

# --- the majority loses a member, the minority heals into it --------------
"$C" kill 3 --hard >/dev/null || fail "kill 3 --hard (again)"
poll 20 quorum_is 3 False >/dev/null || fail "node 3 cut off again still quorate"
poll 20 refused 3 >/dev/null || fail "node 3 cut off again still accepts a write"
tool 1 set e 5 >/dev/null || fail "set e on node 1"
tool 1 incr counter 7 >/dev/null || fail "incr on node 1"
poll 5 is 2 e 5 >/dev/null || fail "node 2: e not 5"
"$C" kill 2 >/dev/null || fail "kill 2"
poll 20 quorum_is 1 False >/dev/null || fail "node 1 alone still quorate"
t=$(poll 20 refused 1) || fail "node 1 alone still accepts a write"
ok "node 3 cut again, node 1 wrote e=5 and counter 157, node 2 crashed: node 1 alone refuses after ${t}s"
"$C" start 3 >/dev/null 2>&1 || fail "heal 3 (again)"
t=$(poll 40 is 3 e 5) || fail "node 3 healed into node 1: e is '$(tool 3 get e 2>&1)' ($(grep -h 'no member in sync\|snapshot' "$R"/node[13]/log/clusterd.log | tail -4))"
is 3 counter 157 && is 1 counter 157 || fail "counters $(tool 1 get counter)/$(tool 3 get counter), not 157"
poll 5 same_dumps 1 3 >/dev/null || fail "dumps of nodes 1 and 3 differ: $(diff <(dump 1) <(dump 3) | head -5)"
grep -q "no member in sync; ours" "$R/node1/log/clusterd.log" ||
	fail "node 1 did not take over as the newest replica"
ok "node 3 healed into node 1 (no member in sync, node 1 the newest): e 5, counter 157 on both after ${t}s, dumps identical"
"$C" start 2 >/dev/null 2>&1 || fail "start 2"
t=$(poll 40 is 2 counter 157) || fail "node 2 restarted: counter '$(tool 2 get counter 2>&1)'"
poll 5 same_dumps 1 2 3 >/dev/null || fail "dumps differ after node 2 came back: $(diff <(dump 1) <(dump 2) | head -5)"
incr_together 10 2 3
counter_everywhere 177 1 2 3
ok "node 2 restarted: in sync after ${t}s, dumps of the 3 nodes identical, increments from 2 and 3 exact (177)"

# --- a majority that restarted starts empty; the cut node's copy yields ---
"$C" kill 3 --hard >/dev/null || fail "kill 3 --hard (third time)"
poll 20 quorum_is 3 False >/dev/null || fail "node 3 cut off a third time still quorate"
"$C" kill 1 >/dev/null || fail "kill 1"
"$C" kill 2 >/dev/null || fail "kill 2 (again)"
"$C" start 1 >/dev/null 2>&1 || fail "start 1"
"$C" start 2 >/dev/null 2>&1 || fail "start 2 (again)"
# nodes 1 and 2 restarted: nobody holds the volatile databases any more,
# {1, 2} is a majority without a member in sync: empty, like a restart
t=$(poll 40 is 1 counter none) || fail "nodes 1 and 2 restarted: counter '$(tool 1 get counter 2>&1)' on node 1"
tool 1 set f 6 >/dev/null || fail "set f on node 1 after the restart"
"$C" start 3 >/dev/null 2>&1 || fail "heal 3 (third time)"
t=$(poll 40 is 3 f 6) || fail "node 3 healed into the restarted majority: f is '$(tool 3 get f 2>&1)'"
is 3 counter none && is 3 a none ||
	fail "node 3 kept records the new majority does not have: counter $(tool 3 get counter) a $(tool 3 get a)"
poll 5 same_dumps 1 2 3 >/dev/null || fail "dumps differ after node 3 healed into the restarted majority: $(diff <(dump 1) <(dump 3) | head -5)"
ok "nodes 1 and 2 restarted while 3 was cut off: they start empty; node 3 heals into them and drops its older copy (f 6, no counter, no a) after ${t}s, dumps identical"
