#!/bin/sh
# Drive the smbconf-check and smbuser command-line tools end to end.
#   cli_test.sh SMBUSER SMBCONF_CHECK
# Needs the unix users "nobody" and "root" (present on every Debian).
set -u

SMBUSER=$1
CHECK=$2
T=$(mktemp -d /tmp/cli_test.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect RC DESCRIPTION -- COMMAND...: run, keep stdout/stderr in $T/out
# and $T/err, and check the exit code.
expect() {
	want=$1
	what=$2
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$what: exit $rc, expected $want"
		sed 's/^/  stdout: /' "$T/out" >&2
		sed 's/^/  stderr: /' "$T/err" >&2
	fi
}

contains() { # FILE TEXT DESCRIPTION
	grep -qF -- "$2" "$1" || { fail "$3: \"$2\" not in output"; cat "$1" >&2; }
}

# --- smbconf-check ----------------------------------------------------
cat >"$T/smb.conf" <<EOF
[global]
	netbios name = clitest
	smb ports = 4455
	private dir = $T/private
[data]
	path = $T
	writeable = yes
EOF
expect 0 "check good config" -- "$CHECK" -s "$T/smb.conf"
contains "$T/out" "smb ports = 4455" "check good config"
contains "$T/out" "read only = No" "writeable shown as read only"
expect 0 "check -v" -- "$CHECK" -v "$T/smb.conf"
contains "$T/out" "guest account = nobody" "check -v shows defaults"

cat >"$T/bad.conf" <<EOF
[global]
	workgroup = W

	no such parameter = 1
[s]
	guest ok = perhaps
	log level = 1
EOF
expect 1 "check bad config" -- "$CHECK" "$T/bad.conf"
contains "$T/err" "$T/bad.conf:4: unknown parameter \"no such parameter\"" "bad config"
contains "$T/err" "$T/bad.conf:6: invalid boolean value \"perhaps\"" "bad config"
contains "$T/err" "$T/bad.conf:7: global parameter \"log level\" is not allowed" "bad config"
expect 1 "check missing file" -- "$CHECK" "$T/nonexistent.conf"
expect 2 "check usage" -- "$CHECK" -x

# --- smbuser ----------------------------------------------------------
DB="$T/private/passdb.tdb"
expect 0 "list before any user" -- "$SMBUSER" -s "$T/smb.conf" list
[ -s "$T/out" ] && fail "list of a missing database is not empty"

printf 'Password\n' >"$T/pw"
expect 0 "add nobody" -- sh -c "\"$SMBUSER\" -s \"$T/smb.conf\" add nobody --password-stdin <\"$T/pw\""
[ -f "$DB" ] || fail "database not created at the private dir"
[ "$(stat -c %a "$DB")" = 600 ] || fail "database mode is not 0600"
[ "$(stat -c %a "$T/private")" = 700 ] || fail "private dir mode is not 0700"
grep -q Password "$DB" && fail "plaintext password in the database"

expect 0 "add Alice as root" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" add Alice --unix-user root --password-stdin <\"$T/pw\""
expect 1 "add duplicate" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" add ALICE --unix-user root --password-stdin <\"$T/pw\""
contains "$T/err" "already exists" "add duplicate"
expect 1 "add unknown unix user" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" add no_such_unix_user_x --password-stdin <\"$T/pw\""
contains "$T/err" "unix user \"no_such_unix_user_x\" does not exist" "unknown unix user"
expect 1 "add invalid name" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" add 'a:b' --unix-user root --password-stdin <\"$T/pw\""
expect 1 "add without any password" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" add bob --unix-user root --password-stdin </dev/null"

expect 0 "disable" -- "$SMBUSER" --passdb "$DB" disable alice
expect 0 "list" -- "$SMBUSER" --passdb "$DB" list
[ "$(awk '$1 == "Alice" { print $2, $3 }' "$T/out")" = "root disabled" ] || fail "list: Alice not root/disabled"
[ "$(awk '$1 == "nobody" { print $2, $3 }' "$T/out")" = "nobody enabled" ] || fail "list: nobody not enabled"
expect 0 "list --json" -- "$SMBUSER" --passdb "$DB" list --json
contains "$T/out" '{"name": "Alice", "unix_user": "root", "disabled": true}' "json"
if command -v /usr/bin/python3 >/dev/null; then
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d) == 2' "$T/out" ||
		fail "list --json is not valid JSON with 2 users"
fi
expect 0 "enable" -- "$SMBUSER" --passdb "$DB" enable ALICE
expect 0 "list after enable" -- "$SMBUSER" --passdb "$DB" list
[ "$(awk '$1 == "Alice" { print $3 }' "$T/out")" = enabled ] || fail "enable did not enable"

cp "$DB" "$T/before.tdb"
printf 'another one\n' >"$T/pw2"
expect 0 "passwd" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" passwd alice --password-stdin <\"$T/pw2\""
cmp -s "$DB" "$T/before.tdb" && fail "passwd did not change the database"
expect 1 "passwd unknown user" -- sh -c "\"$SMBUSER\" --passdb \"$DB\" passwd carol --password-stdin <\"$T/pw2\""
contains "$T/err" "no such user \"carol\"" "passwd unknown user"
expect 1 "passwd without a terminal" -- setsid "$SMBUSER" --passdb "$DB" passwd alice
contains "$T/err" "use --password-stdin" "no terminal"

expect 0 "delete" -- "$SMBUSER" --passdb "$DB" delete Alice
expect 1 "delete again" -- "$SMBUSER" --passdb "$DB" delete Alice
expect 0 "list after delete" -- "$SMBUSER" -s "$T/smb.conf" list
[ "$(wc -l <"$T/out")" = 1 ] || fail "list after delete: not exactly one user"

# passdb backend = tdbsam:/path is honoured
cat >"$T/other.conf" <<EOF
[global]
	passdb backend = tdbsam:$T/elsewhere/users.tdb
EOF
expect 0 "add via tdbsam path" -- sh -c "\"$SMBUSER\" -s \"$T/other.conf\" add nobody --password-stdin <\"$T/pw\""
[ -f "$T/elsewhere/users.tdb" ] || fail "tdbsam:/path not used"
expect 1 "bad config for smbuser" -- "$SMBUSER" -s "$T/bad.conf" list
contains "$T/err" "$T/bad.conf:4: unknown parameter" "smbuser shows config errors"

# usage errors
expect 2 "no command" -- "$SMBUSER"
expect 2 "unknown command" -- "$SMBUSER" frobnicate
expect 2 "missing name" -- "$SMBUSER" --passdb "$DB" delete
expect 2 "unknown option" -- "$SMBUSER" --passdb "$DB" list --bogus
expect 2 "-s and --passdb" -- "$SMBUSER" -s "$T/smb.conf" --passdb "$DB" list
expect 2 "--json on add" -- "$SMBUSER" --passdb "$DB" add x --json

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "all CLI checks passed"
