# open_close_client.sh - the client workload of the open/close benchmarks,
# sourced by bench_open_close.sh (one server, loopback) and
# bench_cluster.sh (a cluster, from its client namespace), so that both
# measure exactly the same thing.
#
# The client is smbtorture's smb2.bench.path-contention-shared (Samba 4.17):
# it opens NPROCS connections (plus one idle first connection) and keeps
# QDEPTH CREATE+CLOSE loops in flight on each, all on one path
# (torture:bench_path), for SECS seconds, then prints
# "open[num/s=N...] close[num/s=M...]".  The CREATE asks for
# FILE_READ_ATTRIBUTES only, share RWD, FILE_OPEN, no oplock or lease, so
# no open ever conflicts: what is measured is the cost of an open and a
# close, with their share-mode bookkeeping, between processes.

# oc_torture_bg OUT UNC PORT USER PASS PATH NPROCS QDEPTH SECS [WRAPPER...]
# starts one smbtorture in the background, output to OUT, through the
# command WRAPPER (e.g. "ip netns exec NS") if given; its pid in oc_pid
oc_torture_bg() {
	local out=$1 unc=$2 port=$3 user=$4 pass=$5 path=$6 nprocs=$7 \
		qdepth=$8 secs=$9
	shift 9
	"$@" timeout -k 5 $((secs + 60)) smbtorture "$unc" \
		-p "$port" -U "$user%$pass" \
		--option=torture:progress=no \
		--option=torture:timelimit="$secs" \
		--option=torture:nprocs="$nprocs" \
		--option=torture:qdepth="$qdepth" \
		--option=torture:bench_path="$path" \
		--maximum-runtime=$((secs + 50)) \
		smb2.bench.path-contention-shared >"$out" 2>&1 </dev/null &
	oc_pid=$!
}

# oc_check_log LOGFILE RC -> prints "open/s avslat end-epoch"; fails
# loudly (the log's tail on stderr) if smbtorture did not report success
# or gave no figure
oc_check_log() {
	local out=$1 rc=$2 line n lat t
	if [ "$rc" != 0 ] || ! grep -q '^success: path-contention-shared' "$out" ||
		grep -qE '^(failure|error|skip):' "$out"; then
		echo "smbtorture failed (rc=$rc): $out" >&2
		sed 's/\r/\n/g' "$out" | tail -40 >&2
		return 1
	fi
	# Debian 4.17 separates the fields with ',' and has no thousands
	# separator; later versions use ';' and "4,839": accept both.
	line=$(grep -oE 'open\[num/s=[0-9,]+[,;]avslat=[0-9.]+' "$out" | tail -1)
	n=$(printf '%s\n' "$line" | sed -E 's/^open\[num\/s=([0-9,]+)[,;]avslat=.*/\1/' | tr -d ,)
	lat=${line##*avslat=}
	if [ -z "$n" ] || [ "$n" -le 0 ]; then
		echo "smbtorture printed no open rate: $out" >&2
		sed 's/\r/\n/g' "$out" | tail -20 >&2
		return 1
	fi
	t=$(grep -E '^time: ' "$out" | tail -1 | cut -d' ' -f2-)
	t=$(date -d "$t" +%s.%N 2>/dev/null || echo 0)
	echo "$n $lat $t"
}

# oc_median FORMAT: the median of the numbers on stdin
oc_median() { sort -n | awk -v f="$1\n" '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# oc_table SAMPLES CPU_FIELD WIDTH SCENARIO...: the medians table of both
# benchmarks.  SAMPLES has one line per run: round, scenario, slot (ours
# or samba), pairs/s, ..., CPU us per pair in field CPU_FIELD.  The
# two runs of a round saw the same load, so the median of the per-round
# ratios is printed beside the ratio of the medians.
oc_table() {
	local samples=$1 cpu_field=$2 width=$3 s sm om sc oc rr
	shift 3
	_oc_col() { awk -v s="$1" -v k="$2" -v f="$3" '$2 == s && $3 == k { print $f }' "$samples"; }
	_oc_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
	printf "%-${width}s %8s %8s %6s %6s | %9s %9s %6s\n" scenario "samba/s" \
		"ours/s" ratio rnd "cpu samba" "cpu ours" ratio
	for s in "$@"; do
		sm=$(_oc_col "$s" samba 4 | oc_median %.0f)
		om=$(_oc_col "$s" ours 4 | oc_median %.0f)
		sc=$(_oc_col "$s" samba "$cpu_field" | oc_median %.0f)
		oc=$(_oc_col "$s" ours "$cpu_field" | oc_median %.0f)
		rr=$(awk -v s="$s" '$2 == s { v[$1 " " $3] = $4 }
			END { for (k in v) { split(k, a, " "); if (a[2] == "ours" && v[a[1] " samba"] > 0) print v[k] / v[a[1] " samba"] } }' \
			"$samples" | oc_median %.2f)
		printf "%-${width}s %8s %8s %6s %6s | %9s %9s %6s\n" "$s" "$sm" \
			"$om" "$(_oc_ratio "$om" "$sm")" "$rr" "$sc" "$oc" \
			"$(_oc_ratio "$oc" "$sc")"
	done
}
