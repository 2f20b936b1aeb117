#!/bin/bash
# The gap the signed payload closes. Debian's stock kernel with
# ima_policy=secure_boot ima_policy=appraise_tcb, booted with a stock-style
# initramfs: the very module files of our payload (same bytes, same load
# order), but as plain cpio entries, which carry no security.ima, loaded the
# way initramfs-tools and udev load them (kmod: finit_module() on the file).
# The kernel refuses every one (IMA-signature-required), and without
# virtio_blk the root disk never appears. test-debian-modules.sh boots the
# same modules from the signed payload.
#
# Then ima-init itself with that payload stripped of the modules' signatures
# (re-signed as a whole): it refuses before loading anything, naming the
# first unsigned module, and the boot fails closed.
#
# No root= here: the kernel then unpacks the initramfs into a tmpfs, which
# has xattrs, so IMA audits the missing signature (on the ramfs it uses with
# root= it refuses as well, but without an audit record: no xattr support).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/debian-lib.sh"
debian_setup
find_programs
debian_rootfs "$WORK/rootfs.img"
debian_initrd "$WORK/ours.cpio" "${DEBIAN_MODULES[@]}"

# The payload's modules and load order, as a cpio initramfs would hold them.
unpack_cpio "$WORK/ours.cpio" "$WORK/ours"
S=$WORK/stock
busybox_initramfs "$S"
copy_host_bin kmod "$S"
mkdir -p "$S/sbin"
ln -s "$(command -v kmod)" "$S/sbin/insmod"
mkdir -p "$S/lib/modules"
tar -C "$S" -xf "$WORK/ours/ima-init/payload.tar" lib/modules
sed -n 's/^module = lib\/modules\/\([^ ]*\)$/\1/p' <(tar -xOf "$WORK/ours/ima-init/payload.tar" etc/ima-init.conf) \
	>"$S/modules.order"
[ "$(wc -l <"$S/modules.order")" -eq 11 ] || fail "expected 11 modules in the payload's order"
cat >"$S/init" <<'EOF'
#!/bin/busybox sh
B=/bin/busybox
say() { $B echo "STOCK-INITRAMFS: $*"; }
$B mount -t devtmpfs dev /dev
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
say "rootfs: $($B stat -f -c %T /)"
say "security.ima of virtio_blk.ko: $(/usr/bin/getfattr -n security.ima --only-values /lib/modules/virtio_blk.ko 2>&1 | $B head -n1)"
n=0
for m in $($B cat /modules.order); do
	if out=$(/sbin/insmod /lib/modules/$m 2>&1); then
		say "insmod $m: loaded"
		n=$((n + 1))
	else
		say "insmod $m: refused: $out"
	fi
done
say "$n modules loaded"
$B sleep 2
if [ -b /dev/vda ]; then say "root disk /dev/vda: present"; else say "root disk /dev/vda: absent"; fi
say "done"
$B reboot -f
EOF
chmod 0755 "$S/init"
make_cpio "$S" "$WORK/stock.cpio"

qemu_boot "$WORK/serial.log" --kernel "$DEBIAN_VMLINUZ" --initrd "$WORK/stock.cpio" \
	--drive "$WORK/rootfs.img" --append "${DEBIAN_APPEND/root=\/dev\/vda /}" --timeout 240
expect_qemu_exit 0
expect_line "Command line: .*ima_policy=secure_boot ima_policy=appraise_tcb" "kernel booted with secure_boot + appraise_tcb"
expect_line "STOCK-INITRAMFS: rootfs: tmpfs" "the initramfs is unpacked into a tmpfs"
expect_line "STOCK-INITRAMFS: security.ima of virtio_blk.ko: .*No such attribute" \
	"the cpio gave the module file no security.ima"
EXPECT_SHOW=2 expect_line "audit: type=1800 .*op=appraise_data cause=IMA-signature-required .*name=\"/lib/modules/(virtio_ring|ext4)\.ko\".* res=0" \
	"the kernel refuses the unsigned files: IMA-signature-required"
n=$(grep -acE 'audit: type=1800 .*cause=IMA-signature-required .*name="/lib/modules/[a-z0-9_]+\.ko"' "$LOG" || true)
[ "$n" -eq 11 ] || fail "expected 11 IMA-signature-required records, got $n"
echo "ok: 11 IMA-signature-required audit records, one per module"
EXPECT_SHOW=2 expect_line "STOCK-INITRAMFS: insmod [a-z0-9_]+\.ko: refused: .*Permission denied" "insmod fails: EACCES"
n=$(grep -acE "STOCK-INITRAMFS: insmod [a-z0-9_]+\.ko: refused" "$LOG" || true)
[ "$n" -eq 11 ] || fail "expected all 11 modules refused, got $n"
echo "ok: all 11 modules refused"
expect_no_line "STOCK-INITRAMFS: insmod .*: loaded" "no module loads"
expect_line "STOCK-INITRAMFS: 0 modules loaded"
expect_line "STOCK-INITRAMFS: root disk /dev/vda: absent" "without virtio_blk there is no root disk"
expect_no_line "$REAL_INIT" "the real root is never reached"

# ---- ima-init with the same payload, its modules' xattrs stripped ----
python3 - "$WORK/ours/ima-init/payload.tar" "$WORK/stripped.tar" <<'EOP'
import io, sys, tarfile
out = io.BytesIO()
with tarfile.open(sys.argv[1], "r:") as t, \
        tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        if m.isfile() and m.name.startswith("lib/modules/"):
            m.pax_headers = {k: v for k, v in m.pax_headers.items()
                             if not k.startswith("SCHILY.xattr.")}
        o.addfile(m, io.BytesIO(data) if data is not None else None)
open(sys.argv[2], "wb").write(out.getvalue())
EOP
mv "$WORK/stripped.tar" "$WORK/ours/ima-init/payload.tar"
resign_payload "$WORK/ours"
make_cpio "$WORK/ours" "$WORK/stripped.cpio"
debian_boot "$WORK/stripped.log" "$WORK/stripped.cpio" --timeout 240
expect_qemu_exit 0
expect_line "ima-init: .*payload verified" "the re-signed payload is accepted"
expect_fail_closed "prechecks: .*lib/modules/virtio_ring\.ko.*security\.ima" \
	"ima-init refuses the first unsigned module before loading any"
expect_no_line "ima-init: .*module lib/modules/.* loaded" "no module is loaded"
expect_line "ima-init: .*rebooting" "the configured failure action (reboot) is taken"
qemu_done
