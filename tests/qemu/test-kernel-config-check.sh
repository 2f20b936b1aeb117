#!/bin/bash
# build-kernel's configuration check: the fragments as they are configure
# cleanly, and an option whose dependencies are missing (Kconfig drops it
# without a word) is caught and named. No kernel is built.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

out=$("$QEMU_DIR/build-kernel" --check-config 2>&1) || {
	echo "$out" >&2
	fail "the fragments do not configure cleanly"
}
grep -q "every requested option is set" <<<"$out" || fail "no confirmation: $out"
echo "ok: platform.config + ima-initramfs.cfg configure cleanly"

# INTEGRITY_PLATFORM_KEYRING depends on SYSTEM_BLACKLIST_KEYRING, which
# nothing enables.
echo "CONFIG_INTEGRITY_PLATFORM_KEYRING=y" >"$WORK/extra.config"
if out=$("$QEMU_DIR/build-kernel" --check-config "$WORK/extra.config" 2>&1); then
	fail "a dropped option went unnoticed: $out"
fi
grep -q "requested CONFIG_INTEGRITY_PLATFORM_KEYRING=y, got: absent" <<<"$out" ||
	fail "the dropped option is not named: $out"
grep -q "1 requested option(s) did not end up in .config" <<<"$out" || fail "no summary: $out"
echo "ok: a dropped option is named:"
grep "requested CONFIG_" <<<"$out" | sed 's/^/    | /'

# Kernel variants: variant-NAME.config is merged last and its requests
# replace the earlier fragments' ("# CONFIG_IMA is not set" after
# ima-initramfs.cfg's CONFIG_IMA=y).
for v in "$QEMU_DIR"/variant-*.config; do
	name=$(basename "$v" .config)
	name=${name#variant-}
	out=$("$QEMU_DIR/build-kernel" --variant "$name" --check-config 2>&1) || {
		echo "$out" >&2
		fail "kernel variant $name does not configure cleanly"
	}
	echo "ok: kernel variant $name configures cleanly"
	if [ "$name" = no-ima ]; then
		grep -qx "# CONFIG_SECURITYFS is not set" "$IMAINIT_CACHE/config-check/build/.config" ||
			fail "kernel variant no-ima has SECURITYFS"
		echo "ok: kernel variant no-ima has no securityfs"
	fi
done
if out=$("$QEMU_DIR/build-kernel" --variant no-such-variant 2>&1); then
	fail "an unknown variant was accepted: $out"
fi
grep -q "no kernel variant 'no-such-variant'" <<<"$out" || fail "unknown variant not named: $out"
echo "ok: an unknown variant is refused"
echo PASS
