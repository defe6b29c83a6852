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
# Runs as root, bounded by SMB3C_TEST_LIMIT seconds (default 110) and
# always cleans up.  It uses its own namespace prefix, subnet and state
# root so that it can run next to a cluster someone has up.  Exit 0 = pass.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
export SMB3C_PREFIX=${SMB3C_PREFIX:-smb3ct}
export SMB3C_NET=${SMB3C_NET:-10.215}
export SMB3C_ROOT=${SMB3C_ROOT:-/var/tmp/$SMB3C_PREFIX}
C=$HERE/cluster.sh
LIMIT=${SMB3C_TEST_LIMIT:-110}

if [ "${1:-}" != __body ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	t0=$SECONDS
	timeout -k 5 "$LIMIT" "$0" __body
	rc=$?
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "FAIL: not done within $LIMIT s"
	"$C" down >/dev/null 2>&1 || true
	if ip netns list | grep -q "^$SMB3C_PREFIX-"; then
		echo "FAIL: namespaces left after down"
		rc=1
	fi
	echo "test_cluster_membership: $([ $rc -eq 0 ] && echo PASS || echo FAIL) in $((SECONDS - t0)) s"
	exit $rc
fi

fail() {
	echo "FAIL: $*"
	"$C" status 2>&1 | sed 's/^/  | /'
	exit 1
}
ok() { echo "ok: $*"; }

# "members quorate expected total" as node $1's corosync reports them
view() {
	"$C" exec "$1" timeout 5 corosync-quorumtool -s 2>/dev/null | awk -F: '
		{ gsub(/ /, "", $2) }
		/^Nodes/ { m = $2 } /^Quorate/ { q = $2 }
		/^Expected votes/ { e = $2 } /^Total votes/ { t = $2 }
		END { print m, q, e, t }'
}

# expect_view SECS "NODES" "members quorate expected total"
expect_view() {
	local limit=$1 nodes=$2 want=$3 t0=$SECONDS e0=$EPOCHREALTIME n got all
	while :; do
		all=yes
		for n in $nodes; do
			got=$(view "$n")
			[ "$got" = "$want" ] || { all=no; break; }
		done
		[ $all = yes ] && {
			awk -v a="$e0" -v b="$EPOCHREALTIME" \
				'BEGIN { printf "%.1f\n", b - a }'
			return 0
		}
		[ $((SECONDS - t0)) -ge "$limit" ] && {
			echo "node $n sees '$got', want '$want'"
			return 1
		}
		sleep 0.3
	done
}

"$C" down >/dev/null 2>&1
out=$("$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"

r=$(expect_view 5 "1 2 3" "3 Yes 3 3") || fail "after up: $r"
ok "3 members, 3 votes, quorum on every node"

# every node's smbd serves the share (through the client namespace)
pass=$("$C" info SMB_PASS)
user=$("$C" info SMB_USER)
for ip in $("$C" info NODE_IPS); do
	"$C" client timeout 20 smbclient "//$ip/share" -U "$user%$pass" \
		-c 'ls' >/dev/null 2>&1 || fail "smbclient //$ip/share"
done
ok "smbclient ls on every node address"

"$C" kill 3 >/dev/null || fail "kill 3"
r=$(expect_view 20 "1 2" "2 Yes 3 2") || fail "after kill 3: $r"
ok "kill 3: nodes 1 and 2 see 2 members with quorum after ${r}s"
left=$(ip netns pids "$SMB3C_PREFIX-n3" | wc -l)
[ "$left" -eq 0 ] || fail "kill 3: $left processes left on node 3"
ok "kill 3: no process of node 3 left"

"$C" start 3 >/dev/null 2>&1 || fail "start 3"
r=$(expect_view 30 "1 2 3" "3 Yes 3 3") || fail "after start 3: $r"
ok "start 3: 3 members on every node after ${r}s"

"$C" kill 3 --hard >/dev/null || fail "kill 3 --hard"
r=$(expect_view 20 "1 2" "2 Yes 3 2") || fail "after kill 3 --hard: $r"
ok "cut 3: nodes 1 and 2 see 2 members with quorum after ${r}s"
r=$(expect_view 20 "3" "1 No 3 1") || fail "cut node 3 alone: $r"
ok "cut 3: node 3 sees itself alone without quorum"

"$C" start 3 >/dev/null 2>&1 || fail "start 3 (heal)"
r=$(expect_view 30 "1 2 3" "3 Yes 3 3") || fail "after healing 3: $r"
ok "heal 3: 3 members on every node after ${r}s"

"$C" down >/dev/null 2>&1 || fail "down"
ip netns list | grep -q "^$SMB3C_PREFIX-" && fail "namespaces left after down"
ok "down"
exit 0
