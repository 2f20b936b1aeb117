#!/bin/bash
# `ima-mkinitramfs build --kernel-modules DIR --module NAME`: modules.dep
# resolution (dependencies first, each once, optional only when nothing
# required needs it), compressed modules stored decompressed with their
# appended signature intact, every module signed, and each error naming its
# culprit. With Debian's kernel in the QEMU tests' cache (tests/qemu/
# debian-kernel), also its real tree.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
IMAINIT_CACHE=${IMAINIT_CACHE:-/var/cache/ima-initramfs}

work_dir

for t in xz zstd gzip cpio; do
	command -v "$t" >/dev/null || { echo "skip - $t not installed"; exit 77; }
done

RSA=(--key "$K/rsa/privkey_ima.pem" --ima-cert "$K/rsa/x509_ima.der"
	--evm-key "$K/rsa/privkey_evm.pem" --evm-cert "$K/rsa/x509_evm.der"
	--payload-key "$K/rsa/privkey_ima.pem" --payload-cert "$K/rsa/x509_ima.der" --allow-debug-keys)
export SOURCE_DATE_EPOCH=1700000000

# fake_module FILE NAME: an ELF header, a body, and the marker sign-file
# appends after the module signature.
fake_module() {
	{
		printf '\177ELF\002\001\001'
		head -c 57 /dev/zero
		echo "module $2 body"
		head -c 4000 /dev/zero | tr '\0' "${2:0:1}"
		printf '~Module signature appended~\n'
	} >"$1"
}

# A /lib/modules/<version> tree: c depends on b and a, b on a (depmod lists
# the deeper dependency last); d-e is compressed with xz (CRC64, xz's default),
# f with zstd, g with gzip; h has a soft dependency on an alias of a.
D=$T/base/lib/modules/6.1.0-test
mkdir -p "$D/kernel/drivers" "$D/kernel/fs" "$T/orig"
for n in a b c h; do fake_module "$D/kernel/drivers/$n.ko" "$n"; done
for n in d-e f g; do fake_module "$T/orig/$n.ko" "$n"; done
xz -c "$T/orig/d-e.ko" >"$D/kernel/fs/d-e.ko.xz"
zstd -q -c "$T/orig/f.ko" >"$D/kernel/fs/f.ko.zst"
gzip -n -c "$T/orig/g.ko" >"$D/kernel/fs/g.ko.gz"
cat >"$D/modules.dep" <<'EOF'
kernel/drivers/a.ko:
kernel/drivers/b.ko: kernel/drivers/a.ko
kernel/drivers/c.ko: kernel/drivers/b.ko kernel/drivers/a.ko
kernel/fs/d-e.ko.xz: kernel/drivers/c.ko kernel/drivers/b.ko kernel/drivers/a.ko
kernel/fs/f.ko.zst: kernel/fs/g.ko.gz
kernel/fs/g.ko.gz:
kernel/drivers/h.ko:
kernel/drivers/missing.ko: kernel/drivers/a.ko
kernel/drivers/needs-missing.ko: kernel/drivers/missing.ko
EOF
echo "kernel/lib/crc32.ko" >"$D/modules.builtin"
echo "softdep h pre: alias-of-a" >"$D/modules.softdep"
echo "alias alias-of-a a" >"$D/modules.alias"

build() {
	"$M" build --no-init "${RSA[@]}" "$@" 2>"$T/build.err" || {
		cat "$T/build.err" >&2
		die "build $* failed"
	}
}

# payload_of CPIO DIR: the payload.tar of CPIO, unpacked (without xattrs).
payload_of() {
	rm -rf "$2" && mkdir -p "$2"
	(cd "$2" && cpio -id --quiet ima-init/payload.tar <"$1" && tar -xf ima-init/payload.tar)
}

module_lines() { grep -E '^module = ' "$1/etc/ima-init.conf"; }

# ---- resolution and load order ----
build --kernel-modules "$D" --module d_e --module f -o "$T/a.cpio"
payload_of "$T/a.cpio" "$T/a"
printf 'module = lib/modules/%s\n' a.ko b.ko c.ko d-e.ko g.ko f.ko | diff -u - <(module_lines "$T/a") ||
	die "load order of d_e and f"
ok "--module NAME: every dependency, dependencies first, each once"

for n in a b c; do cmp "$D/kernel/drivers/$n.ko" "$T/a/lib/modules/$n.ko" || die "$n.ko changed"; done
for n in d-e f g; do
	cmp "$T/orig/$n.ko" "$T/a/lib/modules/$n.ko" || die "$n.ko not decompressed to the original"
	[ "$(tail -c 28 "$T/a/lib/modules/$n.ko")" = "~Module signature appended~" ] ||
		die "$n.ko lost its appended signature"
done
[ -z "$(find "$T/a/lib/modules" -name '*.ko.*')" ] || die "a compressed module is left in the payload"
ok ".ko.xz (CRC64), .ko.zst and .ko.gz stored decompressed, appended signature intact"

"$M" verify -t "$K/rsa/x509_ima.der" "$T/a.cpio" >"$T/verify.out" 2>&1 || {
	cat "$T/verify.out" >&2
	die "verify rejects the build"
}
for n in a b c d-e f g; do
	grep -A2 -E " lib/modules/$n\.ko$" "$T/verify.out" >"$T/verify.one"
	if ! grep -qE "security\.ima: signature v2 sha256 .*: ok$" "$T/verify.one" ||
		! grep -qE "security\.evm: portable signature v2 sha256 .*: ok$" "$T/verify.one"; then
		cat "$T/verify.out" >&2
		die "signatures of $n.ko not verified"
	fi
done
ok "each module carries security.ima and security.evm that verify"

# Names with '-' or '_' alike; a module requested twice or already pulled in
# by another request is packed once, where it is first needed.
build --kernel-modules "$D" --module c --module d-e --module a -o "$T/b.cpio"
payload_of "$T/b.cpio" "$T/b"
printf 'module = lib/modules/%s\n' a.ko b.ko c.ko d-e.ko | diff -u - <(module_lines "$T/b") ||
	die "repeated requests"
ok "'-' and '_' alike; repeated requests packed once"

# ---- optional ----
build --kernel-modules "$D" --optional-module c --module b -o "$T/c.cpio"
payload_of "$T/c.cpio" "$T/c"
printf '%s\n' "module = lib/modules/a.ko" "module = lib/modules/b.ko" \
	"module = lib/modules/c.ko optional" | diff -u - <(module_lines "$T/c") || die "optional propagation"
build --kernel-modules "$D" --optional-module c -o "$T/d.cpio"
payload_of "$T/d.cpio" "$T/d"
printf 'module = lib/modules/%s optional\n' a.ko b.ko c.ko | diff -u - <(module_lines "$T/d") ||
	die "dependencies of an optional module only"
ok "--optional-module NAME: its dependencies optional unless a required module needs them"

# ---- FILE and NAME forms together, in the order given ----
fake_module "$T/extra.ko" x
xz --check=crc32 -c "$T/extra.ko" >"$T/extra2.ko.xz"
build --module "$T/extra.ko" --kernel-modules "$D" --module b --optional-module "$T/extra2.ko.xz" \
	--module h -o "$T/e.cpio"
payload_of "$T/e.cpio" "$T/e"
printf '%s\n' "module = lib/modules/extra.ko" "module = lib/modules/a.ko" "module = lib/modules/b.ko" \
	"module = lib/modules/extra2.ko optional" "module = lib/modules/h.ko" | diff -u - <(module_lines "$T/e") ||
	die "mixed FILE and NAME forms"
cmp "$T/extra.ko" "$T/e/lib/modules/extra2.ko" || die "--module FILE.ko.xz not decompressed"
ok "--module FILE and --module NAME mix, in the order given; FILE.ko.xz decompressed"

# ---- warnings ----
build --kernel-modules "$D" --module h --module crc32 -o "$T/f.cpio"
grep -qF "ima-mkinitramfs build: warning: crc32 is built into the kernel: nothing to load" "$T/build.err" ||
	{ cat "$T/build.err" >&2; die "no warning for a built-in module"; }
grep -qF "ima-mkinitramfs build: warning: h has a soft dependency on alias-of-a (provided by a) that is not in the payload" \
	"$T/build.err" || { cat "$T/build.err" >&2; die "no warning for an unmet soft dependency"; }
build --kernel-modules "$D" --module a --module h -o "$T/g.cpio"
[ ! -s "$T/build.err" ] || { cat "$T/build.err" >&2; die "warning for a met soft dependency"; }
ok "warnings: a built-in module, an unmet soft dependency (none once met)"

# ---- errors: one line naming the culprit, no output ----
fails() {
	local want=$1 pat=$2 rc=0
	shift 2
	rm -rf "$T/fail" && mkdir "$T/fail"
	"$M" build --no-init "${RSA[@]}" "$@" -o "$T/fail/out.cpio" >"$T/fail.out" 2>"$T/fail.err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/fail.err" >&2; die "build $*: exit $rc, expected $want"; }
	grep -qF -- "$pat" "$T/fail.err" || { cat "$T/fail.err" >&2; die "build $*: stderr lacks '$pat'"; }
	[ "$(grep -vc "^ima-mkinitramfs build: warning: " "$T/fail.err")" -le 2 ] ||
		{ cat "$T/fail.err" >&2; die "build $*: too many lines"; }
	[ -z "$(ls -A "$T/fail")" ] || die "build $*: left $(ls -A "$T/fail")"
	nfail=$((nfail + 1))
}
nfail=0
fails 1 "ima-mkinitramfs build: --module nosuch: no module nosuch in $D (neither in modules.dep nor in modules.builtin)" \
	--kernel-modules "$D" --module a --module nosuch
fails 1 "ima-mkinitramfs build: --module needs_missing: missing (needed by needs_missing): cannot open $D/kernel/drivers/missing.ko: No such file or directory" \
	--kernel-modules "$D" --module needs_missing
fails 1 "ima-mkinitramfs build: --optional-module missing: cannot open $D/kernel/drivers/missing.ko" \
	--kernel-modules "$D" --optional-module missing
echo "kernel/drivers/c.ko: kernel/drivers/gone.ko" >"$T/dep" && mkdir -p "$T/t2" &&
	cp "$T/dep" "$T/t2/modules.dep"
fails 1 "ima-mkinitramfs build: --module c: missing dependency: c needs gone, but modules.dep has no entry for gone (regenerate it with depmod)" \
	--kernel-modules "$T/t2" --module c
mkdir -p "$T/nodep/lib/modules/6.1.0-x"
fails 1 "ima-mkinitramfs build: --kernel-modules $T/nodep/lib/modules/6.1.0-x: $T/nodep/lib/modules/6.1.0-x/modules.dep is missing (a kernel package unpacked with dpkg -x has none until depmod runs): run depmod -b $T/nodep 6.1.0-x" \
	--kernel-modules "$T/nodep/lib/modules/6.1.0-x" --module a
fails 1 "ima-mkinitramfs build: --module a: a module name needs --kernel-modules DIR (or give the path of the module file)" \
	--module a
printf 'not xz' >"$T/bad.ko.xz"
fails 1 "ima-mkinitramfs build: --module $T/bad.ko.xz: bad.ko.xz: not xz data" --module "$T/bad.ko.xz"
head -c 100 "$D/kernel/fs/d-e.ko.xz" >"$T/trunc.ko.xz"
fails 1 "ima-mkinitramfs build: --module $T/trunc.ko.xz: trunc.ko.xz: xz: truncated stream" --module "$T/trunc.ko.xz"
echo "plain text" >"$T/text.ko"
fails 1 "ima-mkinitramfs build: --module $T/text.ko: text.ko: not an ELF object, so not a kernel module" \
	--module "$T/text.ko"
cp "$D/kernel/fs/f.ko.zst" "$T/f.ko.gz"
fails 1 "ima-mkinitramfs build: --module $T/f.ko.gz: f.ko.gz: not gzip data" --module "$T/f.ko.gz"
mkdir -p "$T/t3" && printf 'kernel/a.ko:\nkernel/b.ko kernel/a.ko\n' >"$T/t3/modules.dep"
fails 1 "ima-mkinitramfs build: --kernel-modules $T/t3: $T/t3: modules.dep:2: no ':' after the module path" \
	--kernel-modules "$T/t3" --module a
fails 1 "lib/modules/a.ko is already in the payload (from --module a)" \
	--kernel-modules "$D" --module a --module "$D/kernel/drivers/a.ko"
fails 2 "ima-mkinitramfs build: --kernel-modules $D: no --module NAME to look up in it" \
	--kernel-modules "$D" --module "$T/extra.ko"
ok "$nfail bad inputs: each fails with one line naming the culprit, no output"

# ---- Debian's kernel, when the QEMU tests have fetched it ----
deb=$(find "$IMAINIT_CACHE" -maxdepth 2 -path "$IMAINIT_CACHE/debian-kernel-*/complete" -printf '%h\n' 2>/dev/null |
	sort | tail -n1)
if [ -n "$deb" ]; then
	R=$deb/root/lib/modules/$(cat "$deb/release")
	build --kernel-modules "$R" --module virtio_pci --module virtio_blk --module crc32c_generic \
		--module ext4 -o "$T/deb.cpio"
	payload_of "$T/deb.cpio" "$T/deb"
	printf 'module = lib/modules/%s.ko\n' virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		virtio_pci virtio_blk crc32c_generic jbd2 mbcache crc16 ext4 | diff -u - <(module_lines "$T/deb") ||
		die "Debian's virtio/ext4 load order"
	[ "$(tail -c 28 "$T/deb/lib/modules/ext4.ko")" = "~Module signature appended~" ] ||
		die "Debian's ext4.ko has no appended signature"
	# A compressed copy of a real module comes back byte for byte.
	mkdir -p "$T/debz/kernel"
	xz -c "$R/kernel/fs/ext4/ext4.ko" >"$T/debz/ext4.ko.xz"
	build --module "$T/debz/ext4.ko.xz" -o "$T/debz.cpio"
	payload_of "$T/debz.cpio" "$T/debz/p"
	cmp "$R/kernel/fs/ext4/ext4.ko" "$T/debz/p/lib/modules/ext4.ko" || die "ext4.ko.xz not restored"
	if command -v modinfo >/dev/null; then
		modinfo -F sig_id "$T/debz/p/lib/modules/ext4.ko" | grep -q PKCS#7 ||
			die "modinfo sees no module signature in the packed ext4.ko"
	fi
	ok "Debian's tree ($(cat "$deb/release")): virtio/ext4 in order; ext4.ko.xz restored with its PKCS#7 signature"
else
	echo "skip - no Debian kernel in $IMAINIT_CACHE (tests/qemu/debian-kernel fetches it)"
fi

echo "all $pass checks passed"
