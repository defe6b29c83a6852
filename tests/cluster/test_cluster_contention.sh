#!/bin/bash
# test_cluster_contention.sh - smbd's retry loops on the replicated
# databases (docs/cluster.md "smbd in a cluster"): clients of two nodes
# fight over one file.
#
#   up 3 (clustering = yes, smbd log level 3)
#   a client through node 1 and one through node 2, started at one
#   moment, each open one file for writing sharing nothing and close it
#   again, as fast as they can, for CONTENTION_SECONDS (default 8):
#   - no error but SHARING_VIOLATION, both sides got the file many times
#     and were refused many times (else the runs did not overlap)
#   - the times each side held the file never overlap (one clock: one
#     machine): a share-mode check not made again after a lost race
#     (NT_STATUS_RETRY) would let both in
#   - the smbd logs show lost races that were redone (else nothing was
#     tested)
#   - afterwards no node lists an open or share-mode entry of the file
#     (smbstatus --all on node 3): no close lost its entry to a race
#
# Needs clusterd (else exit 77).  Bounded (SMB3C_TEST_LIMIT, default
# 110 s), always cleans up (lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
need_clusterd
cluster_test_main "$@"

SECS=${CONTENTION_SECONDS:-8}
"$C" down >/dev/null 2>&1
out=$(SMB3C_LOGLEVEL=3 "$C" up 3 2>&1) || { echo "$out" | tail -40; fail "up 3"; }
ok "up 3"
R=$("$C" info ROOT)
grep -q '^[[:space:]]*clustering = yes' "$R/node1/smb.conf" ||
	fail "the nodes do not run with clustering = yes"
BUILD_DIR=$("$C" info BUILD)
read -r ip1 ip2 _ <<<"$("$C" info NODE_IPS)"
NAME=contention_$$.dat
at=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 2 }')
pids=()
for side in 1 2; do
	ip=$ip1
	[ $side = 2 ] && ip=$ip2
	"$C" client timeout $((SECS + 30)) /usr/bin/python3 \
		"$CLUSTER_DIR/cluster_contention.py" \
		--user "$("$C" info SMB_USER)" --password "$("$C" info SMB_PASS)" \
		--start-at "$at" --seconds "$SECS" --out "$R/contention$side.json" \
		"$ip" "$NAME" >"$R/contention$side.out" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc = 0 ] || { cat "$R"/contention?.out; fail "a client failed"; }
verdict=$(/usr/bin/python3 - "$R/contention1.json" "$R/contention2.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
bad = []
for side, r in (("node 1", a), ("node 2", b)):
    if r["errors"]:
        bad.append("%s: %s" % (side, r["errors"][:3]))
    if r["granted"] < 10 or r["refused"] < 10:
        bad.append("%s: granted %d, refused %d: the runs did not overlap "
                   "enough" % (side, r["granted"], r["refused"]))
# holds of the two sides must not overlap
overlaps = 0
hb = sorted(b["holds"])
j = 0
for s, e in sorted(a["holds"]):
    while j < len(hb) and hb[j][1] <= s:
        j += 1
    k = j
    while k < len(hb) and hb[k][0] < e:
        overlaps += 1
        k += 1
if overlaps:
    bad.append("%d holds of node 1 overlap holds of node 2" % overlaps)
print("; ".join(bad) if bad else
      "node 1 got the file %d times (refused %d), node 2 %d times "
      "(refused %d), no two holds overlap" %
      (a["granted"], a["refused"], b["granted"], b["refused"]))
sys.exit(1 if bad else 0)
PY
) || fail "$verdict"
ok "$verdict"

retries=$(cat "$R"/node[12]/log/smbd.log | grep -c "changed on another node meanwhile")
[ "$retries" -gt 0 ] ||
	fail "no smbd lost a race (no NT_STATUS_RETRY redone): nothing was tested"
ok "$retries lost races redone by smbd on nodes 1 and 2 ($(grep -h "changed on another node meanwhile" "$R"/node[12]/log/smbd.log | sed 's/.*\] //; s/: changed.*//' | sort | uniq -c | sort -rn | awk '{n=$1; $1=""; printf "%s%s x%d", sep, $0, n; sep=","}'))"

leftover() {
	"$C" exec 3 timeout 20 "$BUILD_DIR/tools/smbstatus" \
		-s "$R/node3/smb.conf" --json --all 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for k in ("open_files", "share_modes") for r in d.get(k, [])
          if sys.argv[1] in json.dumps(r)))' "$NAME"
}
none_left() { [ "$(leftover)" = 0 ]; }
t=$(poll 10 none_left) || fail "$(leftover) open/share-mode records of $NAME left after both clients ended"
ok "no record of $NAME left on node 3 after the clients ended (${t} s)"
exit 0
