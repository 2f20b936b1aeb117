#!/bin/sh
# Makes an IMA/EVM signing key and a certificate signed by a local CA, with
# the same file names as meta-integrity's ima-gen-CA-signed.sh:
#   privkey_<NAME>.pem  private key (PEM, unencrypted: protect it)
#   x509_<NAME>.der     certificate (DER): digitalSignature, codeSigning,
#                       subjectKeyIdentifier=hash (the kernel and evmctl take
#                       the signature key id from it), authorityKeyIdentifier
#
# usage: ima-gen-CA-signed.sh [--rsa] [--name NAME] CA.pem CA.priv [DIR]
#        NAME defaults to "ima"; use --name evm for a separate EVM key.
set -eu

alg=ec
name=ima
while [ $# -gt 0 ]; do
	case "$1" in
	--rsa) alg=rsa; shift ;;
	--name) name="$2"; shift 2 ;;
	-h|--help)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 0 ;;
	-*) echo "ima-gen-CA-signed.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -lt 2 ]; then
	echo "usage: ima-gen-CA-signed.sh [--rsa] [--name NAME] CA.pem CA.priv [DIR]" >&2
	exit 2
fi
ca=$(realpath "$1")
cakey=$(realpath "$2")
dir="${3:-.}"
mkdir -p "$dir"
cd "$dir"

if [ -e "privkey_$name.pem" ]; then
	echo "ima-gen-CA-signed.sh: $dir/privkey_$name.pem exists; not overwriting" >&2
	exit 1
fi

cfg=$(mktemp)
csr=$(mktemp)
serial=$(mktemp)
trap 'rm -f "$cfg" "$csr" "$serial"' EXIT
cat >"$cfg" <<__EOF__
[ req ]
distinguished_name = req_distinguished_name
prompt = no
string_mask = utf8only
x509_extensions = v3_usr

[ req_distinguished_name ]
O = ima-initramfs
CN = $(echo "$name" | tr a-z A-Z) signing key
emailAddress = $name@ima-ca

[ v3_usr ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
__EOF__

if [ "$alg" = rsa ]; then
	newkey="rsa:2048"
else
	newkey="ec -pkeyopt ec_paramgen_curve:prime256v1"
fi
umask 077
# shellcheck disable=SC2086
openssl req -new -nodes -utf8 -sha256 -batch -config "$cfg" \
	-newkey $newkey -out "$csr" -keyout "privkey_$name.pem"
umask 022
openssl rand -hex 16 >"$serial"
openssl x509 -req -in "$csr" -days 3650 -sha256 -extfile "$cfg" -extensions v3_usr \
	-CA "$ca" -CAkey "$cakey" -CAserial "$serial" -outform DER -out "x509_$name.der"
echo "ima-gen-CA-signed.sh: key and certificate in $dir/privkey_$name.pem, $dir/x509_$name.der"
