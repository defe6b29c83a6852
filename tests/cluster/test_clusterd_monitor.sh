#!/bin/bash
# test_clusterd_monitor.sh - a failing monitor event moves a node's public
# IPs away, and a passing one brings the node back (clusterd + 50.smbd):
#
#   up 3         one public IP per node, all nodes ok
#   smbd of node 2 killed
#                50.smbd's monitor fails on node 2: every clusterd shows
#                node 2 "unhealthy", node 2 holds no public IP, its IP is
#                on exactly one other node and serves SMB (prints seconds)
#   smbd of node 2 restarted
#                node 2 is "ok" again everywhere and holds one IP again;
#                every public IP is on exactly one node and serves SMB
#
# Needs clusterd built in $SMB3_BUILD (else exit 77).  Bounded
# (SMB3C_TEST_LIMIT, default 110 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
cluster_test_main "$@"

# every public IP on exactly one node, per the kernel; prints "ip=node..."
one_holder_each() {
	local ip h out=""
	for ip in $("$C" info PUBLIC_IPS); do
		h=$(holders "$ip")
		case $h in ''|*' '*) return 1 ;; esac
		out="$out $ip=$h"
	done
	echo "${out# }"
}

state_everywhere() { # K STATE: nodes 1..3 all see node K in STATE
	local j
	for j in 1 2 3; do
		[ "$(node_state "$j" "$1")" = "$2" ] || return 1
	done
}

serves_smb() { # IP
	smb_ls "$1"
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
poll 20 one_holder_each >/dev/null || fail "after up: not one holder per IP"
ok "up 3: $(one_holder_each)"

D=$("$C" info ROOT)/node2
ip2=$(for ip in $("$C" info PUBLIC_IPS); do
	[ "$(holders "$ip")" = 2 ] && echo "$ip"; done | head -1)
[ -n "$ip2" ] || fail "node 2 holds no public IP"

e0=$EPOCHREALTIME
"$C" exec 2 sh -c "kill -9 \$(cat $D/run/smbd.pid)" || fail "kill smbd of node 2"
t=$(poll 30 state_everywhere 2 unhealthy) ||
	fail "node 2 not unhealthy everywhere: $(node_state 1 2) $(node_state 2 2) $(node_state 3 2)"
ok "smbd of node 2 killed: node 2 unhealthy on every node after ${t}s"
poll 20 one_holder_each >/dev/null || fail "an IP without exactly one holder"
h=$(holders "$ip2")
[ "$h" = 1 ] || [ "$h" = 3 ] || fail "$ip2 is on '$h'"
for ip in $("$C" info PUBLIC_IPS); do
	[ "$(holders "$ip")" != 2 ] || fail "node 2 still holds $ip"
done
poll 20 serves_smb "$ip2" >/dev/null || fail "$ip2 does not serve SMB on node $h"
ok "$ip2 moved to node $h and serves SMB $(since "$e0")s after the kill"
[ "$(ctl_get 2 's["ok"]')" = False ] || fail "clusterctl on node 2 says ok"
ok "clusterctl on node 2: not ok"

"$C" exec 2 sh -c "setsid $("$C" info BUILD)/smbd/smbd -s $D/smb.conf -F \
	</dev/null >>$D/log/smbd.out 2>&1 & echo \$! >$D/run/smbd.pid" ||
	fail "restart smbd of node 2"
t=$(poll 30 state_everywhere 2 ok) || fail "node 2 not ok again"
ok "smbd of node 2 back: node 2 ok on every node after ${t}s"
back() { # node 2 holds exactly one IP again, every IP one holder
	local ip n2=0
	one_holder_each >/dev/null || return 1
	for ip in $("$C" info PUBLIC_IPS); do
		[ "$(holders "$ip")" = 2 ] && n2=$((n2 + 1))
	done
	[ $n2 -eq 1 ]
}
poll 20 back >/dev/null || fail "node 2 did not get an IP back: $(one_holder_each)"
for ip in $("$C" info PUBLIC_IPS); do
	poll 20 serves_smb "$ip" >/dev/null || fail "$ip does not serve SMB"
done
ok "rebalanced: $(one_holder_each), every IP serves SMB"

"$C" down >/dev/null 2>&1 || fail "down"
exit 0
