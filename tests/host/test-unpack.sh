#!/bin/bash
# ima-mkinitramfs unpack: the extractor /init uses, run on a tmpfs in a
# private mount namespace (as /init extracts into a tmpfs). A signed payload
# keeps security.ima/security.evm; a badly signed or hostile one leaves the
# target empty, exits non-zero and names what is wrong. Payloads are made
# with GNU tar and signed with evmctl, so the extractor is also checked
# against archives it did not write.
set -euo pipefail
: "${MKINITRAMFS:?}" "${SRCDIR:?}"
keys=$SRCDIR/keys/debug

if [ "$(id -u)" != 0 ]; then
	echo "test-unpack: SKIPPED: needs root (mount namespace, tmpfs, security.* xattrs)"
	exit 0
fi
# Everything below runs in its own mount namespace: the tmpfs mounts vanish
# with it, even if the script is killed.
if [ -z "${TEST_UNPACK_IN_NS:-}" ]; then
	exec unshare -m env TEST_UNPACK_IN_NS=1 bash "$0" "$@"
fi
mount --make-rprivate /

work=$(mktemp -d)
trap 'cd /; umount -R "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
mount -t tmpfs -o mode=0700 tmpfs "$work"
cd "$work"

failures=0
pass() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# xattr NAME FILE: the value in hex, empty when absent.
xattr() { getfattr --absolute-names -e hex -n "$1" "$2" 2>/dev/null | sed -n "s/^$1=//p" || true; }

# A fresh tmpfs as the target, like /init's.
new_target() {
	mkdir -p "$1"
	mount -t tmpfs tmpfs "$1"
}

# expect_refusal NAME TARGET MESSAGE ARGS...: unpack must fail, say MESSAGE,
# and leave TARGET empty.
expect_refusal() {
	local name=$1 target=$2 msg=$3
	shift 3
	local out rc=0
	out=$("$MKINITRAMFS" unpack "$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		fail "$name: unpack succeeded"
	elif ! grep -qF -- "$msg" <<<"$out"; then
		fail "$name: expected '$msg', got: $out"
	elif [ -n "$(ls -A "$target" 2>/dev/null)" ]; then
		fail "$name: target not empty: $(ls -A "$target")"
	else
		pass "$name: refused ($msg)"
	fi
}

# --- a payload tree with signatures, made with evmctl -----------------------
mkdir -p src/etc/ima src/etc/keys src/lib
cat >src/etc/ima-init.conf <<'EOF'
policy = etc/ima/ima-policy
ima_cert = etc/keys/x509_ima.der
xattr_allow = user.test
EOF
echo "appraise func=MODULE_CHECK appraise_type=imasig" >src/etc/ima/ima-policy
cp "$keys/x509_ima.der" src/etc/keys/
printf 'binary\0data' >src/lib/blob
ln -s ../etc/ima/ima-policy src/lib/policy-link
chmod 0600 src/etc/ima/ima-policy
chmod 0555 src/etc/keys
chown 1000:2000 src/lib/blob
for f in src/etc/ima-init.conf src/etc/ima/ima-policy src/lib/blob; do
	evmctl ima_sign -a sha256 --key "$keys/privkey_ima.pem" "$f" >/dev/null 2>&1
	# tmpfs has no inode generation: portable signatures do not use it.
	evmctl sign --portable --generation 0 -a sha256 --key "$keys/privkey_evm.pem" "$f" >/dev/null 2>&1
done
setfattr -n user.test -v "allowed by the config" src/lib/blob

pack() { # pack OUTPUT SRC: a pax tar with xattrs, as GNU tar writes it
	tar --xattrs --xattrs-include='*' --format=posix --numeric-owner --sort=name \
		"${@:3}" -C "$2" -cf "$1" etc lib
}
pack payload.tar src
evmctl ima_sign --sigfile -a sha256 --key "$keys/privkey_payload.pem" payload.tar >/dev/null 2>&1
mv payload.tar.sig payload.sig

# --- a signed payload unpacks with its xattrs --------------------------------
new_target out1
if "$MKINITRAMFS" unpack --trust "$keys/x509_payload.der" payload.tar out1 >unpack.log 2>&1; then
	pass "signed payload unpacked"
else
	fail "signed payload: $(cat unpack.log)"
fi
grep -q "payload signature ok" unpack.log && pass "signature reported" || fail "no signature line: $(cat unpack.log)"
for f in etc/ima-init.conf etc/ima/ima-policy lib/blob; do
	for x in security.ima security.evm; do
		want=$(xattr "$x" "src/$f")
		got=$(xattr "$x" "out1/$f")
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			pass "$f keeps $x"
		else
			fail "$f: $x '$got', expected '$want'"
		fi
	done
	cmp -s "src/$f" "out1/$f" && pass "$f content" || fail "$f content differs"
done
getfattr --absolute-names -m - -d out1/etc/ima/ima-policy | grep -q '^security.ima=' &&
	pass "getfattr -m - lists security.ima" || fail "getfattr -m - does not list security.ima"
[ "$(xattr user.test out1/lib/blob)" = "$(xattr user.test src/lib/blob)" ] &&
	pass "xattr_allow from the payload's config honoured" || fail "user.test not restored"
[ "$(stat -c %a out1/etc/ima/ima-policy)" = 600 ] && pass "file mode" || fail "mode $(stat -c %a out1/etc/ima/ima-policy)"
[ "$(stat -c %a out1/etc/keys)" = 555 ] && pass "read-only directory mode" || fail "dir mode $(stat -c %a out1/etc/keys)"
[ "$(stat -c %u:%g out1/lib/blob)" = 1000:2000 ] && pass "owner" || fail "owner $(stat -c %u:%g out1/lib/blob)"
[ "$(readlink out1/lib/policy-link)" = ../etc/ima/ima-policy ] && pass "symlink" || fail "symlink"

# evmctl accepts the portable signature as restored (it re-hashes the
# xattrs and metadata it finds: all must have survived).
if evmctl verify --portable --generation 0 --key "$keys/x509_evm.der" out1/lib/blob >/dev/null 2>&1; then
	pass "evmctl verifies the restored security.evm"
else
	fail "evmctl rejects the restored security.evm"
fi

# --- unsigned, badly signed, wrongly trusted ----------------------------------
new_target out2
cp payload.tar tampered.tar
printf 'X' | dd of=tampered.tar bs=1 seek=2600 conv=notrunc status=none
cp payload.sig tampered.sig
expect_refusal "tampered payload" out2 "payload signature" --trust "$keys/x509_payload.der" --sig tampered.sig tampered.tar out2
expect_refusal "wrong trust anchor" out2 "payload signature" --trust "$keys/x509_ima.der" payload.tar out2
mkdir nosig && cp payload.tar nosig/
expect_refusal "missing signature" out2 "no signature beside the payload" --trust "$keys/x509_payload.der" nosig/payload.tar out2
if "$MKINITRAMFS" unpack payload.tar out2 >unsigned.log 2>&1 && grep -q "signature not checked" unsigned.log; then
	pass "without --trust: unpacked with a warning"
else
	fail "without --trust: $(cat unsigned.log)"
fi
rc=0
"$MKINITRAMFS" unpack payload.tar out2 >nonempty.log 2>&1 || rc=$?
if [ "$rc" = 1 ] && grep -q "target directory is not empty" nonempty.log; then
	pass "non-empty target refused"
else
	fail "non-empty target: exit $rc: $(cat nonempty.log)"
fi

# --- an initramfs holding the payload (cpio newc, plain and gzip) ------------
mkdir -p initrd/ima-init
cp payload.tar initrd/ima-init/payload.tar
cp payload.sig initrd/ima-init/payload.sig
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc) >initrd.cpio
gzip -n -c initrd.cpio >initrd.cpio.gz
for a in initrd.cpio initrd.cpio.gz; do
	new_target "out-$a"
	if "$MKINITRAMFS" unpack -q --trust "$keys/x509_payload.der" "$a" "out-$a" 2>"$a.log" &&
		[ "$(xattr security.ima "out-$a/etc/ima/ima-policy")" = "$(xattr security.ima src/etc/ima/ima-policy)" ]; then
		pass "$a: unpacked with xattrs"
	else
		fail "$a: $(cat "$a.log")"
	fi
done
cp tampered.tar initrd/ima-init/payload.tar
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc) >bad-initrd.cpio
new_target out3
expect_refusal "initramfs with a tampered payload" out3 "bad-initrd.cpio:ima-init/payload.sig: payload signature" \
	--trust "$keys/x509_payload.der" bad-initrd.cpio out3
rm initrd/ima-init/payload.tar
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc) >empty-initrd.cpio
expect_refusal "initramfs without a payload" out3 "no ima-init/payload.tar" empty-initrd.cpio out3

# --- hostile archives --------------------------------------------------------
new_target out4
mkdir -p evil1/etc && ln -s ../../../etc/passwd evil1/etc/passwd
tar --format=posix -C evil1 -cf evil1.tar etc
expect_refusal "escaping symlink" out4 "entry etc/passwd: symlink target ../../../etc/passwd resolves outside the root" evil1.tar out4

mkdir -p evil2/etc && mknod evil2/etc/console c 5 1
tar --format=posix -C evil2 -cf evil2.tar etc
expect_refusal "device node" out4 "entry etc/console: device nodes are not allowed" evil2.tar out4

mkdir -p evil3/etc && cp src/etc/ima-init.conf evil3/etc/ && setfattr -n user.other -v 1 evil3/etc/ima-init.conf
tar --xattrs --xattrs-include='*' --format=posix -C evil3 -cf evil3.tar etc
expect_refusal "xattr not allowed" out4 "entry etc/ima-init.conf: xattr user.other is not allowed" evil3.tar out4

mkdir -p evil4/etc && echo x >evil4/etc/x
tar --format=posix -P -C evil4 --transform='s,^etc/x$,etc/../../x,' -cf evil4.tar etc
expect_refusal "'..' in a path" out4 "entry etc/../../x: path has a '..' component" evil4.tar out4

mkdir -p evil5/bin && echo x >evil5/bin/su && chmod 4755 evil5/bin/su
tar --format=posix -C evil5 -cf evil5.tar bin
expect_refusal "setuid file" out4 "entry bin/su: setuid/setgid/sticky bits (mode 04755) are not allowed" evil5.tar out4

cp payload.tar trailing.tar && printf 'trailing' >>trailing.tar
expect_refusal "trailing garbage" out4 "after the end of the archive" trailing.tar out4

# One 512-byte record: nothing but the two zero blocks after the last entry.
pack small.tar src -b 1
head -c -1024 small.tar >noend.tar
expect_refusal "missing end-of-archive marker" out4 "missing end-of-archive marker" noend.tar out4

gzip -n -c payload.tar >payload.tar.gz
expect_refusal "compressed payload" out4 "neither a tar payload nor an initramfs" payload.tar.gz out4

# --- the packer's own initramfs, and evmctl on its payload signature ---------
if "$MKINITRAMFS" build --no-init --allow-debug-keys --policy src/etc/ima/ima-policy \
	--ima-cert "$keys/x509_ima.der" --evm-cert "$keys/x509_evm.der" \
	-k "$keys/privkey_ima.pem" --evm-key "$keys/privkey_evm.pem" \
	--payload-key "$keys/privkey_payload.pem" --payload-cert "$keys/x509_payload.der" \
	-o built.cpio >build.log 2>&1; then
	new_target out5
	if "$MKINITRAMFS" unpack -q --trust "$keys/x509_payload.der" built.cpio out5 2>built-unpack.log &&
		[ -n "$(xattr security.ima out5/etc/ima/ima-policy)" ] &&
		[ -n "$(xattr security.evm out5/etc/ima/ima-policy)" ]; then
		pass "packer's initramfs unpacked with security.ima/security.evm"
	else
		fail "packer's initramfs: $(cat built-unpack.log)"
	fi
	mkdir built && (cd built && cpio --quiet -id <../built.cpio)
	cp built/ima-init/payload.sig built/ima-init/payload.tar.sig
	if evmctl ima_verify --sigfile --key "$keys/x509_payload.der" built/ima-init/payload.tar >/dev/null 2>&1; then
		pass "evmctl ima_verify --sigfile accepts the packer's payload.sig"
	else
		fail "evmctl ima_verify --sigfile rejects the packer's payload.sig"
	fi
else
	fail "ima-mkinitramfs build: $(cat build.log)"
fi

# --- usage --------------------------------------------------------------------
"$MKINITRAMFS" unpack --help | grep -q "usage: ima-mkinitramfs unpack" && pass "--help" || fail "--help"
rc=0
"$MKINITRAMFS" unpack payload.tar >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "missing DIR is a usage error" || fail "missing DIR: exit $rc"
rc=0
"$MKINITRAMFS" unpack --sig payload.sig payload.tar out6 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "--sig without --trust is a usage error" || fail "--sig without --trust: exit $rc"
"$MKINITRAMFS" unpack -q payload.tar "$work/created" 2>/dev/null && [ -f created/etc/ima-init.conf ] &&
	pass "missing DIR created" || fail "missing DIR not created"

if [ "$failures" != 0 ]; then
	echo "test-unpack: $failures failure(s)"
	exit 1
fi
echo "test-unpack: all passed"
