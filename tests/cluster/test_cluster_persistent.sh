#!/bin/bash
# test_cluster_persistent.sh - persistent replicated databases with
# transactions (dbwrap/dbwrap_cluster.c, clusterd/cluster_db_persist.c;
# docs/cluster.md "Persistent databases and transactions"):
#
#   up 3
#   kinds:       a database committed to on node 1 exists on every node;
#                attaching it as volatile on node 2 is refused
#                (OBJECT_NAME_COLLISION)
#   transactions: node 1 moves 1 from a to b, node 3 from b to a, P times
#                each, at the same moment (every transaction reads and
#                writes both records); node 2 increments c P times through
#                fetch_locked + store (one-record transactions) meanwhile.
#                Conflicts must happen (NT_STATUS_RETRY, redone); then
#                a + b = 2000, a = 1000, c = P on every node, and the
#                persistent replicas are identical (dump)
#   cancel:      a cancelled transaction leaves nothing; inside it the
#                transaction reads its own write
#   limits:      a transaction of 5000 changes, or of 2 x 600000 bytes, is
#                refused (INSUFFICIENT_RESOURCES); 100 small ones commit
#   restart:     clusterd of node 2 killed; its persistent replica file
#                stays; node 1 commits meanwhile; restarted, node 2 serves
#                the cluster's values (snapshot)
#   whole cluster: node 1 killed (its copy falls behind: nodes 2 and 3
#                commit), then nodes 2 and 3 killed: nothing runs.  Node 1
#                started first (alone: no majority, not in sync), then
#                nodes 2 and 3: the copy with the most commits (node 2's)
#                wins over node 1's lower id, every node serves the newest
#                values and the replicas are identical
#   cut + restart: 60 volatile updates; node 3 cut off (up, not in sync);
#                node 1 commits;
#                nodes 1 and 2 killed, node 1 restarted, node 3 healed
#                into it: node 1's copy (more persistent transactions)
#                wins over node 3's (more updates applied)
#   users:       with clustering = yes, "smbuser add" on node 1 (once)
#                makes a new user valid on node 3: smbclient logs on
#                through node 3's address (skipped without smbclient)
#
# Needs clusterd and cldb_ptool built in $SMB3_BUILD (else exit 77).
# Bounded (SMB3C_TEST_LIMIT, default 180 s), always cleans up (lib.sh).
# CLDB_P: transactions per node (default 100).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
B=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")
PTOOL=$B/clusterd/cldb_ptool
DTOOL=$B/clusterd/cldb_tool
[ -x "$PTOOL" ] && [ -x "$DTOOL" ] || { echo "SKIP: no $PTOOL"; exit 77; }
export SMB3C_TEST_LIMIT=${SMB3C_TEST_LIMIT:-180}
cluster_test_main "$@"

P=${CLDB_P:-100}
DB=test_persist

sock() { echo "$("$C" info ROOT)/node$1/clusterd/run/clusterd-db.sock"; }
pdir() { echo "$("$C" info ROOT)/node$1/clusterd/persistent"; }
pt() { # NODE ARGS...
	local n=$1
	shift
	"$C" exec "$n" timeout 60 "$PTOOL" "$(sock "$n")" "$DB" "$@"
}
# the persistent replicas of node N, canonically (cldb_tool dump)
pdump() { "$DTOOL" dump "$(pdir "$1")"; }
same_dumps() { # NODES...: identical persistent replicas
	local first n
	first=$(pdump "$1") || return 1
	for n in "$@"; do
		[ "$(pdump "$n")" = "$first" ] || return 1
	done
}
wait_val() { # NODE KEY VALUE
	pt "$1" wait "$2" "$3" 10000 >/dev/null ||
		fail "node $1: $2 is $(pt "$1" get "$2"), not $3"
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"
R=$("$C" info ROOT)

# --- kinds --------------------------------------------------------------------
[ "$(pt 1 init a=1000 b=1000 c=0)" = NT_STATUS_OK ] || fail "init on node 1"
for n in 2 3; do wait_val "$n" b 1000; done
k=$(pt 2 kind)
[ "$k" = NT_STATUS_OBJECT_NAME_COLLISION ] ||
	fail "node 2 attached persistent $DB as volatile: $k"
ok "committed on node 1, on every node; attaching it as volatile: $k"

# --- concurrent transactions --------------------------------------------------
at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1.5 }')
t0=$EPOCHREALTIME
"$C" exec 1 env CLDB_START_AT="$at" timeout 90 "$PTOOL" "$(sock 1)" "$DB" \
	move a b "$P" >"$R/move1.out" 2>&1 &
"$C" exec 3 env CLDB_START_AT="$at" timeout 90 "$PTOOL" "$(sock 3)" "$DB" \
	move b a "$P" >"$R/move3.out" 2>&1 &
"$C" exec 2 env CLDB_START_AT="$at" timeout 90 "$PTOOL" "$(sock 2)" "$DB" \
	incr c "$P" >"$R/incr2.out" 2>&1 &
rc=0
for i in 1 2 3; do wait -n || rc=1; done
[ $rc = 0 ] || fail "a transaction run failed: $(cat "$R"/move*.out "$R/incr2.out")"
r1=$(awk '{print $4}' "$R/move1.out") r3=$(awk '{print $4}' "$R/move3.out")
r2=$(awk '{print $2}' "$R/incr2.out")
ok "$((3 * P)) transactions from 3 nodes (1.5 s start delay included) in" \
	"$(since "$t0") s; retries (NT_STATUS_RETRY, redone) $r1/$r2/$r3"
[ $((r1 + r2 + r3)) -gt 0 ] || fail "no conflict at all: the runs did not overlap"
for n in 1 2 3; do
	wait_val "$n" c "$P"
	wait_val "$n" a 1000
	s=$(pt "$n" sum)
	[ "$s" = "records 3 sum $((2000 + P))" ] || fail "node $n: $s"
done
poll 5 same_dumps 1 2 3 >/dev/null || fail "persistent replicas differ"
ok "a = 1000, a + b = 2000, c = $P on every node; replicas identical" \
	"($(pdump 1 | wc -l) dump lines)"

# --- cancel, limits -----------------------------------------------------------
o=$(pt 1 cancel a) || fail "cancel: $o"
ok "cancelled transaction: $o"
o=$(pt 1 big 5000 10)
[ "$o" = NT_STATUS_INSUFFICIENT_RESOURCES ] || fail "5000 changes: $o"
o=$(pt 1 big 2 600000)
[ "$o" = NT_STATUS_INSUFFICIENT_RESOURCES ] || fail "2 x 600000 bytes: $o"
o=$(pt 1 big 100 100)
[ "$o" = NT_STATUS_OK ] || fail "100 small changes: $o"
poll 5 same_dumps 1 2 3 >/dev/null || fail "replicas differ after the big commit"
ok "limits: 5000 changes and 1.2 MB refused, 100 changes committed everywhere"

# --- clusterd of node 2 restarted ---------------------------------------------
"$C" kill 2 --only clusterd >/dev/null || fail "kill clusterd of node 2"
[ -s "$(pdir 2)/$DB.tdb" ] || fail "node 2's persistent replica is gone"
pt 1 move a b 7 >/dev/null || fail "commit while node 2's clusterd is down"
"$C" start 2 >/dev/null 2>&1 || fail "start node 2"
has() { pt "$1" wait "$2" "$3" 100 >/dev/null; } # NODE KEY VALUE, for poll
t=$(poll 40 has 2 a 993) || fail "node 2 after restart: a = $(pt 2 get a)"
poll 5 same_dumps 1 2 3 >/dev/null || fail "replicas differ after node 2's restart"
ok "clusterd of node 2 restarted: has the commit made while it was down after ${t}s; replicas identical"

# --- whole cluster restarted --------------------------------------------------
# Node 1's copy falls behind (killed, then two commits), then every node
# is killed.  Node 1 starts first: alone it has no majority and serves
# nothing.  With node 2 the view has a majority and no member in sync:
# the copy with the most commits (node 2's) must win, although node 1 has
# the lower id (the tie-break).
"$C" kill 1 >/dev/null || fail "kill node 1"
pt 2 move a b 10 >/dev/null || fail "commit on node 2 with node 1 down"
pt 3 incr c 1 >/dev/null || fail "commit on node 3 with node 1 down"
wait_val 3 a 983
"$C" kill 2 >/dev/null || fail "kill node 2"
"$C" kill 3 >/dev/null || fail "kill node 3"
[ "$(pdump 1)" != "$(pdump 2)" ] || fail "node 1's copy is not behind"
"$C" start 1 >/dev/null 2>&1 || fail "start node 1"
sleep 2
o=$("$C" exec 1 env CLDB_ATTACH_WAIT=0 timeout 10 "$PTOOL" "$(sock 1)" "$DB" \
	get a 2>&1) && fail "node 1 alone served its stale copy: $o"
case "$o" in
*NT_STATUS_INVALID_DEVICE_STATE*) ;;
*) fail "node 1 alone: $o" ;;
esac
"$C" start 2 >/dev/null 2>&1 || fail "start node 2"
"$C" start 3 >/dev/null 2>&1 || fail "start node 3"
"$C" wait 60 >/dev/null 2>&1 || fail "cluster not healthy after the restart"
for n in 1 2 3; do
	wait_val "$n" a 983
	wait_val "$n" c $((P + 1))
	s=$(pt "$n" sum)
	[ "$s" = "records 103 sum $((2001 + P))" ] || fail "node $n: $s"
done
poll 5 same_dumps 1 2 3 >/dev/null || fail "replicas differ after the whole restart"
ok "whole cluster restarted (node 1 first, with the older copy): the copy with the most commits won, a = 983 and identical replicas everywhere"
pt 1 move a b 1 >/dev/null || fail "commit after the whole restart"
for n in 2 3; do wait_val "$n" a 982; done
ok "and takes new transactions"

# --- a node cut off, the majority restarted -------------------------------
# Node 3 is cut off (it stays up, not in sync, with its count of applied
# updates); node 1 commits; nodes 1 and 2 are killed and node 1 restarts
# (alone: nothing decided); node 3 heals into it: nobody is in sync and
# node 3 has applied far more updates than the restarted node 1, but node
# 1 holds more persistent transactions, so node 1's copy must win.
# volatile updates first: every node applies them, a restarted node has
# applied none
"$C" exec 1 timeout 60 "$DTOOL" "$(sock 1)" test_vol incr v 60 >/dev/null ||
	fail "volatile increments"
"$C" kill 3 --hard >/dev/null || fail "cut node 3"
refused3() { ! "$C" exec 3 timeout 10 "$PTOOL" "$(sock 3)" "$DB" incr c 1 >/dev/null 2>&1; }
poll 30 refused3 >/dev/null || fail "node 3 cut off still commits"
pt 1 move a b 2 >/dev/null || fail "commit on node 1 with node 3 cut off"
wait_val 2 a 980
"$C" kill 1 >/dev/null || fail "kill node 1"
"$C" kill 2 >/dev/null || fail "kill node 2"
"$C" start 1 >/dev/null 2>&1 || fail "start node 1"
"$C" start 3 >/dev/null 2>&1 || fail "heal node 3"
wait_val 1 a 980
wait_val 3 a 980
"$C" start 2 >/dev/null 2>&1 || fail "start node 2"
"$C" wait 60 >/dev/null 2>&1 || fail "cluster not healthy after the heal"
wait_val 2 a 980
poll 5 same_dumps 1 2 3 >/dev/null || fail "replicas differ after the heal"
ok "node 3 cut off, node 1 committed, nodes 1 and 2 restarted, node 3 healed into node 1: node 1's commits won (a = 980 everywhere, identical replicas)"

# --- users --------------------------------------------------------------------
if ! command -v smbclient >/dev/null; then
	ok "SKIP users: no smbclient"
	exit 0
fi
grep -q "clustering = yes" "$R/node1/smb.conf" ||
	{ ok "SKIP users: smbd does not run clustered"; exit 0; }
U=pers$$
id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$U" ||
	fail "useradd $U"
trap 'userdel "$U" >/dev/null 2>&1' EXIT
printf 'Pw-%s\n' "$U" | "$C" exec 1 "$B/tools/smbuser" -s "$R/node1/smb.conf" \
	add "$U" --password-stdin >/dev/null || fail "smbuser add on node 1"
ip3=$("$C" info NODE_IPS | awk '{print $3}')
login3() {
	"$C" client timeout 10 smbclient "//$ip3/$("$C" info SHARE)" \
		-U "$U%Pw-$U" -c ls >"$R/login3.out" 2>&1
}
poll 10 login3 >/dev/null || fail "login as $U through node 3: $(tail -3 "$R/login3.out")"
"$C" exec 3 "$B/tools/smbuser" -s "$R/node3/smb.conf" list | grep -q "^$U " ||
	fail "smbuser list on node 3 lacks $U"
ok "smbuser add on node 1: $U logs on through node 3 ($ip3) and is listed there"
