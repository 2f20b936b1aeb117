#!/bin/bash
# `ima-mkinitramfs sign` and `verify DIR`, checked against evmctl 1.4 both
# ways: evmctl verifies what we write, we verify what evmctl writes.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v evmctl >/dev/null || { echo "SKIP: evmctl not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: security.* xattrs need root"; exit 77; }

# security.* xattrs need a filesystem that stores them: if the temp dir's
# does not, run again in a private mount namespace on a tmpfs.
probe=$(mktemp)
if ! setfattr -n security.ima -v 0x00 "$probe" 2>/dev/null; then
	rm -f "$probe"
	if [ -z "${IMAINIT_IN_NS:-}" ]; then
		exec unshare -m env IMAINIT_IN_NS=1 bash -c \
			'mount -t tmpfs none "${TMPDIR:-/tmp}" && exec bash "$0"' "$0"
	fi
	echo "FAIL: no filesystem with security.* xattrs" >&2
	exit 1
fi
rm -f "$probe"

work_dir

# evmctl's EVM code asks the filesystem for the inode generation
# (FS_IOC_GETVERSION), which tmpfs lacks; a portable signature does not
# use it, so pass it explicitly.
EVMCTL_EVM=(--generation 0)

make_tree() {
	local d=$1
	rm -rf "$d"
	mkdir -p "$d/usr/bin" "$d/etc/deep/er/still" "$d/with space"
	printf '#!/bin/sh\necho hi\n' >"$d/usr/bin/hello"
	chmod 755 "$d/usr/bin/hello"
	: >"$d/etc/empty"
	# Same content as etc/empty: one signature serves both.
	: >"$d/etc/empty-too"
	echo conf >"$d/etc/deep/er/still/file.conf"
	echo spaced >"$d/with space/a file"
	# Larger than the 256 KiB read buffer, not a multiple of it.
	head -c 700001 /dev/urandom >"$d/usr/bin/big"
	ln -s hello "$d/usr/bin/link"
	ln -s /etc/passwd "$d/escape"
	mkfifo "$d/fifo"
	chown 123:456 "$d/etc/deep/er/still/file.conf"
	chmod 4711 "$d/usr/bin/hello"
}

regular_files() {
	(cd "$1" && find . -type f | sed 's|^\./||' | sort)
}

has_xattr() {
	getfattr -h --only-values -n "$2" "$1" >/dev/null 2>&1
}

xattr_hex() {
	getfattr -h -e hex -n "$2" "$1" 2>/dev/null | sed -n "s/^$2=0x//p"
}

# ---- signing with EC and RSA keys; evmctl verifies every file ----

for kind in ec rsa; do
	if [ $kind = ec ]; then
		key=$K/privkey_ima.pem cert=$K/x509_ima.der
		evm_key=$K/privkey_evm.pem evm_cert=$K/x509_evm.der
	else
		key=$K/rsa/privkey_ima.pem cert=$K/rsa/x509_ima.der
		evm_key=$K/rsa/privkey_evm.pem evm_cert=$K/rsa/x509_evm.der
	fi
	D=$T/tree-$kind
	make_tree "$D"
	nfiles=$(regular_files "$D" | wc -l)

	# One worker: with several, two of them may sign identical files at the
	# same moment (both valid), and the count below would vary.
	"$M" sign --allow-debug-keys --jobs 1 --key "$key" --cert "$cert" "$D" >"$T/out"
	grep -q "^$nfiles files signed (security.ima, sha256)" "$T/out" ||
		die "$kind: summary: $(cat "$T/out")"
	grep -q "; $((nfiles - 1)) signatures made, identical files share them" "$T/out" ||
		die "$kind: shared signatures: $(cat "$T/out")"
	[ "$(xattr_hex "$D/etc/empty" security.ima)" = "$(xattr_hex "$D/etc/empty-too" security.ima)" ] ||
		die "$kind: identical files got different signatures"
	grep -q "3 symlinks and special files skipped" "$T/out" ||
		die "$kind: skipped count: $(cat "$T/out")"
	ok "$kind: sign labels $nfiles files (two identical ones share a signature), skips 2 symlinks and a fifo"

	keyid=$(openssl x509 -inform der -in "$cert" -noout -ext subjectKeyIdentifier |
		tail -1 | tr -d ' :' | tr A-F a-f | tail -c 9)
	while read -r f; do
		hex=$(xattr_hex "$D/$f" security.ima)
		# type 3, version 2, sha256 (4), keyid from the cert's SKID
		[ "${hex:0:14}" = "030204$keyid" ] || die "$kind: $f: header ${hex:0:14}"
		evmctl ima_verify --key "$cert" "$D/$f" >/dev/null 2>&1 ||
			die "$kind: evmctl ima_verify rejects $f"
		has_xattr "$D/$f" security.evm && die "$kind: $f has security.evm without --evm"
	done < <(regular_files "$D")
	for f in usr/bin/link escape fifo; do
		has_xattr "$D/$f" security.ima && die "$kind: $f (not a regular file) was labelled"
	done
	ok "$kind: evmctl ima_verify accepts security.ima of every file (keyid $keyid)"

	"$M" verify --cert "$cert" "$D" >"$T/out"
	grep -q "$nfiles files checked (security.ima): $nfiles ok, 0 failed" "$T/out" ||
		die "$kind: verify: $(cat "$T/out")"
	ok "$kind: verify DIR accepts our own labels"

	# With --evm and a separate EVM key: evmctl's portable verification.
	"$M" sign -q --allow-debug-keys --key "$key" --cert "$cert" --evm \
		--evm-key "$evm_key" --evm-cert "$evm_cert" "$D" >"$T/out"
	[ ! -s "$T/out" ] || die "$kind: --quiet printed: $(cat "$T/out")"
	while read -r f; do
		hex=$(xattr_hex "$D/$f" security.evm)
		[ "${hex:0:6}" = 050204 ] || die "$kind: $f: security.evm header ${hex:0:6}"
		evmctl verify "${EVMCTL_EVM[@]}" --key "$evm_cert" "$D/$f" >/dev/null 2>&1 ||
			die "$kind: evmctl verify rejects security.evm of $f"
		evmctl ima_verify --key "$cert" "$D/$f" >/dev/null 2>&1 ||
			die "$kind: evmctl ima_verify rejects $f after --evm"
	done < <(regular_files "$D")
	ok "$kind: evmctl verify accepts the portable security.evm of every file (setuid, chowned, empty, big)"

	"$M" verify -q --evm --cert "$cert" --cert "$evm_cert" "$D"
	ok "$kind: verify --evm accepts our own labels"
	expect 1 "usr/bin/hello: security.evm: .*no key with keyid" \
		"$M" verify --evm --cert "$cert" "$D"
	ok "$kind: verify --evm without the EVM certificate names the missing key"

	# Files labelled by evmctl verify with ours.
	E=$T/evmctl-$kind
	make_tree "$E"
	evmctl ima_sign --key "$key" "$E/usr/bin/hello" >/dev/null 2>&1
	evmctl ima_sign --key "$key" "$E/etc/empty" >/dev/null 2>&1
	"$M" verify --cert "$cert" -x big -x 'still' -x 'with space' -x empty-too "$E" >"$T/out"
	grep -q "2 files checked (security.ima): 2 ok, 0 failed" "$T/out" ||
		die "$kind: verify of evmctl ima_sign: $(cat "$T/out")"
	ok "$kind: verify DIR accepts evmctl ima_sign signatures"
	while read -r f; do
		evmctl sign "${EVMCTL_EVM[@]}" --imasig --portable --key "$key" "$E/$f" >/dev/null 2>&1 ||
			die "$kind: evmctl sign --imasig --portable failed on $f"
	done < <(regular_files "$E")
	"$M" verify --evm --cert "$cert" "$E" >"$T/out"
	grep -q "$nfiles files checked (security.ima, security.evm): $nfiles ok, 0 failed" "$T/out" ||
		die "$kind: verify --evm of evmctl sign --portable: $(cat "$T/out")"
	ok "$kind: verify DIR --evm accepts evmctl sign --imasig --portable"

	# Tampering after signing.
	echo tampered >>"$D/usr/bin/big"
	expect 1 "usr/bin/big: security.ima: signature does not verify" \
		"$M" verify --cert "$cert" "$D"
	grep -q "$((nfiles - 1)) ok, 1 failed" "$T/out" || die "$kind: counts: $(cat "$T/out")"
	evmctl ima_verify --key "$cert" "$D/usr/bin/big" >/dev/null 2>&1 &&
		die "$kind: evmctl accepts a changed file"
	ok "$kind: a file changed after signing fails verify, named, and evmctl agrees"

	chmod 755 "$D/etc/empty"
	expect 1 "etc/empty: security.evm: signature does not verify" \
		"$M" verify --evm --cert "$cert" --cert "$evm_cert" "$D"
	grep -q "usr/bin/big: security.ima" "$T/err" || die "$kind: big not reported too"
	"$M" verify -q --cert "$cert" -x big "$D" || die "$kind: chmod broke security.ima"
	evmctl verify "${EVMCTL_EVM[@]}" --key "$evm_cert" "$D/etc/empty" >/dev/null 2>&1 &&
		die "$kind: evmctl accepts security.evm after chmod"
	ok "$kind: chmod after --evm signing fails EVM verification (ours and evmctl's), every failure reported"

	chown 1:1 "$D/with space/a file"
	expect 1 "with space/a file: security.evm: signature does not verify" \
		"$M" verify --evm --cert "$cert" --cert "$evm_cert" "$D"
	ok "$kind: chown after --evm signing fails EVM verification"
done

# ---- what verify reports ----

D=$T/tree-ec
echo new >"$D/etc/unsigned"
expect 1 "etc/unsigned: missing security.ima" "$M" verify --cert "$K/x509_ima.der" "$D"
ok "verify names a file without security.ima"

"$M" sign -q --allow-debug-keys --key "$K/privkey_ima.pem" "$D"
rm "$D/etc/unsigned"
setfattr -x security.evm "$D/etc/empty"
expect 1 "etc/empty: missing security.evm" "$M" verify --evm --cert "$K/x509_ima.der" "$D"
ok "verify --evm names a file without security.evm"

evmctl ima_hash "$D/etc/empty" >/dev/null 2>&1
expect 1 "etc/empty: security.ima: .*IMA hash \(0x04\), not a signature" \
	"$M" verify --cert "$K/x509_ima.der" "$D"
ok "verify tells an IMA hash from a signature"

"$M" sign -q --allow-debug-keys --key "$K/privkey_ima.pem" "$D"
expect 1 "security.ima: no key with keyid" "$M" verify --cert "$K/untrusted/x509_ima.der" "$D"
ok "verify with another key's certificate names the keyid it lacks"

"$M" sign -q --allow-debug-keys --key "$K/rsa/privkey_ima.pem" --cert "$K/rsa/x509_ima.der" \
	--evm "$D"
# What evmctl sign without --portable and the kernel's HMAC write: bound
# to one inode, they cannot survive a copy.
setfattr -n security.evm -v 0x030204deadbeef0001ff "$D/etc/empty"
setfattr -n security.evm -v 0x0200112233 "$D/usr/bin/big"
expect 1 "etc/empty: security.evm holds an inode-bound signature \(type 0x03\)" \
	"$M" verify --evm --cert "$K/rsa/x509_ima.der" "$D"
grep -q "usr/bin/big: security.evm holds an HMAC (type 0x02)" "$T/err" || die "HMAC: $(cat "$T/err")"
ok "verify --evm explains inode-bound signatures and HMACs"

expect 2 "verifying a tree needs --cert" "$M" verify "$D"
expect 2 "--trust, --sig, --ima-cert and --evm-cert are for archives" \
	"$M" verify --cert "$K/x509_ima.der" --trust "$K/x509_ima.der" "$D"
expect 1 "cannot stat $T/nonexistent" "$M" verify --cert "$K/x509_ima.der" "$T/nonexistent"
expect 1 "no-such.der" "$M" verify --cert "$T/no-such.der" "$D"
ok "verify DIR usage errors"

# ---- sign options ----

D=$T/opts
make_tree "$D"
"$M" sign -q --allow-debug-keys --key "$K/privkey_ima.pem" -a sha512 -j 1 "$D"
hex=$(xattr_hex "$D/usr/bin/big" security.ima)
[ "${hex:0:6}" = 030206 ] || die "sha512: header ${hex:0:6}"
evmctl ima_verify --key "$K/x509_ima.der" "$D/usr/bin/big" >/dev/null 2>&1 ||
	die "evmctl rejects a sha512 signature"
"$M" verify -q --cert "$K/x509_ima.der" "$D"
ok "--hash-algo sha512 -j 1: header says sha512, evmctl and verify accept it"

"$M" sign -q --allow-debug-keys --key "$K/privkey_ima.pem" -a sha384 -j 7 "$D"
[ "$(xattr_hex "$D/etc/empty" security.ima | head -c 6)" = 030205 ] || die "sha384 header"
"$M" verify -q -j 3 --cert "$K/x509_ima.der" "$D"
ok "--hash-algo sha384 with more jobs than cores"

find "$D" -type f -exec setfattr -x security.ima {} \;
"$M" sign --allow-debug-keys --key "$K/privkey_ima.pem" --evm --dry-run "$D" >"$T/out"
grep -q "6 files would be signed (security.ima, security.evm" "$T/out" || die "dry-run: $(cat "$T/out")"
if getfattr -R -h -d -m '^security\.(ima|evm)$' "$D" 2>/dev/null | grep -q security; then
	die "--dry-run wrote xattrs"
fi
ok "--dry-run signs nothing"

"$M" sign --allow-debug-keys --key "$K/privkey_ima.pem" -x big -x 'etc/deep/*' \
	-x 'with space' "$D" >"$T/out"
grep -q "^3 files signed.* 3 excluded" "$T/out" || die "exclude: $(cat "$T/out")"
has_xattr "$D/usr/bin/big" security.ima && die "excluded file big was signed"
has_xattr "$D/etc/deep/er/still/file.conf" security.ima && die "excluded dir was descended"
has_xattr "$D/usr/bin/hello" security.ima || die "hello not signed"
ok "--exclude by name and by path, directories pruned"

expect 2 "--key KEY is required" "$M" sign "$D"
expect 2 "missing DIR" "$M" sign --key "$K/privkey_ima.pem"
expect 2 "only one DIR" "$M" sign --key "$K/privkey_ima.pem" "$D" "$D"
expect 2 "unsupported hash algorithm 'md5'" "$M" sign --key "$K/privkey_ima.pem" -a md5 "$D"
expect 2 "sha1 is not accepted" "$M" sign --key "$K/privkey_ima.pem" -a sha1 "$D"
expect 2 "--jobs: 0 threads" "$M" sign --key "$K/privkey_ima.pem" -j 0 "$D"
expect 2 "--jobs: .x. is not a decimal number" "$M" sign --key "$K/privkey_ima.pem" -j x "$D"
expect 2 "--jobs: .2000. is larger than 1024" "$M" sign --key "$K/privkey_ima.pem" -j 2000 "$D"
expect 2 "--evm-key and --evm-cert need --evm" \
	"$M" sign --key "$K/privkey_ima.pem" --evm-key "$K/privkey_evm.pem" "$D"
expect 2 "--evm-cert needs --evm-key" \
	"$M" sign --key "$K/privkey_ima.pem" --evm --evm-cert "$K/x509_evm.der" "$D"
expect 2 "--pass-file and --pass-env are exclusive" \
	"$M" sign --key "$K/privkey_ima.pem" --pass-file /dev/null --pass-env X "$D"
expect 2 "bad option" "$M" sign --no-such-option "$D"
"$M" sign --help | grep -q "usage: ima-mkinitramfs sign" || die "--help"
ok "sign usage errors exit 2 and say why"

expect 1 "refusing a debug key" "$M" sign --key "$K/privkey_ima.pem" "$D"
expect 1 "refusing a debug key" "$M" sign --key "$K/rsa/privkey_ima.pem" "$D"
ok "debug keys are refused without --allow-debug-keys"

# A key that is not a debug key: made here, encrypted.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes256 \
	-pass pass:s3cret -out "$T/enc.pem" 2>/dev/null
openssl req -new -x509 -key "$T/enc.pem" -passin pass:s3cret -subj /CN=test-sign \
	-addext subjectKeyIdentifier=hash -outform der -out "$T/enc.der" 2>/dev/null
echo s3cret >"$T/pass"
"$M" sign -q --key "$T/enc.pem" --cert "$T/enc.der" --pass-file "$T/pass" "$D"
evmctl ima_verify --key "$T/enc.der" "$D/usr/bin/big" >/dev/null 2>&1 ||
	die "evmctl rejects the signature of an encrypted key"
SIGN_PASS=s3cret "$M" sign -q --key "$T/enc.pem" --pass-env SIGN_PASS "$D"
"$M" verify -q --cert "$T/enc.der" "$D"
ok "encrypted key via --pass-file and --pass-env, no debug-key flag needed"

expect 1 "privkey_evm.pem: refusing a debug key" \
	"$M" sign --key "$T/enc.pem" --pass-file "$T/pass" --evm --evm-key "$K/privkey_evm.pem" "$D"
ok "a debug EVM key is refused too"

rc=0
"$M" sign --key "$T/enc.pem" "$D" </dev/null >"$T/out" 2>"$T/err" || rc=$?
[ $rc = 1 ] && grep -q "enc.pem" "$T/err" || die "encrypted key without passphrase: rc $rc: $(cat "$T/err")"
echo wrong >"$T/wrong"
expect 1 "enc.pem" "$M" sign --key "$T/enc.pem" --pass-file "$T/wrong" "$D"
expect 1 "enc.pem does not match .*x509_ima.der" \
	"$M" sign --key "$T/enc.pem" --pass-file "$T/pass" --cert "$K/x509_ima.der" "$D"
expect 1 "nonexistent.pem" "$M" sign --key "$T/nonexistent.pem" "$D"
expect 1 "cannot open $T/nodir" "$M" sign --key "$T/enc.pem" --pass-file "$T/pass" "$T/nodir"
ok "key errors: no or wrong passphrase, key/cert mismatch, missing key, missing DIR"

if chattr +i "$D/etc/empty" 2>/dev/null; then
	expect 1 "opts/etc/empty: security.ima: not permitted \(security.\* xattrs need CAP_SYS_ADMIN, and an immutable" \
		"$M" sign --key "$T/enc.pem" --pass-file "$T/pass" -j 1 "$D"
	chattr -i "$D/etc/empty"
	ok "an immutable file stops the run, named, with the likely cause"
fi

# ---- mounts: ramfs has no xattrs; other filesystems are not entered ----

unshare -m bash -s "$M" "$T" "$K" <<'EOF' >"$T/ns.out" 2>&1 || die "mount tests: $(cat "$T/ns.out")"
set -euo pipefail
M=$1 T=$2 K=$3
die() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$T/ram" && mount -t ramfs none "$T/ram"
echo x >"$T/ram/file"
rc=0
"$M" sign --allow-debug-keys --key "$K/privkey_ima.pem" "$T/ram" 2>"$T/err" || rc=$?
[ $rc = 1 ] || die "ramfs: rc $rc"
grep -q "ram/file: security.ima: filesystem does not support security.\* xattrs" "$T/err" ||
	die "ramfs: $(cat "$T/err")"
echo "ok ramfs: sign names the file and the missing xattr support"

mkdir -p "$T/outer/sub" "$T/outer/bind"
echo a >"$T/outer/a"
mount -t tmpfs none "$T/outer/sub"
echo b >"$T/outer/sub/b"
mkdir "$T/src" && echo c >"$T/src/c" && mount --bind "$T/src" "$T/outer/bind"
"$M" sign --allow-debug-keys --key "$K/privkey_ima.pem" "$T/outer" >"$T/out" 2>"$T/err"
grep -q "not descending into $T/outer/sub: another filesystem" "$T/err" || die "mount: $(cat "$T/err")"
grep -q "not descending into $T/outer/bind: another filesystem" "$T/err" || die "bind: $(cat "$T/err")"
grep -q "^1 file signed" "$T/out" || die "mount count: $(cat "$T/out")"
getfattr -n security.ima "$T/outer/sub/b" >/dev/null 2>&1 && die "crossed into a tmpfs"
getfattr -n security.ima "$T/outer/bind/c" >/dev/null 2>&1 && die "crossed into a bind mount"
"$M" sign --allow-debug-keys --cross-mounts --key "$K/privkey_ima.pem" "$T/outer" >"$T/out" 2>"$T/err"
grep -q "^3 files signed" "$T/out" || die "cross-mounts count: $(cat "$T/out")"
[ ! -s "$T/err" ] || die "cross-mounts warned: $(cat "$T/err")"
echo "ok sign stays on one filesystem (tmpfs and bind mounts skipped, with a warning), --cross-mounts enters them"
"$M" verify --cert "$K/x509_ima.der" "$T/outer" >"$T/out" 2>"$T/err"
grep -q "not descending into $T/outer/sub: another filesystem is mounted there (--cross-mounts to check it)" "$T/err" ||
	die "verify mount: $(cat "$T/err")"
grep -q "^1 file checked" "$T/out" || die "verify mount count: $(cat "$T/out")"
"$M" verify --cross-mounts --cert "$K/x509_ima.der" "$T/outer" >"$T/out"
grep -q "^3 files checked (security.ima): 3 ok" "$T/out" || die "verify cross: $(cat "$T/out")"
echo "ok verify DIR stays on one filesystem too, --cross-mounts enters the others"
EOF
while read -r line; do
	case $line in ok\ *) ok "${line#ok }" ;; esac
done <"$T/ns.out"

echo "PASS: $pass checks"
