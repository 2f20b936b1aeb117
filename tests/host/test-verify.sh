#!/bin/bash
# `ima-mkinitramfs verify` of initramfs archives and bare payloads made by
# `build`: what passes, and what a tampered archive or payload says.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

work_dir

# Any executable serves as /init here: verify checks it is there.
printf '#!/bin/sh\n' >"$T/init"
chmod 755 "$T/init"
policy=$SRCDIR/policies/appraise-exec-signed-policy
build=("$M" build --allow-debug-keys --init "$T/init" --policy "$policy"
	--ima-cert "$K/x509_ima.der" --evm-cert "$K/x509_evm.der" --ca "$K/ima-local-ca.x509"
	--key "$K/privkey_ima.pem" --evm-key "$K/privkey_evm.pem"
	--payload-key "$K/privkey_payload.pem" --payload-cert "$K/x509_payload.der")

"${build[@]}" -o "$T/initramfs.cpio"

# ---- a good archive ----

"$M" verify --trust "$K/x509_payload.der" "$T/initramfs.cpio" >"$T/out" 2>"$T/err"
grep -q "payload.sig: payload signature ok (key " "$T/out" || die "no payload ok: $(cat "$T/out")"
grep -q "etc/keys/x509_ima.der: signed by etc/keys/ca.der: ok" "$T/out" || die "chain"
grep -q -- "-rw-r--r--    0/0 .* etc/ima/ima-policy$" "$T/out" || die "listing: $(cat "$T/out")"
imaid=$(openssl x509 -inform der -in "$K/x509_ima.der" -noout -ext subjectKeyIdentifier |
	tail -1 | tr -d ' :' | tr A-F a-f | tail -c 9)
grep -q "security.ima: signature v2 sha256 keyid $imaid, .* bytes: ok" "$T/out" ||
	die "xattr listing: $(cat "$T/out")"
grep -q "security.evm: portable signature v2 sha256 keyid .*: ok" "$T/out" || die "evm listing"
grep -q "etc/ima/ima-policy: policy lint ok" "$T/out" || die "lint line"
grep -q "5 files in the payload: all checks passed" "$T/out" || die "summary: $(cat "$T/out")"
grep -q "trust anchor taken from the archive" "$T/err" && die "warned with --trust"
ok "verify --trust: signature, chain, listing with keyids, lint, 5 files ok"

"$M" verify "$T/initramfs.cpio" >"$T/out" 2>"$T/err"
grep -q "WARNING: trust anchor taken from the archive itself (ima-init/trust.der)" "$T/err" ||
	die "no loud warning: $(cat "$T/err")"
grep -q "published debug key" "$T/err" || die "no debug key warning"
ok "verify without --trust passes, warning loudly that the anchor is the archive's own"

"$M" verify -q --trust "$K/x509_payload.der" "$T/initramfs.cpio" >"$T/out"
[ ! -s "$T/out" ] || die "--quiet printed: $(cat "$T/out")"
ok "--quiet prints nothing on success"

for c in gzip xz zstd; do
	"${build[@]}" --compress $c -o "$T/initramfs.$c"
	"$M" verify -q --trust "$K/x509_payload.der" "$T/initramfs.$c"
done
# The kernel looks for an uncompressed archive after a compressed one only
# at a 4-byte boundary: pad as bootloaders and dracut do.
cp "$T/initramfs.gzip" "$T/concat"
truncate -s $((($(stat -c %s "$T/concat") + 3) / 4 * 4)) "$T/concat"
cat "$T/initramfs.cpio" >>"$T/concat"
"$M" verify -q --trust "$K/x509_payload.der" "$T/concat"
ok "gzip, xz and zstd archives and concatenated archives verify"

# ---- tampering with the archive ----

expect 1 "payload.sig: payload signature: no key with keyid" \
	"$M" verify --trust "$K/untrusted/x509_ima.der" "$T/initramfs.cpio"
ok "another trust anchor: the payload signature fails, naming the keyid"

# Same-length change inside the (uncompressed) payload: its policy text.
grep -q "func=POLICY_CHECK" "$T/initramfs.cpio" || die "policy text not found in the cpio"
sed 's/func=POLICY_CHECK/func=POLICY_CHECX/' "$T/initramfs.cpio" >"$T/tampered.cpio"
expect 1 "payload.sig: payload signature: signature does not verify" \
	"$M" verify --trust "$K/x509_payload.der" "$T/tampered.cpio"
grep -q "etc/ima/ima-policy: security.ima: signature does not verify" "$T/err" ||
	die "tampered policy not named: $(cat "$T/err")"
grep -Eq "etc/ima/ima-policy:[0-9]+: .*POLICY_CHECX" "$T/err" || die "lint: $(cat "$T/err")"
grep -q "failures$" "$T/out" || die "summary: $(cat "$T/out")"
expect 1 "payload signature: signature does not verify" "$M" verify "$T/tampered.cpio"
ok "tampered payload: the signature fails, and the changed file and its bad rule are named"

expect 1 "etc/ima/ima-policy: security.ima: no key with keyid" \
	"$M" verify --trust "$K/x509_payload.der" --ima-cert "$K/untrusted/x509_ima.der" \
	"$T/initramfs.cpio"
expect 1 "security.evm: no key with keyid" \
	"$M" verify --trust "$K/x509_payload.der" --evm-cert "$K/x509_ima.der" "$T/initramfs.cpio"
"$M" verify -q --trust "$K/x509_payload.der" --ima-cert "$K/x509_ima.der" \
	--evm-cert "$K/x509_evm.der" "$T/initramfs.cpio"
ok "--ima-cert and --evm-cert replace the payload's certificates"

"$M" build --allow-debug-keys --no-init --policy "$policy" --ima-cert "$K/x509_ima.der" \
	--key "$K/privkey_ima.pem" --payload-key "$K/privkey_payload.pem" \
	--payload-cert "$K/x509_payload.der" --no-trust-anchor -o "$T/noinit.cpio"
expect 1 "no trust anchor: the archive carries no ima-init/trust.der" \
	"$M" verify "$T/noinit.cpio"
"$M" verify --trust "$K/x509_payload.der" "$T/noinit.cpio" >"$T/out" 2>"$T/err"
grep -q "no /init: this archive needs a kernel with ima-init built in" "$T/out" ||
	die "no /init note: $(cat "$T/out")"
grep -q "security.evm of 3 files not checked: the payload has no EVM certificate" "$T/err" ||
	die "no EVM-cert warning: $(cat "$T/err")"
ok "an archive without trust.der needs --trust; one without /init (an initrd) passes, saying so"

# /init present but not executable: the kernel would fail to run it.
python3 - "$T/initramfs.cpio" "$T/noexec.cpio" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = 0
while i < len(data):
    namesize = int(data[i + 94:i + 102], 16)
    filesize = int(data[i + 54:i + 62], 16)
    name = data[i + 110:i + 110 + namesize - 1]
    if name == b"init":
        data[i + 14:i + 22] = b"%08X" % 0o100644
    end = (i + 110 + namesize + 3) & ~3
    i = (end + filesize + 3) & ~3
    if name == b"TRAILER!!!":
        break
open(sys.argv[2], "wb").write(data)
PY
expect 1 "noexec.cpio: /init is not an executable file" \
	"$M" verify --trust "$K/x509_payload.der" "$T/noexec.cpio"
ok "a non-executable /init is a failure"

head -c 4096 /dev/urandom >"$T/random"
expect 1 "neither a tar payload nor an initramfs" "$M" verify "$T/random"
mkdir -p "$T/plain/etc" && echo x >"$T/plain/etc/x"
(cd "$T/plain" && find . | cpio -o -H newc --quiet >"$T/plain.cpio")
expect 1 "plain.cpio: no ima-init/payload.tar" "$M" verify "$T/plain.cpio"
ok "not an initramfs, or one without a payload"

# ---- bare payloads ----

"${build[@]}" --format list -o "$T/list"
P=$T/list.d/payload.tar
[ -f "$P" ] && [ -f "$T/list.d/payload.sig" ] || die "build --format list layout changed: $(ls "$T/list.d")"
"$M" verify --trust "$K/x509_payload.der" "$P" >"$T/out"
grep -q "^$T/list.d/payload.sig: payload signature ok" "$T/out" || die "bare: $(cat "$T/out")"
grep -q "^payload $P (" "$T/out" || die "bare name: $(cat "$T/out")"
ok "a bare payload.tar verifies with the payload.sig beside it"

expect 1 "no trust anchor" "$M" verify "$P"
cp "$P" "$T/alone.tar"
expect 1 "no signature beside the payload \(looked for $T/alone.tar.sig and payload.sig\)" \
	"$M" verify --trust "$K/x509_payload.der" "$T/alone.tar"
"$M" verify -q --trust "$K/x509_payload.der" --sig "$T/list.d/payload.sig" "$T/alone.tar"
expect 2 "--sig is for a bare payload.tar" \
	"$M" verify --trust "$K/x509_payload.der" --sig "$T/list.d/payload.sig" "$T/initramfs.cpio"
ok "a bare payload needs --trust and a signature (--sig)"

# Re-packed payloads, re-signed so that the payload signature holds and
# only the file-level labels are wrong: evmctl ima_sign --sigfile writes
# what build writes for payload.sig.
repack() { # repack OUT PYTHON-STATEMENTS-ON-m
	python3 - "$P" "$1" "$2" <<'EOF'
import sys, tarfile
src, dst, stmt = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isfile() else None
        exec(stmt)
        if m is None:
            continue
        if data is not None:
            import io
            m.size = len(data)
            o.addfile(m, io.BytesIO(data))
        else:
            o.addfile(m)
EOF
	evmctl ima_sign --sigfile --key "$K/privkey_payload.pem" "$1" >/dev/null 2>&1
}

repack "$T/chmod.tar" 'if m.name == "etc/ima/ima-policy": m.mode = 0o600'
expect 1 "etc/ima/ima-policy: security.evm: signature does not verify" \
	"$M" verify --trust "$K/x509_payload.der" "$T/chmod.tar"
grep -q -- "-rw-------    0/0 .* etc/ima/ima-policy" "$T/out" || die "listing: $(cat "$T/out")"
grep -q "portable signature v2 .*: FAILED" "$T/out" || die "no FAILED in listing"
grep -q "1 failure$" "$T/out" || die "summary: $(cat "$T/out")"
ok "re-signed payload with a changed mode: security.evm fails, named, FAILED in the listing"

repack "$T/unsigned.tar" 'm.pax_headers.pop("SCHILY.xattr.security.ima", None) if m.name == "etc/keys/x509_evm.der" else None'
expect 1 "etc/keys/x509_evm.der: missing security.ima" \
	"$M" verify --trust "$K/x509_payload.der" "$T/unsigned.tar"
ok "a payload file without security.ima is a failure"

repack "$T/noevm.tar" 'm.pax_headers.pop("SCHILY.xattr.security.evm", None) if m.name == "etc/ima-init.conf" else None'
expect 1 "etc/ima-init.conf: missing security.evm \(the payload has an EVM certificate\)" \
	"$M" verify --trust "$K/x509_payload.der" "$T/noevm.tar"
ok "with an EVM certificate in the payload, a file without security.evm is a failure"

repack "$T/content.tar" 'data = data.replace(b"appraise func=POLICY_CHECK", b"apprXise func=POLICY_CHECK") if m.name == "etc/ima/ima-policy" else data'
expect 1 "etc/ima/ima-policy: security.ima: signature does not verify" \
	"$M" verify --trust "$K/x509_payload.der" "$T/content.tar"
grep -Eq "etc/ima/ima-policy:[0-9]+: .*apprXise" "$T/err" || die "lint: $(cat "$T/err")"
expect 1 "security.ima: signature does not verify" \
	"$M" verify --no-lint --trust "$K/x509_payload.der" "$T/content.tar"
grep -q "apprXise" "$T/err" && die "--no-lint linted"
ok "changed content: security.ima fails and the bad rule is named; --no-lint skips the lint"

repack "$T/nocfg.tar" 'data = b"ima_cert = etc/keys/missing.der\n" if m.name == "etc/ima-init.conf" else data'
expect 1 "etc/ima-init.conf names etc/keys/missing.der, which the payload lacks" \
	"$M" verify --trust "$K/x509_payload.der" "$T/nocfg.tar"
grep -q "no IMA certificate to check security.ima against: the payload has no etc/keys/missing.der" "$T/err" ||
	die "no-cert message: $(cat "$T/err")"
ok "a configuration naming a missing file is a failure"

repack "$T/badcfg.tar" 'data = b"no_such_key = 1\n" if m.name == "etc/ima-init.conf" else data'
expect 1 "etc/ima-init.conf: " "$M" verify --trust "$K/x509_payload.der" "$T/badcfg.tar"
ok "an unparsable configuration is a failure"

repack "$T/noconf.tar" 'm = None if m.name == "etc/ima-init.conf" else m'
"$M" verify -q --trust "$K/x509_payload.der" "$T/noconf.tar" 2>"$T/err"
grep -q "payload has no etc/ima-init.conf: using the default certificate and policy paths" "$T/err" ||
	die "no-config warning: $(cat "$T/err")"
ok "a payload without etc/ima-init.conf is checked with the default paths"

repack "$T/badcert.tar" 'data = b"\x30" * len(data) if m.name == "etc/keys/x509_ima.der" else data'
expect 1 "etc/keys/x509_ima.der: " "$M" verify --trust "$K/x509_payload.der" "$T/badcert.tar"
grep -q "no IMA certificate to check security.ima against" "$T/err" || die "$(cat "$T/err")"
ok "an unparsable certificate in the payload is a failure"

repack "$T/otherca.tar" 'data = open("'"$K"'/untrusted/ima-local-ca.x509", "rb").read() if m.name == "etc/keys/ca.der" else data'
expect 1 "etc/keys/x509_ima.der: not signed by etc/keys/ca.der" \
	"$M" verify --trust "$K/x509_payload.der" "$T/otherca.tar"
grep -q "etc/keys/x509_evm.der: not signed by etc/keys/ca.der" "$T/err" || die "$(cat "$T/err")"
ok "certificates that do not chain to the payload's CA are failures"

cp "$P" "$T/junk.tar"
echo junk >>"$T/junk.tar"
expect 1 "payload.sig: payload signature: signature does not verify" \
	"$M" verify --trust "$K/x509_payload.der" --sig "$T/list.d/payload.sig" "$T/junk.tar"
grep -q "junk.tar: .*garbage" "$T/err" || die "garbage: $(cat "$T/err")"
expect 1 "nonexistent.sig" "$M" verify --trust "$K/x509_payload.der" --sig "$T/nonexistent.sig" "$P"
ok "a payload with trailing garbage fails to parse; a missing --sig file is named"

python3 - "$T/initramfs.cpio" "$T/badtrust.cpio" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = 0
while True:
    namesize = int(data[i + 94:i + 102], 16)
    filesize = int(data[i + 54:i + 62], 16)
    name = data[i + 110:i + 110 + namesize - 1]
    start = (i + 110 + namesize + 3) & ~3
    if name == b"ima-init/trust.der":
        data[start:start + filesize] = b"\x30" * filesize
    i = (start + filesize + 3) & ~3
    if name == b"TRAILER!!!":
        break
open(sys.argv[2], "wb").write(data)
PY
expect 1 "ima-init/trust.der: " "$M" verify "$T/badtrust.cpio"
ok "an unparsable trust.der in the archive is named"

# ---- usage ----

expect 2 "--cert, --evm, --jobs, --exclude and --cross-mounts are for a tree" \
	"$M" verify --cert "$K/x509_ima.der" "$T/initramfs.cpio"
expect 2 "missing ARCHIVE or DIR" "$M" verify
expect 2 "only one ARCHIVE or DIR" "$M" verify "$T/initramfs.cpio" "$T/initramfs.cpio"
expect 2 "--jobs: 0 threads" "$M" verify -j 0 "$T"
expect 2 "bad option" "$M" verify --bogus "$T/initramfs.cpio"
expect 1 "no-such.der" "$M" verify --trust "$T/no-such.der" "$T/initramfs.cpio"
"$M" verify --help | grep -q "usage: ima-mkinitramfs verify" || die "--help"
ok "usage errors exit 2, missing files 1"

echo "PASS: $pass checks"
