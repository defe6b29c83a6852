#!/bin/bash
# run_smbtorture.sh - run Samba's smbtorture tests against the target server.
#
# Usage: tests/smbtorture/run_smbtorture.sh [LIST_FILE] [TEST...]
#   LIST_FILE  one smbtorture test name per line; '#' starts a comment,
#              blank lines are ignored (default: must_pass.txt beside this
#              script).  TEST arguments, if given, replace the list.
# Environment:
#   SMB3_TARGET         ours (default) | samba  (Debian's smbd via
#                       shared/tools/samba-ref-server.sh, profile "full")
#   SMB3_BUILD          meson build dir with smbd/smbd (default ./build)
#   TORTURE_TIMEOUT     seconds per test (default 300)
#   TORTURE_BUDGET      seconds for the whole list (default: unlimited);
#                       tests not started in time count as failed
#   TORTURE_LOGDIR      where per-test logs go (default: a temp dir, kept
#                       and printed when something failed)
#   TORTURE_SHARD       K/N: run only the K-th (0-based) of N shares of
#                       the list (whole suites each), e.g. two runners in
#                       parallel
#   SMB3_PORT           use an already running server on 127.0.0.1:PORT
#                       (with SMB3_USER/SMB3_PASS) instead of starting one
#   SMB3_HOST           its address instead of 127.0.0.1 (with SMB3_PORT:
#                       a node of the test cluster, test_cluster_torture.sh)
#
# Prints one "PASS name" / "FAIL name" line per test and finally
# "N passed, M failed"; exits 1 if anything failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${SMB3_TARGET:-ours}
per_test_timeout=${TORTURE_TIMEOUT:-300}
export SMB3_BUILD=${SMB3_BUILD:-$repo/build}

list=$here/must_pass.txt
if [ $# -gt 0 ] && [ -f "$1" ]; then
	list=$1
	shift
fi
tests=()
if [ $# -gt 0 ]; then
	tests=("$@")
else
	while IFS= read -r line; do
		line=${line%%#*}
		line=$(printf '%s' "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
		[ -n "$line" ] && tests+=("$line")
	done <"$list"
fi
if [ ${#tests[@]} -eq 0 ]; then
	echo "run_smbtorture: no tests listed in $list" >&2
	exit 2
fi
# TORTURE_SHARD=K/N: only every N-th test from the K-th (0-based), so that
# N runners, each with its own server, share one list.
if [ -n "${TORTURE_SHARD:-}" ]; then
	shard_k=${TORTURE_SHARD%/*}
	shard_n=${TORTURE_SHARD#*/}
	case "$shard_k/$shard_n" in
	*[!0-9/]* | /* | */) echo "run_smbtorture: TORTURE_SHARD must be K/N" >&2; exit 2 ;;
	esac
	if [ "$shard_n" -lt 1 ] || [ "$shard_k" -ge "$shard_n" ]; then
		echo "run_smbtorture: TORTURE_SHARD must be K/N with K < N" >&2
		exit 2
	fi
	# Whole suites go to one runner, in list order: some suites' tests
	# depend on the state their predecessor left (smb2.delete-on-close-
	# perms.READONLY after CREATE_IF Existing fails on Samba too).  Each
	# suite goes to the runner with the fewest tests so far.
	declare -A suite_shard=()
	counts=()
	for ((i = 0; i < shard_n; i++)); do counts[i]=0; done
	shard_tests=()
	for t in "${tests[@]}"; do
		suite=${t%.*}
		if [ -z "${suite_shard[$suite]:-}" ]; then
			best=0
			for ((i = 1; i < shard_n; i++)); do
				[ "${counts[i]}" -lt "${counts[best]}" ] && best=$i
			done
			suite_shard[$suite]=$best
		fi
		counts[${suite_shard[$suite]}]=$(( counts[${suite_shard[$suite]}] + 1 ))
		[ "${suite_shard[$suite]}" -eq "$shard_k" ] && shard_tests+=("$t")
	done
	tests=("${shard_tests[@]}")
	[ ${#tests[@]} -eq 0 ] && { echo "0 passed, 0 failed"; exit 0; }
fi

root=""
started=no
cleanup() {
	if [ "$started" = yes ]; then
		/usr/bin/python3 "$repo/tests/integration/smbtarget.py" stop \
			--target "$target" --root "$root" >/dev/null 2>&1
	fi
	[ -n "$root" ] && rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${SMB3_PORT:-}" ]; then
	root=$(mktemp -d /var/tmp/smb3torture.XXXXXX)
	vars=$(/usr/bin/python3 "$repo/tests/integration/smbtarget.py" start \
		--target "$target" --root "$root" --profile full \
		--share 'hide files = /hidefile/' \
		--signing auto) || {
		echo "run_smbtorture: could not start the $target server" >&2
		echo "0 passed, ${#tests[@]} failed"
		exit 1
	}
	started=yes
	eval "$vars"
fi
: "${SMB3_USER:?}" "${SMB3_PASS:?}"

logdir=${TORTURE_LOGDIR:-$(mktemp -d /var/tmp/smb3torture-logs.XXXXXX)}
mkdir -p "$logdir"
host=127.0.0.1
[ -n "${SMB3_PORT:-}" ] && [ -z "$root" ] && host=${SMB3_HOST:-127.0.0.1}
echo "smbtorture against $target on $host:$SMB3_PORT, logs in $logdir"

passed=0
failed=0
failed_names=()
budget_end=""
[ -n "${TORTURE_BUDGET:-}" ] && budget_end=$(( $(date +%s) + TORTURE_BUDGET ))
for t in "${tests[@]}"; do
	if [ -n "$budget_end" ] && [ "$(date +%s)" -ge "$budget_end" ]; then
		echo "run_smbtorture: time budget of ${TORTURE_BUDGET}s used up" >&2
		break
	fi
	this_timeout=$per_test_timeout
	if [ -n "$budget_end" ]; then
		left=$(( budget_end - $(date +%s) ))
		[ "$left" -lt "$this_timeout" ] && this_timeout=$left
	fi
	log=$logdir/$(printf '%s' "$t" | tr -c 'A-Za-z0-9._-' '_').log
	start=$(date +%s)
	# --target=samba3: smbtorture's expectations for a Samba-like server
	# (our reference); progress off keeps logs readable.
	timeout -k 10 "$this_timeout" smbtorture \
		"//$host/share" -p "$SMB3_PORT" \
		-U "$SMB3_USER%$SMB3_PASS" \
		--target=samba3 \
		--option=torture:progress=no \
		--maximum-runtime="$this_timeout" \
		"$t" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	# smbtorture exits 0 also when a test only reports "skip:"; a listed
	# test that skips did not prove anything, so it counts as a failure.
	if [ $rc -eq 0 ] && grep -q '^skip:' "$log"; then
		rc=skip
	fi
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %s (%ds)\n' "$t" "$secs"
	else
		failed=$((failed + 1))
		failed_names+=("$t")
		why=$(grep -E '^(failure|error|skip):' "$log" | head -1)
		[ "$rc" = 124 ] && why="timed out after ${this_timeout}s"
		printf 'FAIL %s (%ds, rc=%s) %s\n' "$t" "$secs" "$rc" "$why"
	fi
	if [ "$started" = yes ] && [ -z "$(/usr/bin/python3 -c '
import sys; sys.path.insert(0, sys.argv[1])
import smbtarget
t = smbtarget.make_target(sys.argv[2], sys.argv[3])
print(t.pid() or "")' "$repo/tests/integration" "$target" "$root")" ]; then
		echo "run_smbtorture: the $target server died during $t" >&2
		break
	fi
done

if [ $failed -gt 0 ]; then
	echo "failed tests (logs in $logdir):"
	printf '  %s\n' "${failed_names[@]}"
elif [ -z "${TORTURE_LOGDIR:-}" ]; then
	rm -rf "$logdir"
fi
not_run=$(( ${#tests[@]} - passed - failed ))
if [ $not_run -gt 0 ]; then
	echo "$not_run tests not run (server died or time budget used up)"
	failed=$((failed + not_run))
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
