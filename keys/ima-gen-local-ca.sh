#!/bin/sh
# Makes a local CA for IMA/EVM signing certificates, with the same file names
# as meta-integrity's ima-gen-local-ca.sh, so keys made by either work with
# both:
#   ima-local-ca.priv   private key (PEM, unencrypted: protect it)
#   ima-local-ca.x509   certificate (DER): put it in CONFIG_SYSTEM_TRUSTED_KEYS
#   ima-local-ca.pem    certificate (PEM)
#
# usage: ima-gen-local-ca.sh [--rsa] [--cn NAME] [DIR]
set -eu

alg=ec
cn="IMA/EVM certificate signing key"
while [ $# -gt 0 ]; do
	case "$1" in
	--rsa) alg=rsa; shift ;;
	--cn) cn="$2"; shift 2 ;;
	-h|--help)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	-*) echo "ima-gen-local-ca.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
dir="${1:-.}"
mkdir -p "$dir"
cd "$dir"

if [ -e ima-local-ca.priv ]; then
	echo "ima-gen-local-ca.sh: $dir/ima-local-ca.priv exists; not overwriting" >&2
	exit 1
fi

cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
cat >"$cfg" <<__EOF__
[ req ]
distinguished_name = req_distinguished_name
prompt = no
string_mask = utf8only
x509_extensions = v3_ca

[ req_distinguished_name ]
O = ima-initramfs
CN = $cn
emailAddress = ca@ima-ca

[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer
__EOF__

if [ "$alg" = rsa ]; then
	newkey="rsa:3072"
else
	newkey="ec -pkeyopt ec_paramgen_curve:prime256v1"
fi
umask 077
# shellcheck disable=SC2086
openssl req -new -x509 -utf8 -sha256 -days 3650 -batch -config "$cfg" \
	-newkey $newkey -nodes -outform DER -out ima-local-ca.x509 \
	-keyout ima-local-ca.priv
umask 022
openssl x509 -inform DER -in ima-local-ca.x509 -out ima-local-ca.pem
chmod 644 ima-local-ca.x509 ima-local-ca.pem
echo "ima-gen-local-ca.sh: CA in $dir/ima-local-ca.{priv,x509,pem}"
