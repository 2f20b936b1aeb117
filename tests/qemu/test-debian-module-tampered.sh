#!/bin/bash
# Debian's stock kernel, ima_policy=secure_boot ima_policy=appraise_tcb: the
# payload's virtio_blk.ko carries a security.ima whose signature was
# corrupted (one byte), in a payload re-signed with the payload key.
#
#  1. virtio_blk required (as packed by --module): ima-init checks module
#     signatures before loading anything and refuses, naming the module;
#     the boot fails closed, nothing of the real root runs.
#  2. virtio_blk optional: ima-init only warns, so the kernel gets to see
#     the module: IMA refuses it (audit: invalid-signature), finit_module
#     fails with EACCES, ima-init names the module and says why; without a
#     disk driver the root never appears and the boot fails closed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/debian-lib.sh"
debian_setup
find_programs
command -v evmctl >/dev/null || skip "evmctl not installed"
debian_rootfs "$WORK/rootfs.img"

# corrupt_module IN_CPIO OUT_CPIO: flips the last byte of virtio_blk.ko's
# signature (the keyid stays, so the kernel finds the key and the
# verification itself fails) and re-signs the payload.
corrupt_module() {
	local d
	d=$WORK/unpacked-$(basename "$2" .cpio)
	unpack_cpio "$1" "$d"
	local tar=$d/ima-init/payload.tar
	"$QEMU_DIR/payload-edit" "$tar" get-xattr lib/modules/virtio_blk.ko security.ima "$WORK/ima.good"
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 0x5a; open(sys.argv[2], "wb").write(b)' \
		"$WORK/ima.good" "$WORK/ima.bad"
	"$QEMU_DIR/payload-edit" "$tar" xattr lib/modules/virtio_blk.ko security.ima "$WORK/ima.bad"
	resign_payload "$d"
	make_cpio "$d" "$2"
}

# ---- 1. required module ----
debian_initrd "$WORK/good.cpio" "${DEBIAN_MODULES[@]}"
corrupt_module "$WORK/good.cpio" "$WORK/bad-required.cpio"
debian_boot "$WORK/required.log" "$WORK/bad-required.cpio" --timeout 240
expect_qemu_exit 0
expect_line "ima-init: .*payload verified" "the re-signed payload itself is accepted"
expect_fail_closed "prechecks: .*lib/modules/virtio_blk\.ko" \
	"ima-init refuses the corrupted virtio_blk.ko before loading any module"
expect_no_line "ima-init: .*module lib/modules/.* loaded" "no module is loaded"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"

# ---- 2. optional module: the kernel's own refusal ----
debian_initrd "$WORK/good-optional.cpio" --module virtio_pci --optional-module virtio_blk \
	--module crc32c_generic --module ext4 --root-wait 3
corrupt_module "$WORK/good-optional.cpio" "$WORK/bad-optional.cpio"
debian_boot "$WORK/optional.log" "$WORK/bad-optional.cpio" --timeout 240
expect_qemu_exit 0
expect_line "ima-init: .*optional module lib/modules/virtio_blk\.ko: .*the kernel will likely refuse it" \
	"the userspace check warns about the optional module"
expect_line "ima-init: .*module lib/modules/virtio_pci\.ko loaded" "the modules before it load"
# With a portable (immutable) security.evm on the file, ima_appraise_measurement()
# reports a failed signature as invalid-fail-immutable.
expect_line "audit: type=1800 .*op=appraise_data cause=invalid-(signature|fail-immutable) .*name=\"/run/ima-init/lib/modules/virtio_blk\.ko\".* res=0" \
	"the kernel's IMA refuses virtio_blk.ko (audit log)"
expect_line "ima-init: .*optional module lib/modules/virtio_blk\.ko not loaded: IMA appraisal refused the module .*: Permission denied" \
	"ima-init names the module and explains the errno"
expect_line "ima-init: .*module lib/modules/ext4\.ko loaded" "the modules after it still load"
expect_fail_closed "root: " "without its disk driver the root never appears: fail closed"
qemu_done
