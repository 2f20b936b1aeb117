#!/bin/bash
# The extractor's rule: on any rejection nothing extracted is used. The
# payload tmpfs (/run/ima-init) is unmounted on every error path of
# load_payload() (a Mount guard that only success releases), and the error
# is the one ima-init fails closed on.
#
# A failed boot leaves no userspace to look with, so the proof uses
# ima-init-debug: the same objects, but its failure path execs /bin/sh after
# the FATAL line. /bin/sh here is a script that reports the mount table and
# what /run/ima-init holds, then reboots. Payloads are rebuilt with
# payload-rebuild (the packer refuses to write them) and signed with the
# payload key, so they pass the signature check:
#  0. control: a good payload, a boot that fails later (no root device): the
#     report shows the payload tmpfs mounted and full, so the report can see
#     it when it is there;
#  1. a hostile entry, etc/helper with a file capability (security.capability
#     granting CAP_SYS_ADMIN): the configuration is read from the verified
#     buffer, the tmpfs mounted, then the extraction refuses the xattr;
#  2. a late failure: the signed configuration allows user.* xattrs, which
#     tmpfs on 6.1 cannot store, on the last entry: the entries before it
#     are already written when fsetxattr() fails;
#  3. the hostile payload of 1 on the release build: the one FATAL line and
#     the default failure action (halt: the configuration is not in force
#     before the payload is extracted).
# In 1 and 2 the report shows /run/ima-init not mounted and empty.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
command -v evmctl >/dev/null || skip "evmctl not installed"
[ -x "$IMA_INIT_DEBUG" ] || fail "no ima-init-debug at $IMA_INIT_DEBUG (build target ima-init-debug)"
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"
base_kernel
unpack_cpio "$WORK/base.cpio" "$WORK/base"

# The debug kernel: ima-init-debug as /init, busybox, and the report as the
# rescue shell.
base_cpio "$WORK/debug.cpio" --init "$IMA_INIT_DEBUG"
unpack_cpio "$WORK/debug.cpio" "$WORK/debug"
mkdir -p "$WORK/debug/bin"
cp /bin/busybox "$WORK/debug/bin/busybox"
cat >"$WORK/debug/bin/sh" <<'EOS'
#!/bin/busybox sh
# The rescue shell of ima-init-debug: reports what the failed boot left.
B=/bin/busybox
$B echo "RESCUE: running as pid $$"
if $B grep -q ' /run/ima-init ' /proc/self/mountinfo; then
	$B echo "RESCUE: /run/ima-init is a mount point"
else
	$B echo "RESCUE: /run/ima-init is not a mount point"
fi
$B echo "RESCUE: /run/ima-init holds: [$($B ls -A /run/ima-init 2>&1 | $B tr '\n' ' ')]"
$B grep ' /run' /proc/self/mountinfo | $B sed 's/^/RESCUE: mount: /'
$B reboot -f
EOS
chmod 0755 "$WORK/debug/bin/sh"
make_cpio "$WORK/debug" "$WORK/debug-initramfs.cpio"
kernel_with "$WORK/debug-initramfs.cpio" "$WORK/bzImage-debug"

# overlay NAME: payload.tar in $WORK/NAME.tar, signed into $WORK/NAME.cpio.
overlay() {
	mkdir -p "$WORK/$1/ima-init"
	mv "$WORK/$1.tar" "$WORK/$1/ima-init/payload.tar"
	sign_payload_tar "$WORK/$1/ima-init/payload.tar" "$WORK/$1/ima-init/payload.sig"
	make_cpio "$WORK/$1" "$WORK/$1.cpio"
}

# expect_rescue: the debug build stopped with exactly one FATAL line and its
# rescue shell ran instead of the real init.
expect_rescue() {
	local n
	n=$(grep -acE -- "$INIT_FATAL" "$LOG" || true)
	[ "$n" -eq 1 ] || fail "expected exactly one FATAL line, got $n"
	expect_fail_closed "$1" "one FATAL line: $1"
	expect_line "ima-init: .*DEBUG BUILD: starting a rescue shell" "the debug build starts its rescue shell"
	expect_line "RESCUE: running as pid 1" "the report runs (as PID 1)"
	expect_qemu_exit 0
}

qlog "0. control: good payload, no root device"
qemu_boot "$WORK/control.log" --kernel "$WORK/bzImage-debug" \
	--append "root=/dev/vda rootwait=1" --timeout 60
expect_line "ima-init: .*payload extracted into /run/ima-init" "the payload is extracted"
expect_rescue "root: root device /dev/vda did not appear"
expect_line "RESCUE: /run/ima-init is a mount point" "the report sees the payload tmpfs"
expect_line "RESCUE: /run/ima-init holds: \[etc \]" "and its content"

# A file capability: VFS_CAP_REVISION_2 with the effective flag, CAP_SYS_ADMIN
# (21) permitted; little-endian.
printf '\001\000\000\002\000\000\040\000\000\000\000\000\000\000\000\000\000\000\000\000' >"$WORK/cap"
printf 'not a program\n' >"$WORK/helper"
"$QEMU_DIR/payload-rebuild" "$WORK/base/ima-init/payload.tar" "$WORK/hostile.tar" \
	--add-file etc/helper "$WORK/helper" --xattr etc/helper security.capability "$WORK/cap"
overlay hostile

qlog "1. hostile entry: a file capability"
qemu_boot "$WORK/hostile.log" --kernel "$WORK/bzImage-debug" --initrd "$WORK/hostile.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --timeout 60
expect_line "ima-init: .*payload verified" "the signature verifies"
expect_rescue "payload: extracting the payload into /run/ima-init: entry etc/helper: xattr security\.capability is not allowed"
expect_no_line "ima-init: .*payload extracted" "the payload is not accepted"
expect_line "RESCUE: /run/ima-init is not a mount point" "the payload tmpfs is unmounted"
expect_line "RESCUE: /run/ima-init holds: \[ *\]" "nothing of it is left"
expect_no_line "ima-init: .*loaded into \.(ima|evm)" "no key is loaded"

# The configuration allows user.* xattrs; the last entry carries one.
tar -xOf "$WORK/base/ima-init/payload.tar" etc/ima-init.conf >"$WORK/conf"
echo "xattr_allow = user.ima-init-test" >>"$WORK/conf"
printf 'last\n' >"$WORK/last"
printf 'x' >"$WORK/xvalue"
"$QEMU_DIR/payload-rebuild" "$WORK/base/ima-init/payload.tar" "$WORK/late.tar" \
	--content etc/ima-init.conf "$WORK/conf" \
	--add-file etc/zz-last "$WORK/last" --xattr etc/zz-last user.ima-init-test "$WORK/xvalue"
overlay late

qlog "2. late failure: entries written, then fsetxattr() fails"
qemu_boot "$WORK/late.log" --kernel "$WORK/bzImage-debug" --initrd "$WORK/late.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --timeout 60
expect_rescue "payload: extracting the payload into /run/ima-init: entry etc/zz-last: cannot set xattr user\.ima-init-test"
expect_line "RESCUE: /run/ima-init is not a mount point" "the payload tmpfs is unmounted"
expect_line "RESCUE: /run/ima-init holds: \[ *\]" "what had been written is gone with it"

qlog "3. the hostile payload on the release build"
qemu_boot "$WORK/release.log" --kernel "$BZIMAGE" --initrd "$WORK/hostile.cpio" \
	--drive "$WORK/rootfs.img" --append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_fault "payload: extracting the payload into /run/ima-init: entry etc/helper: xattr security\.capability is not allowed" halt
expect_no_line "DEBUG BUILD" "the release build has no rescue shell"
qemu_done
