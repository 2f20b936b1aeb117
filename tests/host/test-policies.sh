#!/bin/bash
# The shipped policies lint clean, and `ima-mkinitramfs lint-policy` reports
# FILE:LINE with its exit status as documented.
set -euo pipefail

: "${MKINITRAMFS:?}" "${SRCDIR:?}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run EXPECTED_STATUS ARGS...: runs lint-policy, keeps stderr in $tmp/err.
run() {
	local want=$1 got=0
	shift
	"$MKINITRAMFS" lint-policy "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
	if [ "$got" -ne "$want" ]; then
		fail "lint-policy $*: exit $got, expected $want"
		sed 's/^/  /' "$tmp/err" >&2
	fi
}

expect_err() {
	grep -qF -- "$1" "$tmp/err" || { fail "stderr lacks '$1'"; sed 's/^/  /' "$tmp/err" >&2; }
}

# Every shipped policy: no error and no warning (--werror), the signed ones
# checked as signed policies.
count=0
for p in "$SRCDIR"/policies/*; do
	case $p in *.md) continue ;; esac
	case $p in
	*signed*) run 0 --signed --werror "$p" ;;
	*) run 0 --werror "$p" ;;
	esac
	[ -s "$tmp/err" ] && fail "$p: unexpected output: $(cat "$tmp/err")"
	count=$((count + 1))
done
[ "$count" -ge 4 ] || fail "only $count policies in $SRCDIR/policies"
[ -f "$SRCDIR/policies/appraise-exec-signed-policy" ] || fail "default policy missing"

# A broken rule: exit 1, FILE:LINE: error: reason naming the token.
printf '# broken\n\nmeasure func=FILE_CHEK\nmeasure func=BPRM_CHECK\n' >"$tmp/broken"
run 1 "$tmp/broken"
expect_err "$tmp/broken:3: error: unknown func 'FILE_CHEK'"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected exactly one message for broken"

# All files are checked even after a failing one; errors of each are shown.
printf 'appraise pcr=10\n' >"$tmp/broken2"
run 1 "$tmp/broken" "$SRCDIR/policies/measure-tcb" "$tmp/broken2"
expect_err "$tmp/broken:3: error:"
expect_err "$tmp/broken2:1: error: 'pcr=10' is only valid with 'measure'"

# Warnings alone exit 0; --werror makes them fatal; --quiet hides them.
printf 'appraise func=BPRM_CHECK appraise_type=imasig\n' >"$tmp/warn"
run 0 "$tmp/warn"
expect_err "$tmp/warn:1: warning: appraise rule without fsmagic=/fsname="
run 1 --werror "$tmp/warn"
expect_err "$tmp/warn:1: warning:"
run 0 --quiet "$tmp/warn"
[ -s "$tmp/err" ] && fail "--quiet printed: $(cat "$tmp/err")"

# --signed: a policy that does not demand signed policies gets a
# whole-policy warning (no line number).
run 0 --signed "$SRCDIR/policies/appraise-exec"
expect_err "$SRCDIR/policies/appraise-exec: warning: no 'appraise func=POLICY_CHECK appraise_type=imasig'"
run 1 -s -W "$SRCDIR/policies/appraise-exec"

# Whole-file problems the kernel's reader rejects.
printf 'measure func=BPRM_CHECK' >"$tmp/nonl"
run 1 "$tmp/nonl"
expect_err "$tmp/nonl:1: error: last line does not end with a newline"
printf 'measure func=BPRM_CHECK\r\n' >"$tmp/crlf"
run 1 "$tmp/crlf"
expect_err "$tmp/crlf:1: error: carriage return in 'func=BPRM_CHECK\\r'"
printf '# only a comment\n' >"$tmp/empty"
run 1 "$tmp/empty"
expect_err "$tmp/empty: error: policy has no rules"

# Standard input.
"$MKINITRAMFS" lint-policy - <"$tmp/broken" 2>"$tmp/err" && fail "stdin: broken policy accepted"
expect_err "<stdin>:3: error: unknown func 'FILE_CHEK'"

# Unreadable files and usage errors.
run 1 "$tmp/does-not-exist"
expect_err "cannot open $tmp/does-not-exist: No such file or directory"
run 1 "$tmp"
expect_err "$tmp: read: Is a directory"
run 2
expect_err "no policy file given"
run 2 --no-such-option "$tmp/warn"
expect_err "unknown option --no-such-option"
run 0 --help
grep -q "usage: ima-mkinitramfs lint-policy" "$tmp/out" || fail "--help prints no usage"

if [ "$failures" -ne 0 ]; then
	echo "test-policies: $failures failure(s)" >&2
	exit 1
fi
echo "test-policies: ok ($count policies)"
