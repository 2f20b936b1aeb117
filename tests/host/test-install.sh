#!/bin/bash
# shellcheck disable=SC2016 # bitbake's ${VAR} stays literal in single quotes
# `cmake --install` into a DESTDIR, with the prefix the Yocto cmake class
# uses, installs exactly the expected files: the packer, the stripped static
# ima-init under libexec, the policies, the key scripts and the two man
# pages; and each file lands in the package the Yocto recipe means for it,
# with none left over (Yocto's installed-vs-shipped QA error). The man pages
# document every option the programs accept, and md2man.awk refuses the
# malformed markdown it does not render.
set -euo pipefail

: "${MKINITRAMFS:?}" "${SRCDIR:?}" "${BUILDDIR:?}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failures=0
checks=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass() {
	checks=$((checks + 1))
}

recipe_dir=$SRCDIR/yocto/meta-ima-initramfs/recipes-security/ima-initramfs
recipe=$(ls "$recipe_dir"/ima-initramfs_*.bb)
version=$(sed -n -E 's/^project\(ima-initramfs VERSION ([0-9.]+).*/\1/p' "$SRCDIR/CMakeLists.txt")

# --- install ---------------------------------------------------------------

dest=$tmp/dest
if ! DESTDIR=$dest cmake --install "$BUILDDIR" --prefix /usr >"$tmp/install.log" 2>&1; then
	sed 's/^/  /' "$tmp/install.log" >&2
	echo "FAIL: cmake --install (is the build complete?)" >&2
	exit 1
fi

# The build has an ima-init when the install script includes init/'s (a
# stale init/cmake_install.cmake stays behind when IMAINIT_BUILD_INIT goes
# off) and that one installs a program under ima-initramfs/.
have_init=0
if grep -qF "$BUILDDIR/init/cmake_install.cmake" "$BUILDDIR/cmake_install.cmake" &&
	grep -q '/ima-initramfs" TYPE PROGRAM' "$BUILDDIR/init/cmake_install.cmake"; then
	have_init=1
fi

expected=$tmp/expected
{
	echo usr/bin/ima-mkinitramfs
	echo usr/bin/ima-gen-local-ca.sh
	echo usr/bin/ima-gen-CA-signed.sh
	[ "$have_init" = 0 ] || echo usr/libexec/ima-initramfs/ima-init
	for p in "$SRCDIR"/policies/*; do
		case ${p##*/} in *.md | README*) continue ;; esac
		echo "usr/share/ima-initramfs/policies/${p##*/}"
	done
	echo usr/share/man/man1/ima-mkinitramfs.1
	echo usr/share/man/man8/ima-init.8
} | LC_ALL=C sort >"$expected"
(cd "$dest" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$tmp/installed"
if diff -u "$expected" "$tmp/installed" >"$tmp/diff"; then
	pass
else
	fail "installed files differ from the expected list (- expected, + installed):"
	sed 's/^/  /' "$tmp/diff" >&2
fi
[ "$have_init" = 1 ] || echo "note: this build has no ima-init target; its install is not checked" >&2

for f in usr/bin/ima-mkinitramfs usr/bin/ima-gen-local-ca.sh usr/bin/ima-gen-CA-signed.sh \
	usr/libexec/ima-initramfs/ima-init; do
	[ -e "$dest/$f" ] || continue
	mode=$(stat -c %a "$dest/$f")
	if [ "$mode" = 755 ]; then pass; else fail "$f: mode $mode, expected 755"; fi
done

if [ "$have_init" = 1 ] && [ -f "$dest/usr/libexec/ima-initramfs/ima-init" ]; then
	init=$dest/usr/libexec/ima-initramfs/ima-init
	# Static: no program interpreter, no shared libraries.
	if readelf -lW "$init" | grep -q 'INTERP' || readelf -dW "$init" 2>/dev/null | grep -q 'NEEDED'; then
		fail "installed ima-init is not statically linked"
	else
		pass
	fi
	if readelf -SW "$init" | grep -qE '\.symtab|\.debug_'; then
		fail "installed ima-init is not stripped"
	else
		pass
	fi
fi

# The installed packer runs and reports the project version.
got=$("$dest/usr/bin/ima-mkinitramfs" --version)
if [ "$got" = "ima-mkinitramfs $version" ]; then pass; else fail "--version: '$got', expected 'ima-mkinitramfs $version'"; fi

# The recipe's version is the project's.
pv=${recipe##*_}
pv=${pv%.bb}
if [ "$pv" = "$version" ]; then pass; else fail "recipe $recipe has version $pv, CMakeLists.txt $version"; fi

# --- Yocto packaging --------------------------------------------------------
# Yocto's defaults (meta/conf/bitbake.conf) for what the recipe does not set.

declare -A yv=(
	[prefix]=/usr [exec_prefix]=/usr [base_prefix]="" [bindir]=/usr/bin [sbindir]=/usr/sbin
	[libexecdir]=/usr/libexec [libdir]=/usr/lib [base_libdir]=/lib [base_bindir]=/bin
	[base_sbindir]=/sbin [includedir]=/usr/include [datadir]=/usr/share [mandir]=/usr/share/man
	[docdir]=/usr/share/doc [infodir]=/usr/share/info [sysconfdir]=/etc [sharedstatedir]=/com
	[localstatedir]=/var [SOLIBS]='.so.*' [SOLIBSDEV]=.so [PN]=ima-initramfs [BPN]=ima-initramfs
)
yexpand() {
	local s=$1 name
	while [[ $s =~ \$\{([A-Za-z_]+)\} ]]; do
		name=${BASH_REMATCH[1]}
		[ -n "${yv[$name]+set}" ] || { echo "unknown variable \${$name}" >&2; return 1; }
		s=${s//"\${$name}"/${yv[$name]}}
	done
	printf '%s\n' "$s"
}
# The value of a one-line VAR = "..." assignment in the recipe, or $2.
recipe_var() {
	local line
	line=$(grep -E "^$1 = \"" "$recipe" | tail -n1 || true)
	if [ -n "$line" ]; then
		line=${line#*= \"}
		printf '%s\n' "${line%\"}"
	else
		printf '%s\n' "$2"
	fi
}

declare -A files
files[ima-initramfs-src]=""
files[ima-initramfs-dbg]="/usr/lib/debug /usr/lib/debug-static /usr/src/debug"
files[ima-initramfs-staticdev]='${libdir}/*.a ${base_libdir}/*.a ${libdir}/${BPN}/*.a'
files[ima-initramfs-dev]='${includedir} ${base_libdir}/lib*${SOLIBSDEV} ${libdir}/lib*${SOLIBSDEV} ${libdir}/*.la ${libdir}/*.o ${libdir}/pkgconfig ${datadir}/pkgconfig ${datadir}/aclocal ${base_libdir}/*.o ${libdir}/${BPN}/*.la ${base_libdir}/*.la ${libdir}/cmake ${datadir}/cmake'
files[ima-initramfs-doc]='${docdir} ${mandir} ${infodir} ${datadir}/gtk-doc ${datadir}/gnome/help'
files[ima-initramfs-locale]='${datadir}/locale'
files[ima-initramfs]='${bindir}/* ${sbindir}/* ${libexecdir}/* ${libdir}/lib*${SOLIBS} ${sysconfdir} ${sharedstatedir} ${localstatedir} ${base_bindir}/* ${base_sbindir}/* ${base_libdir}/*${SOLIBS} ${datadir}/${BPN} ${libdir}/${BPN}/*'
before_pn=$(recipe_var PACKAGE_BEFORE_PN "")
packages="ima-initramfs-src ima-initramfs-dbg ima-initramfs-staticdev ima-initramfs-dev ima-initramfs-doc ima-initramfs-locale $before_pn ima-initramfs"
for pkg in $before_pn; do
	files[$pkg]=$(recipe_var "FILES:$pkg" "")
	[ -n "${files[$pkg]}" ] || fail "recipe sets no FILES:$pkg for a package of PACKAGE_BEFORE_PN"
done
pn_files=$(recipe_var 'FILES:${PN}' "")
[ -z "$pn_files" ] || files[ima-initramfs]=$pn_files

# Like package.bbclass: a pattern is globbed ('*' stays within one path
# component), and a match that is a directory takes everything below it.
# The first package in PACKAGES order that matches a file gets it.
owner() {
	local f=/$1 pkg pattern prefix n i
	local -a parts fparts
	local - # restores the shell options on return
	set -f
	for pkg in $packages; do
		for pattern in ${files[$pkg]}; do
			pattern=$(yexpand "$pattern") || return 1
			IFS=/ read -ra parts <<<"${pattern#/}"
			n=${#parts[@]}
			IFS=/ read -ra fparts <<<"${f#/}"
			[ "${#fparts[@]}" -ge "$n" ] || continue
			prefix=
			for ((i = 0; i < n; i++)); do prefix+=/${fparts[i]}; done
			# shellcheck disable=SC2053 # glob match on purpose
			if [[ $prefix == $pattern ]]; then
				echo "$pkg"
				return 0
			fi
		done
	done
	echo "(none)"
}
declare -A want_pkg=(
	[usr/bin/ima-mkinitramfs]=ima-mkinitramfs
	[usr/bin/ima-gen-local-ca.sh]=ima-initramfs-keys
	[usr/bin/ima-gen-CA-signed.sh]=ima-initramfs-keys
	[usr/libexec/ima-initramfs/ima-init]=ima-init
	[usr/share/man/man1/ima-mkinitramfs.1]=ima-initramfs-doc
	[usr/share/man/man8/ima-init.8]=ima-initramfs-doc
)
while IFS= read -r f; do
	got=$(owner "$f")
	want=${want_pkg[$f]:-}
	case $f in usr/share/ima-initramfs/policies/*) want=ima-initramfs-policies ;; esac
	if [ -z "$want" ]; then
		fail "$f: no package expected for it"
	elif [ "$got" = "$want" ]; then
		pass
	else
		fail "$f goes to package $got, expected $want"
	fi
done <"$tmp/installed"

# The image classes find what the recipe installs where the recipe puts it.
classes=$SRCDIR/yocto/meta-ima-initramfs/classes
if grep -qF 'IMA_INITRAMFS_INIT ?= "${IMAGE_ROOTFS}${libexecdir}/ima-initramfs/ima-init"' "$classes/ima-initramfs-image.bbclass"; then
	pass
else
	fail "ima-initramfs-image.bbclass: IMA_INITRAMFS_INIT does not name \${libexecdir}/ima-initramfs/ima-init"
fi
policy=$(sed -n -E 's|^IMA_EVM_POLICY \?= "\$\{STAGING_DATADIR_NATIVE\}/(.*)"$|usr/share/\1|p' "$classes/ima-initramfs-base.bbclass")
if [ -n "$policy" ] && [ -f "$dest/$policy" ]; then pass; else fail "default IMA_EVM_POLICY ($policy) is not installed"; fi

# --- man pages ---------------------------------------------------------------

man1=$dest/usr/share/man/man1/ima-mkinitramfs.1
man8=$dest/usr/share/man/man8/ima-init.8
for page in "$man1" "$man8"; do
	if groff -man -ww -z "$page" 2>"$tmp/groff"; then
		if [ -s "$tmp/groff" ]; then
			fail "${page##*/}: groff warnings:"
			sed 's/^/  /' "$tmp/groff" >&2
		else
			pass
		fi
	else
		fail "${page##*/}: groff failed"
	fi
	if grep -q "$BUILDDIR\|$SRCDIR" "$page"; then fail "${page##*/} contains a build path"; else pass; fi
done

# Every long option a command takes is in the man page, and every option
# the man page names is one the program takes: neither may go stale.
# (troff writes '-' as '\-'.)
man_text=$(sed 's/\\-/-/g' "$man1")
help_options=$tmp/help-options
: >"$help_options"
for cmd in build sign verify unpack lint-policy; do
	"$MKINITRAMFS" "$cmd" --help >"$tmp/help" 2>&1 || fail "ima-mkinitramfs $cmd --help failed"
	grep -oE -- '--[a-z][a-z0-9-]+' "$tmp/help" | sort -u >"$tmp/opts"
	cat "$tmp/opts" >>"$help_options"
	while IFS= read -r opt; do
		if grep -qF -- "$opt" <<<"$man_text"; then pass; else fail "ima-mkinitramfs.1 lacks $cmd $opt"; fi
	done <"$tmp/opts"
done
echo --version >>"$help_options"
grep -oE -- '--[a-z][a-z0-9-]+' <<<"$man_text" | sort -u >"$tmp/man-opts"
while IFS= read -r opt; do
	if grep -qxF -- "$opt" "$help_options"; then pass; else fail "ima-mkinitramfs.1 names $opt, which no command takes"; fi
done <"$tmp/man-opts"

# Every key of the configuration the packer writes is in ima-init.8.
keys=$SRCDIR/keys/debug
"$MKINITRAMFS" build --no-init --allow-debug-keys \
	--policy "$SRCDIR/policies/appraise-exec-signed-policy" \
	--ima-cert "$keys/x509_ima.der" --evm-cert "$keys/x509_evm.der" --ca "$keys/ima-local-ca.pem" \
	--key "$keys/privkey_ima.pem" --evm-key "$keys/privkey_evm.pem" \
	--payload-key "$keys/privkey_payload.pem" --payload-cert "$keys/x509_payload.der" \
	--failure-action reboot --root-wait 7 --allow-untrusted-keyring --no-lock-keyrings \
	--require-signed-init -o "$tmp/payload.cpio" >"$tmp/build.log" 2>&1 ||
	{ sed 's/^/  /' "$tmp/build.log" >&2; fail "ima-mkinitramfs build --no-init failed"; }
if [ -f "$tmp/payload.cpio" ] &&
	"$MKINITRAMFS" unpack --quiet "$tmp/payload.cpio" "$tmp/payload" >"$tmp/unpack.log" 2>&1; then
	man8_text=$(sed 's/\\-/-/g' "$man8")
	n=0
	while IFS= read -r key; do
		n=$((n + 1))
		if grep -qF -- "$key = " <<<"$man8_text"; then pass; else fail "ima-init.8 lacks the configuration key '$key'"; fi
	done < <(sed -n -E 's/^([a-z_]+) = .*/\1/p' "$tmp/payload/etc/ima-init.conf" | sort -u)
	[ "$n" -gt 5 ] || fail "etc/ima-init.conf has only $n keys"
else
	sed 's/^/  /' "$tmp/unpack.log" >&2 || true
	fail "cannot unpack the payload to read its configuration keys"
fi

# --- md2man.awk refuses what it cannot render ---------------------------------

md2man() {
	awk -v version=1 -f "$SRCDIR/man/md2man.awk" "$1" >"$tmp/out.man" 2>"$tmp/md2man.err"
}
expect_md2man_error() {
	local name=$1 message=$2
	if md2man "$tmp/$name.md"; then
		fail "md2man accepted $name"
	elif grep -qF -- "$message" "$tmp/md2man.err"; then
		pass
	else
		fail "md2man on $name: expected '$message', got: $(cat "$tmp/md2man.err")"
	fi
}
printf 'no title\n' >"$tmp/title.md"
expect_md2man_error title "title.md:1: first line must be '# name(N) -- summary'"
printf '# x(1) -- y\n\ntext with `code\n' >"$tmp/code.md"
expect_md2man_error code "code.md:3: unterminated \`code\`"
printf '# x(1) -- y\n\n**bold\n' >"$tmp/bold.md"
expect_md2man_error bold "bold.md:3: unterminated **bold**"
printf '# x(1) -- y\n\nan *italic\n' >"$tmp/italic.md"
expect_md2man_error italic "italic.md:3: unterminated *italic*"
printf '# x(1) -- y\n\n```\nverbatim\n' >"$tmp/fence.md"
expect_md2man_error fence "unterminated \`\`\` block"
printf '# x(1) -- y\n\n* term:\n  text\n\n  more\n' >"$tmp/gap.md"
expect_md2man_error gap "gap.md:6: indented text after a blank line"
printf '# x(1) -- y\n\n* term:\nunindented\n' >"$tmp/indent.md"
expect_md2man_error indent "indent.md:4: text right after a list item must be indented by two spaces"
: >"$tmp/empty.md"
expect_md2man_error empty "empty input"

# And renders what it accepts: escapes, definitions, verbatim blocks.
printf '# x(1) -- y\n\n## options\n\n* `--a-b` *N*:\n  a .dot \\ back\n\n```\n.x -y\n```\n' >"$tmp/ok.md"
if md2man "$tmp/ok.md"; then
	for want in '.TH "X" "1" "" "ima-initramfs 1" "User Commands"' '.SH OPTIONS' '.TP' \
		'\fB\-\-a\-b\fR \fIN\fR' 'a .dot \e back' '\&.x \-y'; do
		if grep -qxF -- "$want" "$tmp/out.man"; then pass; else fail "md2man output lacks the line '$want'"; fi
	done
else
	fail "md2man rejected valid input: $(cat "$tmp/md2man.err")"
fi

echo "$checks passed, $failures failed"
[ "$failures" -eq 0 ]
