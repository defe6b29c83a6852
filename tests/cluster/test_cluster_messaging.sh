#!/bin/bash
# test_cluster_messaging.sh - cross-node messaging through clusterd and the
# liveness of other nodes' processes (clusterd/cluster_msgfwd.c,
# clusterd/cluster_client.c; docs/cluster.md "Cross-node messaging"):
#
#   up 3; clusterd/tests/clmsg_tool serves on nodes 2 and 3 (messaging with
#   its node id + cluster_messaging_attach, as a clustered smbd)
#   ping:      node 1 -> node 2: one small ping (round trip printed),
#              500 x 1 KiB back to back (pongs in order, same bytes),
#              20 x 64 KiB, 2 x 1 MiB (the limit); 1 MiB + 1 refused at
#              once; node 3 -> node 2 too
#   smbcontrol: "smbcontrol 2:PID ping" on node 1 gets the PONG from node 2
#              (and, when the nodes' smbd run clustered, node 2's smbd
#              parent answers too)
#   forge:     a forward request handed to clusterd by another sender than
#              the source it claims is not carried; an honest one is
#   order:     200 times: node 1 stores a counter in a replicated database
#              (acknowledged), then messages node 2, which reads its own
#              replica: it sees the store every time; the control run
#              (message before the store) sees stale values, so the check
#              can fail
#   liveness:  node 2's process is alive seen from nodes 1 and 3, a
#              process of a node id that is no member is dead
#   kill 2:    nodes 1 and 3 both count node 2's process dead once node 2
#              left (seconds printed); a ping to it fails at once with
#              OBJECT_NAME_NOT_FOUND, smbcontrol too (no hang)
#   dead process on a live node: the send is accepted, no answer, nothing
#              breaks; clusterd of nodes 1 and 3 still run
#   start 2:   a new process on node 2 answers again
#   held:      node 3's clusterd restarted while node 1's (which would send
#              the snapshot) is stopped: a ping from node 2 is held (no
#              answer for 1.5 s) and answered once node 3 is in sync
#   clusterd of node 3 killed: node 3 left the view, its process counts
#              dead on node 1; node 3's own sender gets
#              CONNECTION_DISCONNECTED (no local clusterd)
#
# Needs clusterd and clmsg_tool built in $SMB3_BUILD (else exit 77).
# Bounded (SMB3C_TEST_LIMIT, default 110 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
B=$(readlink -f "${SMB3_BUILD:-$CLUSTER_DIR/../../build}")
TOOL=$B/clusterd/clmsg_tool
[ -x "$TOOL" ] || { echo "SKIP: no $TOOL"; exit 77; }
cluster_test_main "$@"

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"
R=$("$C" info ROOT)

ctl_sock() { echo "$R/node$1/clusterd/run/clusterd.sock"; }
tool() { # NODE ARGS...
	local n=$1
	shift
	"$C" exec "$n" timeout 30 "$TOOL" "$(ctl_sock "$n")" \
		"$R/node$n/lock/msg.sock" "$@"
}
NSERVE=0
serve() { # NODE: a server for 100 s in the background; sets DEST
	local n=$1 f
	NSERVE=$((NSERVE + 1))
	f=$R/serve$NSERVE.node$n.out # a new file: no old "ready" line
	"$C" exec "$n" timeout 100 "$TOOL" "$(ctl_sock "$n")" \
		"$R/node$n/lock/msg.sock" serve 95 >"$f" 2>&1 &
	poll 10 grep -qs ready "$f" >/dev/null ||
		fail "server on node $n: $(cat "$f")"
	DEST=$(awk '/^ready/ { print $2 }' "$f")
	[ -n "$DEST" ] || fail "server on node $n: $(cat "$f")"
}
is_dead() { [ "$(tool "$1" alive "$2")" = dead ]; }
is_alive() { [ "$(tool "$1" alive "$2")" = alive ]; }

serve 2
D2=$DEST
serve 3
D3=$DEST
ok "servers: node 2 $D2, node 3 $D3"

# --- ping ------------------------------------------------------------------
r=$(tool 1 ping "$D2" 1 4 5000) || fail "ping node 2: $r"
ok "node 1 -> node 2 -> node 1, one ping: $r"
r=$(tool 1 ping "$D2" 500 1024 10000) || fail "500 pings: $r"
ok "500 x 1 KiB in order: $r"
r=$(tool 1 ping "$D2" 20 65536 10000) || fail "64 KiB pings: $r"
ok "20 x 64 KiB: $r"
r=$(tool 1 ping "$D2" 2 1048576 10000) || fail "1 MiB pings: $r"
ok "2 x 1 MiB: $r"
r=$(tool 1 ping "$D2" 1 1048577 2000)
[ $? = 3 ] && [ "$r" = "send: NT_STATUS_INVALID_PARAMETER" ] ||
	fail "1 MiB + 1 byte: $r"
ok "1 MiB + 1 byte refused at the sender: $r"
r=$(tool 3 ping "$D2" 50 100 5000) || fail "node 3 -> node 2: $r"
ok "node 3 -> node 2: $r"

# --- smbcontrol NODE:PID -----------------------------------------------------
# clustering = yes for smbcontrol (the nodes' smbd may run without it)
for n in 1 2 3; do
	{
		echo "[global]"
		printf '\tclustering = yes\n\tclusterd socket = %s\n' \
			"$(ctl_sock "$n")"
		grep -v -e '^\[global\]' -e 'clustering' -e 'clusterd socket' \
			"$R/node$n/smb.conf"
	} >"$R/node$n/smbcontrol.conf"
done
p2=$(echo "$D2" | cut -d: -f2)
r=$("$C" exec 1 "$B/tools/smbcontrol" -s "$R/node1/smbcontrol.conf" -t 5 \
	"2:$p2" ping 2>&1) || fail "smbcontrol 2:$p2 ping: $r"
[ "$r" = "PONG from pid $p2 on node 2" ] || fail "smbcontrol: $r"
ok "smbcontrol on node 1: $r"
if grep -q 'clustering = yes' "$R/node2/smb.conf"; then
	sp=$(cat "$R/node2/run/smbd.pid")
	r=$("$C" exec 1 "$B/tools/smbcontrol" -s "$R/node1/smbcontrol.conf" \
		-t 5 "2:$sp" ping 2>&1) || fail "smbcontrol 2:$sp (smbd): $r"
	ok "node 2's smbd parent: $r"
else
	echo "note: the nodes' smbd run without clustering: smbd not pinged"
fi

# --- a forward request must come from the source it claims ------------------
r=$(tool 1 forge "$D2") || fail "$r"
ok "$r"

# --- ordering with the replicated databases ----------------------------------
r=$(tool 1 order "$D2" test_msg 200) || fail "order: $r"
ok "$r"
r=$(tool 1 order "$D2" test_msg 20 before) ||
	fail "control run never saw a stale replica: $r"
ok "control (message sent before the store): $r"

# --- liveness ------------------------------------------------------------------
for n in 1 3; do
	is_alive "$n" "$D2" || fail "node $n: $D2 not alive"
done
is_dead 1 "9:$(echo "$D2" | cut -d: -f2-)" || fail "node 9 is no member, yet alive"
ok "node 2's process alive from nodes 1 and 3, node 9's dead"

# --- node 2 dies ------------------------------------------------------------------
cd1=$(cat "$R/node1/run/clusterd.pid")
cd3=$(cat "$R/node3/run/clusterd.pid")
"$C" kill 2 >/dev/null || fail "kill 2"
t1=$(poll 15 is_dead 1 "$D2") || fail "node 1 still counts $D2 alive"
t3=$(poll 5 is_dead 3 "$D2") || fail "node 3 still counts $D2 alive"
ok "after kill 2: $D2 dead on node 1 after $t1 s, on node 3 $t3 s later"
t0=$EPOCHREALTIME
r=$(tool 1 ping "$D2" 1 4 5000)
[ $? = 3 ] && [ "$r" = "send: NT_STATUS_OBJECT_NAME_NOT_FOUND" ] ||
	fail "ping of a dead node's process: $r"
r2=$("$C" exec 1 "$B/tools/smbcontrol" -s "$R/node1/smbcontrol.conf" -t 5 \
	"2:$p2" ping 2>&1) && fail "smbcontrol to a dead node succeeded: $r2"
echo "$r2" | grep -q NT_STATUS_OBJECT_NAME_NOT_FOUND || fail "smbcontrol: $r2"
ok "ping and smbcontrol to the dead node fail at once ($(since "$t0") s for both): $r"

# a dead process on a live node: accepted, unanswered, harmless
"$C" exec 3 kill "$(echo "$D3" | cut -d: -f2)" 2>/dev/null
poll 5 is_dead 3 "$D3" >/dev/null || fail "node 3's server did not exit"
r=$(tool 1 ping "$D3" 1 4 1000)
[ $? = 1 ] || fail "ping of a dead process on a live node: $r"
ok "a dead process on a live node: the send is accepted, no answer ($r)"
[ "$(cat "$R/node1/run/clusterd.pid")" = "$cd1" ] &&
	"$C" exec 1 kill -0 "$cd1" && "$C" exec 3 kill -0 "$cd3" ||
	fail "a clusterd went away"

# --- node 2 comes back ----------------------------------------------------------------
"$C" start 2 >/dev/null 2>&1 || fail "start 2"
"$C" wait 60 >/dev/null 2>&1 || fail "cluster not healthy after start 2"
serve 2
D2=$DEST
r=$(tool 1 ping "$D2" 10 100 5000) || fail "ping after start 2: $r"
ok "node 2 back, a new process answers: $r"

# --- messages wait while the target's replicas are out of sync ---------------
# node 3's clusterd restarts and waits for its snapshot, which node 1 (the
# lowest member in sync) would send: node 1's clusterd is stopped for a
# while.  A ping from node 2 meanwhile must wait, then arrive.
serve 3
D3=$DEST
"$C" kill 3 --only clusterd >/dev/null || fail "kill 3 --only clusterd"
poll 15 is_dead 1 "$D3" >/dev/null || fail "node 3 did not leave"
cd1=$(cat "$R/node1/run/clusterd.pid")
"$C" exec 1 kill -STOP "$cd1" || fail "cannot stop node 1's clusterd"
trap '"$C" exec 1 kill -CONT "$cd1" 2>/dev/null' EXIT
"$C" start 3 >/dev/null 2>&1 || fail "start 3 (clusterd)"
poll 10 is_alive 2 "$D3" >/dev/null || fail "node 3 did not join again"
tool 2 ping "$D3" 3 100 15000 >"$R/held.out" 2>&1 &
hp=$!
sleep 1.5
[ -s "$R/held.out" ] && fail "answered while node 3 was out of sync: $(cat "$R/held.out")"
st=$("$C" ctl 3 status 2>&1)
echo "$st" | grep -q "not in sync" || echo "note: node 3 status: $(echo "$st" | grep -i sync)"
t0=$EPOCHREALTIME
"$C" exec 1 kill -CONT "$cd1"
trap - EXIT
wait $hp || fail "held pings: $(cat "$R/held.out")"
ok "node 3 out of sync (waiting for node 1's snapshot): pings held, answered $(since "$t0") s after node 1 went on: $(cat "$R/held.out")"

# --- clusterd of node 3 goes away ------------------------------------------------------
"$C" kill 3 --only clusterd >/dev/null || fail "kill 3 --only clusterd"
t=$(poll 15 is_dead 1 "$D3") || fail "node 1 still counts $D3 alive"
ok "clusterd of node 3 killed: its process counts dead on node 1 after $t s"
r=$(tool 3 ping "$D2" 1 4 2000)
[ $? = 3 ] && [ "$r" = "send: NT_STATUS_CONNECTION_DISCONNECTED" ] ||
	fail "node 3 without clusterd: $r"
ok "node 3 without its clusterd: $r"
exit 0
