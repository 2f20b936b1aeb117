# Sourced by the host tests: the packer under test, the debug keys, a work
# directory removed on exit, and the ok/die/expect reporting.
# shellcheck shell=bash

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MKINITRAMFS=${MKINITRAMFS:-$SRCDIR/build/tools/mkinitramfs/ima-mkinitramfs}
# shellcheck disable=SC2034 # for the tests that source this
M=$MKINITRAMFS K=$SRCDIR/keys/debug
pass=0

# work_dir: T, a fresh directory, removed on exit. Called once the test is
# sure to run here (not before it skips or runs itself again elsewhere).
work_dir() {
	T=$(mktemp -d)
	# shellcheck disable=SC2064 # T is fixed from here on
	trap "rm -rf '$T'" EXIT
}

ok() {
	pass=$((pass + 1))
	echo "ok $pass - $*"
}

die() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect STATUS PATTERN CMD...: CMD exits with STATUS and its stderr
# contains PATTERN (grep -E).
expect() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || {
		cat "$T/out" "$T/err" >&2
		die "$* exited $rc, expected $want"
	}
	grep -Eq -- "$pat" "$T/err" || {
		cat "$T/err" >&2
		die "$*: stderr lacks /$pat/"
	}
}
