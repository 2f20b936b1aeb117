#!/bin/sh
# Regenerates keys/debug/: the DEBUG key set used by the tests and the demo
# boot. Its private keys are public (they are in this repository): the
# packer refuses them unless given --allow-debug-keys.
#
#   ima-local-ca.*                 EC P-256 CA (CONFIG_SYSTEM_TRUSTED_KEYS of test kernels)
#   privkey_ima.pem x509_ima.der   EC IMA signing key, CA-signed
#   privkey_evm.pem x509_evm.der   EC EVM signing key, CA-signed
#   privkey_payload.pem x509_payload.der   payload signing key (trust anchor)
#   rsa/                            the same CA signs RSA-2048 ima/evm keys
#   untrusted/                      a second CA and an IMA cert it signed
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="${1:-$here/debug}"
rm -rf "$out"
mkdir -p "$out"
"$here/ima-gen-local-ca.sh" --cn "DEBUG ima-initramfs CA - NOT FOR PRODUCTION" "$out"
ca="$out/ima-local-ca.pem"
cakey="$out/ima-local-ca.priv"
for n in ima evm payload; do
	"$here/ima-gen-CA-signed.sh" --name "$n" "$ca" "$cakey" "$out"
done
for n in ima evm; do
	"$here/ima-gen-CA-signed.sh" --rsa --name "$n" "$ca" "$cakey" "$out/rsa"
done
"$here/ima-gen-local-ca.sh" --cn "DEBUG untrusted CA - NOT FOR PRODUCTION" "$out/untrusted"
"$here/ima-gen-CA-signed.sh" --name ima "$out/untrusted/ima-local-ca.pem" \
	"$out/untrusted/ima-local-ca.priv" "$out/untrusted"
# The kernel build embeds the CA (CONFIG_SYSTEM_TRUSTED_KEYS takes PEM).
cat >"$out/README" <<__EOF__
DEBUG KEYS - NOT FOR PRODUCTION. The private keys here are published.
Made by keys/make-debug-keys.sh. ima-mkinitramfs refuses them unless
--allow-debug-keys is given.
__EOF__
