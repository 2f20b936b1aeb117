#!/bin/bash
# `ima-mkinitramfs build`: reproducible output, the initramfs layout in every
# compression, the gen_init_cpio list form, payload signatures that evmctl
# accepts, and bad inputs that fail with one clear line, a non-zero exit and
# nothing left behind.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
KSRC=${KSRC:-/var/cache/ima-initramfs/linux-source-6.1}

work_dir

# No temporary file of an atomic write may survive, whatever happened.
no_tmp_left() {
	local left
	left=$(find "$T" -maxdepth 2 -name '*.tmp.*' | head -n1)
	[ -z "$left" ] || die "temporary file left behind: $left"
}

# Inputs. /init: any small binary will do for the packer.
cp /bin/true "$T/init"
POLICY=$SRCDIR/policies/appraise-exec-signed-policy
mkdir -p "$T/extra/sub"
echo "module data" >"$T/extra/sub/a.ko"
printf '\x00\x01binary' >"$T/extra/b.bin"
chmod 0640 "$T/extra/b.bin"
ln -s sub/a.ko "$T/extra/link"

# RSA throughout: PKCS#1 v1.5 signatures are deterministic, ECDSA ones are
# not, and the reproducibility check compares bytes.
RSA=(--key "$K/rsa/privkey_ima.pem" --ima-cert "$K/rsa/x509_ima.der"
	--evm-key "$K/rsa/privkey_evm.pem" --evm-cert "$K/rsa/x509_evm.der"
	--payload-key "$K/rsa/privkey_ima.pem" --payload-cert "$K/rsa/x509_ima.der"
	--ca "$K/ima-local-ca.x509" --allow-debug-keys)
ARGS=(--init "$T/init" --policy "$POLICY" "${RSA[@]}" --add "$T/extra:lib/extra")
export SOURCE_DATE_EPOCH=1700000000

build() {
	"$M" build "${ARGS[@]}" "$@" 2>"$T/build.err" || {
		cat "$T/build.err" >&2
		die "build $* failed"
	}
}

"$M" build --help >"$T/help" || die "build --help failed"
grep -q "ECDSA signatures are" "$T/help" && grep -q -- "--format FMT" "$T/help" || die "--help incomplete"
ok "--help exits 0 and documents the options and EC non-determinism"

# ---- reproducibility ----
build -o "$T/a.cpio"
build -o "$T/b.cpio"
cmp "$T/a.cpio" "$T/b.cpio" || die "two builds differ"
[ "$(stat -c %a "$T/a.cpio")" = 644 ] || die "output mode is not 0644"
ok "same inputs and SOURCE_DATE_EPOCH: byte-identical cpio"

SOURCE_DATE_EPOCH=1700000001 build -o "$T/c.cpio"
cmp -s "$T/a.cpio" "$T/c.cpio" && die "SOURCE_DATE_EPOCH does not reach the output"
ok "another SOURCE_DATE_EPOCH gives other bytes"

# ---- layout ----
cpio -it --quiet <"$T/a.cpio" >"$T/list"
printf '%s\n' dev dev/console ima-init ima-init/payload.sig ima-init/payload.tar \
	ima-init/trust.der init >"$T/want"
diff -u "$T/want" "$T/list" || die "cpio -t does not list the layout"
cpio -itv --quiet <"$T/a.cpio" >"$T/listv"
grep -Eq '^crw-------  +1 root +root +5, +1 .* dev/console$' "$T/listv" ||
	die "dev/console is not char 5:1 0600: $(grep console "$T/listv")"
grep -Eq '^-rwxr-xr-x .* init$' "$T/listv" || die "init is not 0755"
grep -Eq '^-rw------- .* ima-init/payload.tar$' "$T/listv" || die "payload.tar is not 0600"
grep -Eq '^-rw------- .* ima-init/payload.sig$' "$T/listv" || die "payload.sig is not 0600"
grep -Eq '^-rw-r--r-- .* ima-init/trust.der$' "$T/listv" || die "trust.der is not 0644"
grep -Eq '^drwxr-xr-x .* ima-init$' "$T/listv" || die "ima-init is not a 0755 directory"
ok "cpio -t lists dev, dev/console (c 5 1), ima-init/{payload.tar,payload.sig,trust.der}, init"

# newc header of the first entry: mtime (6th field) is SOURCE_DATE_EPOCH,
# inode numbers count from 1.
hdr=$(head -c 110 "$T/a.cpio")
[ "${hdr:0:6}" = 070701 ] || die "not a newc archive"
[ "${hdr:6:8}" = 00000001 ] || die "first inode is ${hdr:6:8}"
[ "${hdr:46:8}" = "$(printf %08X "$SOURCE_DATE_EPOCH")" ] || die "mtime field is ${hdr:46:8}"
ok "newc headers: inode 1 first, mtime = SOURCE_DATE_EPOCH"

mkdir "$T/x"
(cd "$T/x" && cpio -id --quiet <"$T/a.cpio" 2>/dev/null) || true
cmp "$T/x/init" "$T/init" || die "/init is not the --init file"
openssl x509 -inform der -in "$T/x/ima-init/trust.der" -noout 2>/dev/null || die "trust.der is not DER"
cmp "$T/x/ima-init/trust.der" "$K/rsa/x509_ima.der" || die "trust.der is not --payload-cert"
openssl pkeyutl -verify -pubin -inkey <(openssl x509 -inform der -in "$K/rsa/x509_ima.der" -pubkey -noout) \
	-pkeyopt digest:sha256 -in <(openssl dgst -sha256 -binary "$T/x/ima-init/payload.tar") \
	-sigfile <(tail -c +10 "$T/x/ima-init/payload.sig") >/dev/null ||
	die "openssl does not verify payload.sig over payload.tar"
ok "init is --init, trust.der is the payload cert, openssl verifies payload.sig"

tar -tf "$T/x/ima-init/payload.tar" >"$T/tarlist"
printf '%s\n' etc/ etc/ima/ etc/ima-init.conf etc/ima/ima-policy etc/keys/ etc/keys/ca.der \
	etc/keys/x509_evm.der etc/keys/x509_ima.der lib/ lib/extra/ lib/extra/b.bin \
	lib/extra/link lib/extra/sub/ lib/extra/sub/a.ko >"$T/want"
diff -u "$T/want" "$T/tarlist" || die "payload contents differ"
tar -xOf "$T/x/ima-init/payload.tar" etc/ima-init.conf >"$T/conf"
for l in "ima_cert = etc/keys/x509_ima.der" "evm_cert = etc/keys/x509_evm.der" \
	"ca_cert = etc/keys/ca.der" "policy = etc/ima/ima-policy" "evm_mode = 0x80000002" \
	"failure_action = halt"; do
	grep -qxF "$l" "$T/conf" || die "ima-init.conf lacks '$l'"
done
tar -xOf "$T/x/ima-init/payload.tar" etc/ima/ima-policy | cmp - "$POLICY" || die "policy differs"
tar -tvf "$T/x/ima-init/payload.tar" lib/extra/b.bin | grep -q '^-rw-r----- 0/0 ' ||
	die "added file lost its mode or is not 0:0"
ok "payload: config, policy, DER certs, added tree (modes kept, owner 0:0)"

# Every payload file signed; the packer's own verifier agrees.
"$M" verify -t "$K/rsa/x509_ima.der" "$T/a.cpio" >"$T/verify.out" 2>&1 ||
	{ cat "$T/verify.out" >&2; die "verify rejects the build"; }
[ "$(grep -c "security.ima: " "$T/verify.out")" = 7 ] &&
	[ "$(grep -c "security.evm: " "$T/verify.out")" = 7 ] ||
	{ cat "$T/verify.out" >&2; die "verify did not see security.ima/evm on all 7 files"; }
ok "ima-mkinitramfs verify accepts payload.sig and all 7 files' security.ima/evm"

# evmctl, independently: extract with GNU tar onto a tmpfs in a private
# mount namespace (xattrs need root and a filesystem that keeps them).
if [ "$(id -u)" = 0 ] && command -v evmctl >/dev/null && command -v unshare >/dev/null; then
	mkdir "$T/ns"
	unshare -m bash -euc '
		D=$1 TAR=$2 IMA=$3 EVM=$4
		mount -t tmpfs none "$D"
		tar --xattrs --xattrs-include="security.*" -xpf "$TAR" -C "$D"
		for f in etc/ima-init.conf etc/ima/ima-policy etc/keys/ca.der \
			etc/keys/x509_ima.der etc/keys/x509_evm.der lib/extra/b.bin lib/extra/sub/a.ko; do
			evmctl ima_verify --key "$IMA" "$D/$f" >/dev/null 2>&1 ||
				{ echo "evmctl ima_verify rejects $f" >&2; exit 1; }
			evmctl verify --generation 0 --key "$EVM" "$D/$f" >/dev/null 2>&1 ||
				{ echo "evmctl verify rejects security.evm of $f" >&2; exit 1; }
		done' _ "$T/ns" "$T/x/ima-init/payload.tar" "$K/rsa/x509_ima.der" "$K/rsa/x509_evm.der" ||
		die "evmctl rejects the payload's signatures"
	ok "evmctl ima_verify and verify (portable EVM) accept every payload file"
else
	echo "skip - evmctl check needs root, evmctl and unshare"
fi

# Modules and firmware: in the payload, signed, and listed in load order.
# Modules are checked to be ELF objects, and compressed ones are stored
# decompressed.
{ printf '\177ELF\002\001\001'; head -c 57 /dev/zero; echo mod-a; } >"$T/virtio_blk.ko"
{ printf '\177ELF\002\001\001'; head -c 57 /dev/zero; echo mod-b; } >"$T/ext4.ko"
xz --check=crc32 -c "$T/ext4.ko" >"$T/ext4.ko.xz"
printf 'fw' >"$T/rtl8168.fw"
"$M" build --init "$T/init" "${RSA[@]}" --module "$T/virtio_blk.ko" --optional-module "$T/ext4.ko.xz" \
	--firmware "$T/rtl8168.fw:rtl_nic/rtl8168.fw" --firmware "$T/rtl8168.fw" -o "$T/mod.cpio" 2>/dev/null ||
	die "build with --module failed"
rm -rf "$T/m" && mkdir "$T/m" && (cd "$T/m" && cpio -id --quiet ima-init/payload.tar <"$T/mod.cpio")
tar -xOf "$T/m/ima-init/payload.tar" etc/ima-init.conf | grep -E '^(module|firmware) =' >"$T/modconf"
printf '%s\n' "module = lib/modules/virtio_blk.ko" "module = lib/modules/ext4.ko optional" \
	"firmware = lib/firmware/rtl_nic/rtl8168.fw" "firmware = lib/firmware/rtl8168.fw" | diff -u - "$T/modconf" ||
	die "module/firmware lines in ima-init.conf"
tar -xOf "$T/m/ima-init/payload.tar" lib/modules/ext4.ko | cmp -s - "$T/ext4.ko" || die "module content"
[ "$(tar -xOf "$T/m/ima-init/payload.tar" lib/firmware/rtl_nic/rtl8168.fw)" = fw ] || die "firmware content"
"$M" verify -t "$K/rsa/x509_ima.der" "$T/mod.cpio" >"$T/verify.out" 2>&1 || die "verify rejects the module build"
[ "$(grep -c "security.ima: " "$T/verify.out")" = 8 ] || { cat "$T/verify.out" >&2; die "modules not signed"; }
ok "--module / --optional-module / --firmware: payload files, signed, config lines in order"

# ---- compression ----
for z in gzip:zcat xz:xzcat zstd:zstdcat; do
	c=${z%%:*} cat=${z#*:}
	build --compress "$c" -o "$T/a.cpio.$c"
	build --compress "$c" -o "$T/b.cpio.$c"
	cmp "$T/a.cpio.$c" "$T/b.cpio.$c" || die "$c: two builds differ"
	"$cat" "$T/a.cpio.$c" | cmp - "$T/a.cpio" || die "$c: does not decompress to the cpio"
	"$M" verify -q -t "$K/rsa/x509_ima.der" "$T/a.cpio.$c" >/dev/null 2>&1 || die "$c: verify rejects it"
done
# What the kernel's decoders need: xz with a CRC32 check, gzip without name.
xz --robot --list "$T/a.cpio.xz" | grep -q "CRC32" || die "xz check is not CRC32"
[ "$(od -An -tx1 -j3 -N5 "$T/a.cpio.gzip" | tr -d ' ')" = 0000000000 ] || die "gzip header has a name or mtime"
build --compress none -o "$T/n.cpio"
cmp "$T/n.cpio" "$T/a.cpio" || die "--compress none is not the plain cpio"
ok "gzip, xz (CRC32), zstd: reproducible, decompress to the same cpio, verify accepts them"

# A cpio concatenated after another, each maybe compressed, as a bootloader
# hands them over: verify reads through.
"$M" build --no-init --policy "$POLICY" "${RSA[@]}" -o "$T/payload-only.cpio" 2>/dev/null ||
	die "--no-init build failed"
cpio -it --quiet <"$T/payload-only.cpio" | grep -qx init && die "--no-init still has /init"
cat "$T/a.cpio.xz" "$T/payload-only.cpio" >"$T/concat.cpio"
"$M" verify -q -t "$K/rsa/x509_ima.der" "$T/concat.cpio" >/dev/null 2>&1 || die "verify rejects a concatenation"
ok "--no-init: payload only; concatenated after a compressed archive it still verifies"

# ---- gen_init_cpio list ----
build --format list -o "$T/initramfs.list"
[ -d "$T/initramfs.list.d" ] || die "no initramfs.list.d/"
grep -v '^#' "$T/initramfs.list" >"$T/lines"
while read -r type name rest; do
	case $type in
	dir) [[ $rest =~ ^[0-7]{4}\ 0\ 0$ ]] || die "bad dir line: $type $name $rest" ;;
	nod) [[ $rest =~ ^[0-7]{4}\ 0\ 0\ [cb]\ [0-9]+\ [0-9]+$ ]] || die "bad nod line: $name $rest" ;;
	file)
		read -r src mode uid gid extra <<<"$rest"
		[[ $src == /* && -f $src && $mode =~ ^[0-7]{4}$ && $uid$gid == 00 && -z ${extra:-} ]] ||
			die "bad file line: $name $rest"
		;;
	*) die "unexpected line: $type $name $rest" ;;
	esac
	[[ $name == /* ]] || die "name without leading /: $name"
done <"$T/lines"
cat >"$T/want" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /ima-init 0755 0 0
file /ima-init/payload.sig $T/initramfs.list.d/payload.sig 0600 0 0
file /ima-init/payload.tar $T/initramfs.list.d/payload.tar 0600 0 0
file /ima-init/trust.der $T/initramfs.list.d/trust.der 0644 0 0
file /init $T/initramfs.list.d/init 0755 0 0
EOF
diff -u "$T/want" "$T/lines" || die "list lines differ"
for f in init payload.tar payload.sig trust.der; do
	cmp "$T/initramfs.list.d/$f" "$T/x/$( [ $f = init ] && echo init || echo ima-init/$f)" ||
		die "list's $f differs from the cpio's"
	[ "$(stat -c %Y "$T/initramfs.list.d/$f")" = "$SOURCE_DATE_EPOCH" ] || die "$f mtime is not SOURCE_DATE_EPOCH"
done
ok "list: well-formed dir/nod/file lines, absolute sources in OUTPUT.d/, same files as the cpio"

# The kernel's own gen_init_cpio reads it and makes the same tree.
if [ -f "$KSRC/usr/gen_init_cpio.c" ] && command -v cc >/dev/null; then
	cc -O1 -o "$T/gen_init_cpio" "$KSRC/usr/gen_init_cpio.c"
	"$T/gen_init_cpio" -t "$SOURCE_DATE_EPOCH" "$T/initramfs.list" >"$T/gen.cpio"
	diff -u <(cpio -itv --quiet <"$T/a.cpio") <(cpio -itv --quiet <"$T/gen.cpio") ||
		die "gen_init_cpio's archive lists differently"
	mkdir "$T/g" && (cd "$T/g" && cpio -id --quiet <"$T/gen.cpio" 2>/dev/null) || true
	for f in init ima-init/payload.tar ima-init/payload.sig ima-init/trust.der; do
		cmp "$T/g/$f" "$T/x/$f" || die "gen_init_cpio's $f differs"
	done
	ok "usr/gen_init_cpio.c accepts the list; same entries, modes and contents as our cpio"
else
	echo "skip - no kernel source for gen_init_cpio"
fi

# Rebuilding replaces OUTPUT.d/ whole.
touch -d @0 "$T/initramfs.list.d/init"
build --format list -o "$T/initramfs.list"
[ "$(stat -c %Y "$T/initramfs.list.d/init")" = "$SOURCE_DATE_EPOCH" ] || die "OUTPUT.d not rewritten"
[ "$(ls "$T/initramfs.list.d" | wc -l)" = 4 ] || die "OUTPUT.d holds stray files"
no_tmp_left
ok "list rebuilt over an existing OUTPUT.d/: replaced, nothing stray"

# ---- keys that are not debug keys need no --allow-debug-keys ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=build-test \
	-addext subjectKeyIdentifier=hash -days 2 -keyout "$T/own.pem" -out "$T/own.crt" 2>/dev/null
"$M" build --init "$T/init" --key "$T/own.pem" --ima-cert "$T/own.crt" --payload-cert "$T/own.crt" \
	-o "$T/own.cpio" 2>/dev/null || die "build with a fresh EC key failed"
"$M" verify -q -t "$T/own.crt" --evm-cert "$T/own.crt" "$T/own.cpio" >/dev/null 2>&1 ||
	die "verify rejects the EC build"
openssl pkey -in "$T/own.pem" -aes256 -passout pass:s3cret -out "$T/own-enc.pem"
echo s3cret >"$T/pass"
"$M" build --init "$T/init" --key "$T/own-enc.pem" --payload-cert "$T/own.crt" --pass-file "$T/pass" \
	-o "$T/enc.cpio" 2>/dev/null || die "--pass-file does not unlock the key"
PW=s3cret "$M" build --init "$T/init" --key "$T/own-enc.pem" --payload-cert "$T/own.crt" --pass-env PW \
	-o "$T/enc.cpio" 2>/dev/null || die "--pass-env does not unlock the key"
ok "own EC key without --allow-debug-keys; encrypted key with --pass-file / --pass-env"

# ---- failures: one line, exit status, no output, no temporary file ----
# fails STATUS PATTERN ARGS...: build with ARGS (and -o into an empty
# directory, unless NO_OUTPUT is set) exits STATUS, stderr has one
# "ima-mkinitramfs build: " error line with PATTERN (grep -F), and the
# directory stays empty.
fails() {
	local want=$1 pat=$2 rc=0 out=(-o "$T/fail/out.cpio")
	shift 2
	[ -z "${NO_OUTPUT:-}" ] || out=()
	rm -rf "$T/fail" && mkdir "$T/fail"
	"$M" build "$@" "${out[@]}" >"$T/fail.out" 2>"$T/fail.err" || rc=$?
	[ "$rc" = "$want" ] || { cat "$T/fail.err" >&2; die "build $*: exit $rc, expected $want"; }
	grep -q "^ima-mkinitramfs build: " "$T/fail.err" || { cat "$T/fail.err" >&2; die "build $*: no prefixed message"; }
	grep -qF -- "$pat" "$T/fail.err" || { cat "$T/fail.err" >&2; die "build $*: stderr lacks '$pat'"; }
	[ "$(grep "^ima-mkinitramfs build: " "$T/fail.err" | grep -vc "^ima-mkinitramfs build: warning: ")" = 1 ] ||
		{ cat "$T/fail.err" >&2; die "build $*: more than one error line"; }
	[ -z "$(ls -A "$T/fail")" ] || die "build $*: left $(ls -A "$T/fail")"
	nfail=$((nfail + 1))
}
nfail=0
OWN=(--key "$T/own.pem" --payload-cert "$T/own.crt")

fails 1 "--init: cannot open $T/missing: No such file or directory" --init "$T/missing" "${RSA[@]}"
fails 1 "--policy: cannot open $T/missing" --init "$T/init" --policy "$T/missing" "${RSA[@]}"
fails 1 "--payload-key does not match --payload-cert" --init "$T/init" --allow-debug-keys \
	--key "$K/rsa/privkey_ima.pem" --payload-key "$K/rsa/privkey_evm.pem" --payload-cert "$K/rsa/x509_ima.der"
fails 1 "--key does not match --ima-cert" --init "$T/init" --allow-debug-keys \
	--key "$K/rsa/privkey_evm.pem" --ima-cert "$K/rsa/x509_ima.der" --payload-cert "$K/rsa/x509_evm.der"
fails 1 "--evm-key does not match --evm-cert" --init "$T/init" "${OWN[@]}" --allow-debug-keys \
	--evm-key "$K/rsa/privkey_ima.pem" --evm-cert "$K/rsa/x509_evm.der"
mkdir "$T/keydir"
fails 1 "--key: loading private key: $T/keydir" --init "$T/init" --key "$T/keydir" --payload-cert "$T/own.crt"
head -c 300 /dev/urandom | base64 >"$T/garbage.pem"
fails 1 "--key: $T/garbage.pem: not a PEM private key" --init "$T/init" --key "$T/garbage.pem" --payload-cert "$T/own.crt"
fails 1 "--payload-cert: $T/garbage.pem: not an X.509 certificate" --init "$T/init" --key "$T/own.pem" --payload-cert "$T/garbage.pem"
fails 1 "--ima-cert: $T/garbage.pem" --init "$T/init" "${OWN[@]}" --ima-cert "$T/garbage.pem"
openssl genpkey -algorithm ed25519 -out "$T/ed25519.pem" 2>/dev/null
fails 1 "$T/ed25519.pem: key type ED25519 not supported (use RSA or EC)" --init "$T/init" --key "$T/ed25519.pem" --payload-cert "$T/own.crt"
fails 1 "--key: $K/privkey_ima.pem: refusing a debug key" --init "$T/init" --key "$K/privkey_ima.pem" --payload-cert "$K/x509_ima.der"
fails 1 "--payload-key: $K/privkey_payload.pem: refusing a debug key" --init "$T/init" --key "$T/own.pem" \
	--payload-key "$K/privkey_payload.pem" --payload-cert "$K/x509_payload.der"
fails 1 "--ca: $K/ima-local-ca.x509: refusing a debug key" --init "$T/init" "${OWN[@]}" --ca "$K/ima-local-ca.x509"
fails 1 "--payload-cert: $K/x509_payload.der: refusing a debug key" --init "$T/init" --key "$T/own.pem" --payload-cert "$K/x509_payload.der"
fails 1 "--ca: $T/own.crt: certificate is not signed by" --init "$T/init" "${OWN[@]}" --ima-cert "$T/own.crt" \
	--ca "$K/untrusted/ima-local-ca.x509" --allow-debug-keys
fails 1 "--key: $T/own-enc.pem: private key is encrypted and no passphrase was given" --init "$T/init" \
	--key "$T/own-enc.pem" --payload-cert "$T/own.crt"
echo wrong >"$T/wrongpass"
fails 1 "wrong passphrase" --init "$T/init" --key "$T/own-enc.pem" --payload-cert "$T/own.crt" --pass-file "$T/wrongpass"
printf 'measure func=BPRM_CHECK\nappraise func=NOPE_CHECK\nfoo bar\n' >"$T/bad-policy"
fails 1 "$T/bad-policy: policy has 2 errors" --init "$T/init" "${OWN[@]}" --policy "$T/bad-policy"
grep -q "^$T/bad-policy:2: error: " "$T/fail.err" || die "no FILE:LINE for the bad policy rule"
grep -q "^$T/bad-policy:3: error: " "$T/fail.err" || die "no FILE:LINE for the bad policy line"
fails 1 "--add $T/missing: cannot stat $T/missing" --init "$T/init" "${OWN[@]}" --add "$T/missing"
fails 1 "--add /dev/null: /dev/null is a character device" --init "$T/init" "${OWN[@]}" --add /dev/null
fails 1 "'..' would leave the payload" --init "$T/init" "${OWN[@]}" --add "$T/extra:../x"
fails 1 "etc/ima-init.conf is already in the payload" --init "$T/init" "${OWN[@]}" --add "$T/pass:etc/ima-init.conf"
fails 1 "etc/x is already in the payload" --init "$T/init" "${OWN[@]}" --add "$T/pass:etc/x" --add "$T/init:etc/x"
mkdir -p "$T/fifo-tree" && mkfifo "$T/fifo-tree/p"
fails 1 "$T/fifo-tree/p: is a fifo" --init "$T/init" "${OWN[@]}" --add "$T/fifo-tree"
mkdir -p "$T/setuid" && cp /bin/true "$T/setuid/su" && chmod 4755 "$T/setuid/su"
fails 1 "/init would refuse the payload" --init "$T/init" "${OWN[@]}" --add "$T/setuid"
mkdir -p "$T/escape" && ln -sf ../../../etc/passwd "$T/escape/l"
fails 1 "/init would refuse the payload" --init "$T/init" "${OWN[@]}" --add "$T/escape"
fails 1 "--module $T/pass: not a kernel module name" --init "$T/init" "${OWN[@]}" --module "$T/pass"
fails 1 "--module $T/missing.ko: cannot open $T/missing.ko" --init "$T/init" "${OWN[@]}" --module "$T/missing.ko"
fails 1 "lib/modules/virtio_blk.ko is already in the payload (from --module $T/virtio_blk.ko)" --init "$T/init" \
	"${OWN[@]}" --module "$T/virtio_blk.ko" --optional-module "$T/virtio_blk.ko"
fails 1 "--firmware $T/rtl8168.fw:../x: '..' would leave the payload" --init "$T/init" "${OWN[@]}" --firmware "$T/rtl8168.fw:../x"
fails 1 "--firmware $T/missing.fw: cannot open" --init "$T/init" "${OWN[@]}" --firmware "$T/missing.fw"
SOURCE_DATE_EPOCH=yesterday fails 1 "SOURCE_DATE_EPOCH: 'yesterday' is not a decimal number" --init "$T/init" "${OWN[@]}"
SOURCE_DATE_EPOCH=99999999999 fails 1 "SOURCE_DATE_EPOCH: '99999999999' is larger than 4294967295" --init "$T/init" "${OWN[@]}"
ok "$nfail bad inputs: exit 1, one 'ima-mkinitramfs build: ...' line naming the culprit, no output"

nfail=0
NO_OUTPUT=1 fails 2 "no output file (-o OUTPUT)" --init "$T/init" "${OWN[@]}"
fails 2 "no signing key (--key KEY)" --init "$T/init" --payload-cert "$T/own.crt"
fails 2 "no /init binary (--init FILE, or --no-init)" "${OWN[@]}"
fails 2 "--init and --no-init are exclusive" --init "$T/init" --no-init "${OWN[@]}"
fails 2 "no payload trust anchor" --init "$T/init" --key "$T/own.pem"
fails 2 "unknown option --frobnicate" --init "$T/init" "${OWN[@]}" --frobnicate
NO_OUTPUT=1 fails 2 "option --key needs a value" --init "$T/init" --key
fails 2 "--compress: unknown compression 'lz4'" --init "$T/init" "${OWN[@]}" --compress lz4
fails 2 "--format: unknown format 'tar'" --init "$T/init" "${OWN[@]}" --format tar
fails 2 "--compress applies to --format cpio only" --init "$T/init" "${OWN[@]}" --format list --compress xz
fails 2 "--hash-algo: unsupported hash algorithm 'md5'" --init "$T/init" "${OWN[@]}" --hash-algo md5
fails 2 "--hash-algo: unsupported hash algorithm 'sha1'" --init "$T/init" "${OWN[@]}" --hash-algo sha1
fails 2 "--failure-action: unknown failure action 'explode'" --init "$T/init" "${OWN[@]}" --failure-action explode
fails 2 "--root-wait: 'soon' is not a decimal number" --init "$T/init" "${OWN[@]}" --root-wait soon
fails 2 "--evm-mode: unknown bits 0x8" --init "$T/init" "${OWN[@]}" --evm-mode 0x8000000a
fails 2 "--evm-mode enables EVM signatures but no --evm-cert" --init "$T/init" "${OWN[@]}" --evm-mode 2
fails 2 "--pass-file and --pass-env are exclusive" --init "$T/init" "${OWN[@]}" --pass-file x --pass-env Y
fails 2 "unexpected argument stray" --init "$T/init" "${OWN[@]}" stray
ok "$nfail usage errors: exit 2, one line, no output"

# A failed build leaves an existing output as it was.
echo previous >"$T/keep.cpio"
"$M" build --init "$T/missing" "${OWN[@]}" -o "$T/keep.cpio" 2>/dev/null && die "build with a missing --init succeeded"
[ "$(cat "$T/keep.cpio")" = previous ] || die "a failed build touched the existing output"
"$M" build --init "$T/init" "${OWN[@]}" -o "$T/no/such/dir/out.cpio" 2>"$T/err" && die "build into a missing directory succeeded"
grep -q "^ima-mkinitramfs build: -o $T/no/such/dir/out.cpio: cannot write into $T/no/such/dir: No such file or directory" "$T/err" || { cat "$T/err" >&2; die "unclear message for an unwritable output"; }
no_tmp_left
ok "a failed build keeps the previous output; an unwritable output is named"

# The last step fails (OUTPUT is a directory): everything is rolled back.
mkdir -p "$T/rb/out.cpio" "$T/rb/out.list"
"$M" build --init "$T/init" "${OWN[@]}" -o "$T/rb/out.cpio" 2>"$T/err" && die "build over a directory succeeded"
grep -q "^ima-mkinitramfs build: writing $T/rb/out.cpio: rename to $T/rb/out.cpio: Is a directory" "$T/err" ||
	{ cat "$T/err" >&2; die "unclear message for an output that is a directory"; }
"$M" build --init "$T/init" "${OWN[@]}" --format list -o "$T/rb/out.list" 2>"$T/err" && die "list over a directory succeeded"
grep -q "^ima-mkinitramfs build: writing $T/rb/out.list: rename to $T/rb/out.list: Is a directory" "$T/err" ||
	{ cat "$T/err" >&2; die "unclear message for a list that is a directory"; }
[ "$(ls -A "$T/rb")" = "$(printf 'out.cpio\nout.list')" ] || die "failed list build left $(ls -A "$T/rb")"
# Same with a previous OUTPUT.d/ in place: it is swapped back unchanged.
"$M" build --init "$T/init" "${OWN[@]}" --format list -o "$T/rb/prev.list" 2>/dev/null || die "list build failed"
rmdir "$T/rb/out.list" && mv "$T/rb/prev.list.d" "$T/rb/out.list.d" && mkdir "$T/rb/out.list"
md5sum "$T/rb/out.list.d/"* >"$T/rb.sum"
touch -d @12345 "$T/rb/out.list.d/init"
"$M" build --init "$T/init" "${OWN[@]}" --format list -o "$T/rb/out.list" 2>/dev/null && die "list over a directory succeeded"
md5sum -c --quiet "$T/rb.sum" || die "previous OUTPUT.d/ contents changed"
[ "$(stat -c %Y "$T/rb/out.list.d/init")" = 12345 ] || die "previous OUTPUT.d/ not restored"
no_tmp_left
ok "a failure at the final rename leaves no file, and restores a previous OUTPUT.d/"

# A list build never deletes files it did not write.
mkdir -p "$T/mine.list.d" && echo precious >"$T/mine.list.d/notes.txt"
"$M" build --init "$T/init" "${OWN[@]}" --format list -o "$T/mine.list" 2>"$T/err" && die "list build replaced a foreign OUTPUT.d"
grep -q "^ima-mkinitramfs build: $T/mine.list.d holds notes.txt, which this program did not write" "$T/err" ||
	{ cat "$T/err" >&2; die "unclear message for a foreign OUTPUT.d"; }
[ "$(cat "$T/mine.list.d/notes.txt")" = precious ] || die "foreign file touched"
[ ! -e "$T/mine.list" ] || die "list written although OUTPUT.d was refused"
mkdir -p "$T/sp ace"
"$M" build --init "$T/init" "${OWN[@]}" --format list -o "$T/sp ace/x.list" 2>"$T/err" && die "list with a blank in its path succeeded"
grep -q "gen_init_cpio cannot use a path with blanks" "$T/err" || { cat "$T/err" >&2; die "unclear message for a blank in the list path"; }
[ -z "$(ls -A "$T/sp ace")" ] || die "list build with a blank left $(ls -A "$T/sp ace")"
no_tmp_left
ok "list: a foreign OUTPUT.d/ and a path gen_init_cpio cannot express are refused, nothing written"

# ---- warnings ----
"$M" build --init /bin/true "${OWN[@]}" -o "$T/w.cpio" 2>"$T/err"
grep -q "warning: /bin/true is dynamically linked" "$T/err" || die "no warning for a dynamic /init"
if [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; then
	"$M" build --init /bin/busybox "${OWN[@]}" -o "$T/w.cpio" 2>"$T/err"
	! grep -q "dynamically linked" "$T/err" || die "static busybox reported as dynamic"
fi
ok "a dynamically linked --init draws a warning, a static one does not"

echo "all $pass build checks passed"
