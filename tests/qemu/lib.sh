# shellcheck shell=bash
# Shared helpers for the QEMU boot tests: sourced, not run.
#
# A test script sets nothing before sourcing this file; it then calls
# qemu_setup (temp dir, kernel), prepares its images, boots with qemu_boot and
# asserts on the serial log with expect_line / expect_no_line.

QEMU_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$QEMU_DIR/../.." && pwd)}
KEYS=$SRCDIR/keys/debug
IMAINIT_CACHE=${IMAINIT_CACHE:-/var/cache/ima-initramfs}
# ctest treats this exit code as "skipped" (SKIP_RETURN_CODE).
SKIP=77

qlog() { echo "[$(date +%T)] $*" >&2; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit "$SKIP"
}

# Makes $WORK (removed on exit unless KEEP_QEMU_WORK=1 or the test failed) and
# sets KCACHE to the cached kernel build.
qemu_setup() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	[ "$(id -u)" -eq 0 ] || skip "needs root (mknod, unshare -m for labelling)"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/ima-qemu.XXXXXX")
	trap qemu_cleanup EXIT
	KCACHE=$("$QEMU_DIR/build-kernel" | tail -n1) || fail "kernel build failed"
	[ -f "$KCACHE/complete" ] || fail "no complete kernel build in '$KCACHE'"
	TEST_START=$(date +%s)
}

qemu_cleanup() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP" ]; then
		echo "test work dir kept for inspection: $WORK" >&2
	elif [ "${KEEP_QEMU_WORK:-0}" = 1 ]; then
		echo "test work dir kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	return "$rc"
}

# Copies a host program and the shared libraries it needs into ROOT (same
# paths), for the busybox-only smoke initramfs.
copy_host_bin() {
	local bin root lib
	bin=$(command -v "$1") || fail "host program $1 not found"
	root=$2
	mkdir -p "$root$(dirname "$bin")"
	cp -L "$bin" "$root$bin"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# Lays out a busybox-only initramfs tree in DIR (no /init): busybox, the
# host's keyctl/setfattr/getfattr with their libraries, /dev/console.
busybox_initramfs() {
	local r=$1 t
	mkdir -p "$r"/{bin,dev,proc,sys,mnt,newroot}
	mknod "$r/dev/console" c 5 1
	cp /bin/busybox "$r/bin/busybox"
	for t in keyctl setfattr getfattr; do copy_host_bin "$t" "$r"; done
}

# Writes a newc cpio of directory DIR to OUT: sorted, owned by root, fixed
# mtime, like the kernel's own gen_init_cpio would.
make_cpio() {
	local dir=$1 out=$2
	find "$dir" -mindepth 1 -exec touch -h -d @0 {} +
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out" ||
		fail "cpio of $dir failed"
}

# kernel_with SOURCE OUT_BZIMAGE [VARIANT]: relinks the cached kernel (or
# the kernel variant VARIANT, see build-kernel --variant) with a built-in
# initramfs; prints nothing, writes OUT_BZIMAGE.
kernel_with() {
	"$QEMU_DIR/kernel-with-initramfs" ${3:+--variant "$3"} "$1" "$2" ||
		fail "relinking the kernel${3:+ (variant $3)} with $1 failed"
}

# qemu_boot LOG [run options...]: boots, never fails by itself (the
# assertions on the log decide); records the exit code in QEMU_RC.
qemu_boot() {
	local log=$1
	shift
	QEMU_RC=0
	"$QEMU_DIR/run" --log "$log" "$@" || QEMU_RC=$?
	LOG=$log
	qlog "qemu exited with $QEMU_RC"
}

_show_tail() {
	echo "---- last lines of $LOG ----" >&2
	tail -n 40 "$LOG" | sed 's/^/| /' >&2
	echo "----" >&2
}

# expect_line REGEX [WHAT]: the serial log has a line matching the extended
# regex; prints the matching lines.
expect_line() {
	local re=$1 what=${2:-$1} hits
	hits=$(grep -aE -- "$re" "$LOG" | tr -d '\r' || true)
	if [ -z "$hits" ]; then
		echo "FAIL: expected in log: $what (/$re/)" >&2
		_show_tail
		exit 1
	fi
	echo "ok: $what"
	echo "$hits" | head -n "${EXPECT_SHOW:-5}" | sed 's/^/    | /'
}

# expect_no_line REGEX [WHAT]: no line of the log matches.
expect_no_line() {
	local re=$1 what=${2:-not $1} hits
	hits=$(grep -aE -- "$re" "$LOG" | tr -d '\r' || true)
	if [ -n "$hits" ]; then
		echo "FAIL: unexpected in log: $what (/$re/):" >&2
		echo "$hits" | head -n 10 | sed 's/^/    | /' >&2
		_show_tail
		exit 1
	fi
	echo "ok: $what"
}

# expect_order REGEX1 REGEX2: the first line matching REGEX1 comes before the
# first line matching REGEX2.
expect_order() {
	local a b
	a=$(grep -anE -- "$1" "$LOG" | head -n1 | cut -d: -f1)
	b=$(grep -anE -- "$2" "$LOG" | head -n1 | cut -d: -f1)
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" -ge "$b" ]; then
		echo "FAIL: expected /$1/ (line ${a:-none}) before /$2/ (line ${b:-none})" >&2
		_show_tail
		exit 1
	fi
	echo "ok: /$1/ before /$2/"
}

expect_qemu_exit() {
	[ "$QEMU_RC" -eq "$1" ] || {
		echo "FAIL: qemu exit code $QEMU_RC, expected $1 (124: timed out)" >&2
		_show_tail
		exit 1
	}
	echo "ok: qemu exit code $1"
}

qemu_done() {
	echo "PASS ($(($(date +%s) - TEST_START)) s)"
}

# ---- boot scenarios of ima-init on the production kernel shape ----

# The programs under test, from the build tree.
find_programs() {
	local b=${BUILDDIR:-$SRCDIR/build}
	MKINITRAMFS=${MKINITRAMFS:-$b/tools/mkinitramfs/ima-mkinitramfs}
	IMA_INIT=${IMA_INIT:-$b/init/ima-init.stripped}
	[ -x "$MKINITRAMFS" ] || fail "no ima-mkinitramfs at $MKINITRAMFS (build target ima-mkinitramfs)"
	[ -x "$IMA_INIT" ] || fail "no ima-init at $IMA_INIT (build target ima-init)"
	# The debug build (its failure path execs /bin/sh), for the tests that
	# look at what a failed boot left behind; they check that it is there.
	IMA_INIT_DEBUG=${IMA_INIT_DEBUG:-$b/tests/qemu/ima-init-debug.stripped}
	export MKINITRAMFS IMA_INIT IMA_INIT_DEBUG
}

# RSA debug keys throughout the built-in initramfs: PKCS#1 v1.5 signatures
# are deterministic, so with a fixed SOURCE_DATE_EPOCH the initramfs is the
# same bytes on every run and its relinked kernel comes from the cache.
# Payload variants go in an external initrd, signed with the same payload key
# (the built-in trust.der).
RSA_SIGNING=(--key "$KEYS/rsa/privkey_ima.pem" --ima-cert "$KEYS/rsa/x509_ima.der"
	--evm-key "$KEYS/rsa/privkey_evm.pem" --evm-cert "$KEYS/rsa/x509_evm.der")
PAYLOAD_SIGNING=(--payload-key "$KEYS/rsa/privkey_ima.pem" --payload-cert "$KEYS/rsa/x509_ima.der")
TEST_POLICY=$SRCDIR/policies/appraise-exec-signed-policy
# What every scenario payload says unless a test overrides it: reboot on
# failure (qemu -no-reboot then exits at once) and a short root wait.
PAYLOAD_DEFAULTS=(--failure-action reboot --root-wait 10 --allow-debug-keys)

# mkinitramfs_build OUT [build options...]
mkinitramfs_build() {
	local out=$1
	shift
	SOURCE_DATE_EPOCH=1700000000 "$MKINITRAMFS" build "$@" -o "$out" 2>"$WORK/build.err" || {
		cat "$WORK/build.err" >&2
		fail "ima-mkinitramfs build $* failed"
	}
}

# The production shape: ima-init and its signed payload built into the
# kernel. Sets BZIMAGE.
base_kernel() {
	base_cpio "$WORK/base.cpio"
	BZIMAGE=$WORK/bzImage
	kernel_with "$WORK/base.cpio" "$BZIMAGE"
}

# base_cpio OUT [build options...]: the initramfs of base_kernel (with the
# extra options, e.g. --require-signed-init), not linked into a kernel.
base_cpio() {
	local out=$1
	shift
	mkinitramfs_build "$out" --init "$IMA_INIT" --policy "$TEST_POLICY" \
		--ca "$KEYS/ima-local-ca.x509" "${RSA_SIGNING[@]}" "${PAYLOAD_SIGNING[@]}" \
		"${PAYLOAD_DEFAULTS[@]}" "$@"
}

# payload_overlay OUT [build options...]: a payload-only initrd (ima-init/
# payload.tar, payload.sig, trust.der) that the kernel unpacks over the
# built-in one, replacing its payload.
payload_overlay() {
	local out=$1
	shift
	mkinitramfs_build "$out" --no-init "${PAYLOAD_SIGNING[@]}" "$@"
}

# unpack_cpio CPIO DIR
unpack_cpio() {
	mkdir -p "$2"
	(cd "$2" && cpio --quiet -id --no-absolute-filenames <"$1") || fail "cannot unpack $1"
}

# Markers of ima-init's log (used by the scripts that source this file).
# shellcheck disable=SC2034
INIT_FATAL='ima-init: .*FATAL'
REAL_INIT='IMA-TEST: real init running'
# shellcheck disable=SC2034
HALTED='reboot: System halted'

# Asserts that the boot stopped, fail-closed: a fatal message from ima-init
# matching REGEX, the configured failure action taken, and nothing of the real
# root ran.
expect_fail_closed() {
	expect_line "ima-init: .*FATAL: $1" "${2:-ima-init stops: $1}"
	expect_no_line "$REAL_INIT" "the real init never runs"
	expect_no_line "ima-init: .*switching root" "no switch_root"
}

# ---- the fault matrix (test-boot-fault-*.sh) ----

# expect_fault REGEX ACTION: the boot ended the way every case of the fault
# matrix must: exactly one FATAL line from ima-init, matching REGEX; then
# the failure action ACTION (halt: the kernel halts and run's --stop-on ends
# QEMU, status 125; reboot: the kernel restarts and -no-reboot ends QEMU,
# status 0); and nothing of the real root ran.
expect_fault() {
	local re=$1 action=$2 n
	n=$(grep -acE -- "$INIT_FATAL" "$LOG" || true)
	if [ "$n" -ne 1 ]; then
		echo "FAIL: expected exactly one FATAL line from ima-init, got $n" >&2
		_show_tail
		exit 1
	fi
	expect_fail_closed "$re" "one FATAL line: $re"
	case "$action" in
	halt)
		expect_line "ima-init: .*halting the system" "failure action: halt"
		expect_line "$HALTED" "the kernel halts"
		expect_qemu_exit 125
		;;
	reboot)
		expect_line "ima-init: .*rebooting" "failure action: reboot"
		expect_line "reboot: Restarting system" "the kernel restarts (QEMU -no-reboot exits)"
		expect_no_line "$HALTED" "no halt"
		expect_qemu_exit 0
		;;
	*) fail "expect_fault: unknown failure action $action" ;;
	esac
	expect_no_line "Kernel panic" "no kernel panic"
}

# The RSA payload key signs payload variants with the trust anchor the
# built-in initramfs carries: evmctl ima_sign --sigfile writes exactly the
# detached digsig v2 of payload.sig.
sign_payload_tar() {
	evmctl ima_sign --sigfile -a sha256 --key "$KEYS/rsa/privkey_ima.pem" "$1" >/dev/null 2>&1 ||
		fail "evmctl could not sign $1"
	mv "$1.sig" "$2"
}

# busybox_wrapper DIR SCRIPT: turns the unpacked initramfs DIR (ima-init as
# /init) into one whose /init is the busybox script SCRIPT: an earlier stage
# of early userspace that does something first, then execs ima-init (moved
# to /sbin/ima-init), which so runs as PID 1 all the same.
busybox_wrapper() {
	local dir=$1 script=$2
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/proc" "$dir/sys"
	mv "$dir/init" "$dir/sbin/ima-init"
	cp /bin/busybox "$dir/bin/busybox"
	install -m 0755 "$script" "$dir/init"
}
