#!/bin/bash
# test_cluster_membership.sh - corosync membership and quorum on the test
# cluster (tests/cluster/cluster.sh), and the harness's own promises:
#
#   up 3        every node sees 3 members, 3 votes, quorum; smbd of every
#               node serves the share to the client namespace
#   kill 3      nodes 1 and 2 see 2 members and keep quorum (3 expected,
#               2 present); nothing of node 3 is left running
#   start 3     all three see 3 members again
#   kill 3 --hard  (a cut link) node 3 alone: 1 member, no quorum; nodes 1
#               and 2 keep quorum; start 3 heals: 3 members everywhere
#   down        no namespace, no process left
#
# Runs as root, bounded (SMB3C_TEST_LIMIT, default 110 s), always cleans
# up, and uses its own prefix/subnet (lib.sh).  Exit 0 = pass.
set -u
. "$(dirname "$0")/lib.sh"
cluster_test_main "$@"

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"

poll 5 view_is "1 2 3" "3 Yes 3 3" >/dev/null ||
	fail "after up: $(views "1 2 3")"
ok "3 members, 3 votes, quorum on every node"

for ip in $("$C" info NODE_IPS); do
	smb_ls "$ip" || fail "smbclient //$ip/share"
done
ok "smbclient ls on every node address"

"$C" kill 3 >/dev/null || fail "kill 3"
t=$(poll 20 view_is "1 2" "2 Yes 3 2") || fail "after kill 3: $(views "1 2")"
ok "kill 3: nodes 1 and 2 see 2 members with quorum after ${t}s"
left=$(ip netns pids "$SMB3C_PREFIX-n3" | wc -l)
[ "$left" -eq 0 ] || fail "kill 3: $left processes left on node 3"
ok "kill 3: no process of node 3 left"

"$C" start 3 >/dev/null 2>&1 || fail "start 3"
t=$(poll 30 view_is "1 2 3" "3 Yes 3 3") || fail "after start 3: $(views "1 2 3")"
ok "start 3: 3 members on every node after ${t}s"

"$C" kill 3 --hard >/dev/null || fail "kill 3 --hard"
t=$(poll 20 view_is "1 2" "2 Yes 3 2") || fail "after kill 3 --hard: $(views "1 2")"
ok "cut 3: nodes 1 and 2 see 2 members with quorum after ${t}s"
poll 20 view_is 3 "1 No 3 1" >/dev/null || fail "cut node 3: $(views 3)"
ok "cut 3: node 3 sees itself alone without quorum"

"$C" start 3 >/dev/null 2>&1 || fail "start 3 (heal)"
t=$(poll 30 view_is "1 2 3" "3 Yes 3 3") || fail "after healing 3: $(views "1 2 3")"
ok "heal 3: 3 members on every node after ${t}s"

"$C" down >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$SMB3C_PREFIX-" && fail "namespaces left after down"
ok "down"
exit 0
