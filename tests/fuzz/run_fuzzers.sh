#!/bin/bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# short while; fail on any crash, leak, timeout or sanitizer report.
#
#   tests/fuzz/run_fuzzers.sh [TARGET...]
#
# Environment:
#   FUZZ_SECONDS     seconds per target (default 30)
#   FUZZ_BUILD_DIR   build directory (default build-fuzz in the source tree;
#                    configured here if it does not exist yet)
#   FUZZ_CORPUS_DIR  keep the grown corpora here (default: a temp copy of
#                    tests/fuzz/corpus, discarded; the checked-in seeds are
#                    never modified)
#   FUZZ_ARGS        extra libFuzzer options, e.g. "-max_len=65536"
#   FUZZ_KNOWN_CRASHES=ignore   report known crashes without failing
#
# Before fuzzing, every reproducer in tests/fuzz/crashes/ is replayed; one
# that still crashes is a known, unfixed bug and fails the run too.
# Exit status: 0 when all is clean, 1 otherwise.  Run as root:
# fuzz_smb2_frame's worker threads switch to the user "nobody".
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
extra_args=${FUZZ_ARGS:-}

# every tests/fuzz/fuzz_*.c, plus the gensec target that lives in lib/auth
all_targets="fuzz_gensec $(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')"
targets=${*:-$all_targets}

die() { echo "run_fuzzers: $*" >&2; exit 1; }

command -v clang >/dev/null || die "clang not found (apt-get install clang)"
if [ "$(id -u)" != 0 ]; then
	echo "run_fuzzers: warning: not root; fuzz_smb2_frame cannot" \
	     "switch users, its file-system jobs will fail" >&2
fi

# ninja target (path in the build tree) of each fuzzer
target_path() {
	case $1 in
	fuzz_gensec) echo lib/auth/tests/fuzz_gensec ;;
	*) echo "tests/fuzz/$1" ;;
	esac
}

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >"$build.setup.log" 2>&1 ||
		{ cat "$build.setup.log"; die "meson setup failed"; }
	rm -f "$build.setup.log"
fi
ninja_targets=""
for t in $targets; do
	ninja_targets="$ninja_targets $(target_path "$t")"
done
# shellcheck disable=SC2086
ninja -C "$build" $ninja_targets >/dev/null ||
	{ ninja -C "$build" $ninja_targets; die "build failed" \
	  "(does the top-level meson.build have subdir('tests/fuzz')?)"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/run_fuzzers.XXXXXX")
trap 'rm -rf "$work"' EXIT
# the targets make their temp directories here; removed with it even
# when a crash skips their own cleanup
export TMPDIR="$work"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

corpus_root=${FUZZ_CORPUS_DIR:-$work/corpus}
failed=""

# 1. known crashes: replayed with the harness workarounds off
for f in "$here"/crashes/*.bin; do
	[ -e "$f" ] || continue
	t=$(basename "$f" | sed 's/-[0-9]*\.bin$//')
	case " $(echo $targets) " in *" $t "*) ;; *) continue ;; esac
	exe="$build/$(target_path "$t")"
	# (the subshell keeps bash's "Aborted" notice out of the output)
	if (FUZZ_PLAIN_TERMINATE=1 \
	    "$exe" -runs=1 "$f" >"$work/replay.log" 2>&1; exit $?) 2>/dev/null
	then
		echo "FIXED   $(basename "$f") no longer crashes: delete it" \
		     "and its workaround"
	else
		echo "KNOWN   $(basename "$f") still crashes:"
		grep -E "^SUMMARY|ERROR:" "$work/replay.log" | head -2 | sed 's/^/        /'
		if [ "${FUZZ_KNOWN_CRASHES:-fail}" != ignore ]; then
			failed="$failed $(basename "$f")"
		fi
	fi
done

# 2. fuzz each target for $seconds
for t in $targets; do
	exe="$build/$(target_path "$t")"
	corpus="$corpus_root/$t"
	mkdir -p "$corpus" "$work/artifacts"
	[ -d "$here/corpus/$t" ] && cp -n "$here/corpus/$t"/* "$corpus"/ 2>/dev/null
	log="$work/$t.log"
	# shellcheck disable=SC2086
	"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 \
		-print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$t-" $extra_args \
		"$corpus" >"$log" 2>&1
	rc=$?
	stats=$(grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 |
		sed -E 's/^#([0-9]+).*cov: ([0-9]+).*exec\/s: ([0-9]+).*/\1 runs, cov \2, \3 exec\/s/')
	if [ $rc -eq 0 ] && ! ls "$work/artifacts/$t-"* >/dev/null 2>&1; then
		echo "ok      $t: $stats"
		continue
	fi
	echo "FAILED  $t (exit $rc): $stats"
	grep -E "^==[0-9]+==ERROR|^SUMMARY|runtime error|ALARM|out-of-memory|#[0-9]+ 0x" \
		"$log" | head -25 | sed 's/^/        /'
	for a in "$work/artifacts/$t-"*; do
		[ -e "$a" ] || continue
		mkdir -p "$src/build-fuzz-artifacts"
		cp "$a" "$src/build-fuzz-artifacts/"
		echo "        reproducer: build-fuzz-artifacts/$(basename "$a")" \
		     "(run: $exe FILE)"
	done
	failed="$failed $t"
done

if [ -n "$failed" ]; then
	echo "run_fuzzers: FAILED:$failed"
	exit 1
fi
echo "run_fuzzers: all clean"
