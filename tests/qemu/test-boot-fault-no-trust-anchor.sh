#!/bin/bash
# Fault matrix: no payload trust anchor at all: none compiled into /init
# (IMAINIT_TRUST_ANCHOR unset, the default) and the built-in initramfs
# written with --no-trust-anchor, so without /ima-init/trust.der. The
# payload cannot be verified; the configuration is not known: halt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
qemu_setup
find_programs
cache=${BUILDDIR:-$SRCDIR/build}/CMakeCache.txt
if grep -qE '^IMAINIT_TRUST_ANCHOR:FILEPATH=.+' "$cache" 2>/dev/null; then
	skip "this ima-init has a trust anchor compiled in (IMAINIT_TRUST_ANCHOR)"
fi
base_cpio "$WORK/noanchor.cpio" --no-trust-anchor
unpack_cpio "$WORK/noanchor.cpio" "$WORK/initramfs"
[ ! -e "$WORK/initramfs/ima-init/trust.der" ] || fail "--no-trust-anchor still wrote trust.der"
kernel_with "$WORK/noanchor.cpio" "$WORK/bzImage"
"$QEMU_DIR/make-rootfs" --rsa "$WORK/rootfs.img"

qemu_boot "$WORK/serial.log" --kernel "$WORK/bzImage" --drive "$WORK/rootfs.img" \
	--append "root=/dev/vda" --timeout 60 --stop-on "$HALTED"
expect_fault "payload: no payload trust anchor: none is built into /init .* and the initramfs has no /ima-init/trust\.der" halt
expect_no_line "ima-init: .*payload (verified|extracted)" "nothing of the payload is used"
qemu_done
