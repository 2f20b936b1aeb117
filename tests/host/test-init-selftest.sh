#!/bin/bash
# The crypto of the static /init (trimmed OpenSSL provider) against
# signatures made by evmctl: ima-init-selftest is linked exactly like /init.
set -euo pipefail
selftest="$BUILDDIR/init/ima-init-selftest"
if [ ! -x "$selftest" ]; then
	echo "SKIP: $selftest not built (IMAINIT_BUILD_INIT=OFF)"
	exit 0
fi
keys="$SRCDIR/keys/debug"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/fixtures" "$tmp/mnt"
head -c 200000 /dev/urandom >"$tmp/fixtures/data"
cp "$tmp/fixtures/data" "$tmp/fixtures/data.rsa"
openssl x509 -inform der -in "$keys/x509_ima.der" -pubkey -noout >"$tmp/fixtures/pub.pem"
evmctl ima_sign --sigfile -a sha256 -k "$keys/privkey_ima.pem" "$tmp/fixtures/data" >/dev/null 2>&1
evmctl ima_sign --sigfile -a sha256 -k "$keys/rsa/privkey_ima.pem" "$tmp/fixtures/data.rsa" >/dev/null 2>&1

# Add a file with security.ima and a portable security.evm, on a tmpfs in a
# private mount namespace (security.* xattrs need a filesystem that keeps
# them; the host's own filesystems are not touched). tmpfs has no
# FS_IOC_GETVERSION: evmctl needs the generation given.
unshare -m bash -euo pipefail -c '
	mount -t tmpfs none "$1/mnt"
	cp "$1"/fixtures/* "$1/mnt/"
	head -c 5000 /dev/urandom >"$1/mnt/evmfile"
	chmod 0644 "$1/mnt/evmfile"
	evmctl ima_sign -a sha256 -k "$2/privkey_ima.pem" "$1/mnt/evmfile" >/dev/null 2>&1
	evmctl sign --portable --generation 0 -a sha256 -k "$2/privkey_evm.pem" "$1/mnt/evmfile" >/dev/null 2>&1
	"$3" "$2" "$1/mnt"
' _ "$tmp" "$keys" "$selftest" | tee "$tmp/out"
grep -q "^ok: portable security.evm verifies" "$tmp/out"
grep -q "^0 failure(s)" "$tmp/out"
