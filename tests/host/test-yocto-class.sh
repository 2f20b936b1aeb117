#!/bin/bash
# shellcheck disable=SC2016 # bitbake's ${VAR} stays literal in single quotes
# The shell functions of the meta-ima-initramfs classes, run as bitbake
# runs them, against the real tools, without bitbake (it is no Debian
# package, and its metadata cannot be fetched here):
#
# * the classes are parsed the way bitbake reads them: "=", "?=", "??=",
#   ":=" and "+=" assignments in order after the local.conf values the test
#   sets, inherits followed, ${VAR} expanded in function bodies and
#   undefined variables left alone; a function that still names an
#   undefined upper-case variable, or inline python, is an error;
# * each function runs in a /bin/sh script with set -e and bitbake's
#   bbnote/bbwarn/bbfatal, with the packer in PATH as the native sysroot
#   puts it there; the image tasks also run under pseudo, bitbake's
#   fakeroot, when it is installed;
# * a sample root filesystem in a tmpfs (private mount namespace) is
#   labelled and verified; the initramfs is packed and `ima-mkinitramfs
#   verify` accepts it; the kernel configuration step merges the fragment
#   and sets the CA; and every error path says what is wrong.
#
# Every shell function of the classes must have run by the end.
set -euo pipefail

: "${MKINITRAMFS:?}" "${SRCDIR:?}"

if [ -z "${IMAINIT_TEST_NS:-}" ]; then
	exec unshare -m --propagation private env IMAINIT_TEST_NS=1 bash "$0" "$@"
fi

tmp=$(mktemp -d)
mount -t tmpfs -o size=512m tmpfs "$tmp"
trap 'cd /; umount -l "$tmp"; rmdir "$tmp"' EXIT

classes=$SRCDIR/yocto/meta-ima-initramfs/classes
fragment=$SRCDIR/yocto/meta-ima-initramfs/recipes-kernel/linux/files/ima-initramfs.cfg
keys=$SRCDIR/keys/debug

failures=0
checks=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass() {
	checks=$((checks + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass; else fail "$what"; fi
}

# ---- a bitbake-like reader for the classes -----------------------------------

declare -A V W F   # values, weak (??=) defaults, shell function bodies
declare -a FUNCS   # function names in the order read
declare -A PARSED
CONF=()            # NAME=VALUE lines, as local.conf would set them

parse_class() {
	local file=$classes/$1.bbclass line next name op value mode=top fname body
	[ -f "$file" ] || return 0 # image, cmake, ...: not this layer's
	[ -z "${PARSED[$1]:-}" ] || return 0
	PARSED[$1]=1
	while IFS= read -r line || [ -n "$line" ]; do
		case $mode in
		func)
			if [ "$line" = "}" ]; then
				F[$fname]=$body
				FUNCS+=("$fname")
				mode=top
			else
				body+=$line$'\n'
			fi
			continue
			;;
		python)
			[ "$line" != "}" ] || mode=top
			continue
			;;
		def)
			if [[ $line =~ ^[[:space:]] || -z $line ]]; then continue; fi
			mode=top
			;;
		esac
		while [[ $line == *\\ ]] && IFS= read -r next; do
			line=${line%\\}$next
		done
		if [[ $line =~ ^inherit[[:space:]]+(.*)$ ]]; then
			for name in ${BASH_REMATCH[1]}; do parse_class "$name"; done
		elif [[ $line =~ ^python[[:space:]] ]]; then
			mode=python
		elif [[ $line =~ ^([a-z_][a-z0-9_]*)[[:space:]]*\(\)[[:space:]]*\{$ ]]; then
			fname=${BASH_REMATCH[1]}
			body=
			mode=func
		elif [[ $line =~ ^def[[:space:]] ]]; then
			mode=def
		elif [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*(\?\?=|\?=|:=|\+=|=)[[:space:]]*\"(.*)\"[[:space:]]*$ ]]; then
			name=${BASH_REMATCH[1]}
			op=${BASH_REMATCH[2]}
			value=${BASH_REMATCH[3]}
			case $op in
			=) V[$name]=$value ;;
			:=) V[$name]=$(expand "$value") ;;
			\?=) [ -n "${V[$name]+set}" ] || V[$name]=$value ;;
			\?\?=) W[$name]=$value ;;
			+=) V[$name]="${V[$name]:-} $value" ;;
			esac
		fi
		# Overrides (":append"), flags ("[depends]") and python are
		# bitbake's business: none of it reaches the shell functions.
	done <"$file"
}

# load CLASS...: the datastore of a recipe inheriting CLASS, with CONF.
load() {
	local kv name
	V=() W=() F=() PARSED=() FUNCS=()
	for kv in "${CONF[@]}"; do
		V[${kv%%=*}]=${kv#*=}
	done
	for name in "$@"; do parse_class "$name"; done
	for name in "${!W[@]}"; do
		[ -n "${V[$name]+set}" ] || V[$name]=${W[$name]}
	done
}

# Expands ${NAME} as bitbake does: defined names recursively, the rest
# (shell parameters such as ${line#x}, unknown names) left as they are.
expand() {
	local s=$1 out='' name
	while [[ $s == *'${'* ]]; do
		out+=${s%%'${'*}
		s=${s#*'${'}
		if [[ $s =~ ^([a-zA-Z0-9_+./~:-]+)\}(.*)$ ]] && [ -n "${V[${BASH_REMATCH[1]}]+set}" ]; then
			name=${BASH_REMATCH[1]}
			s=${BASH_REMATCH[2]}
			out+=$(expand "${V[$name]}")
		else
			out+='${'
		fi
	done
	printf '%s' "$out$s"
}

called=$tmp/called
: >"$called"

# script FILE CALL: a bitbake-style run script (/bin/sh, set -e, the
# logging functions of logging.bbclass) with every function of the loaded
# classes, then CALL. Each function logs its name to $called.
script() {
	local out=$1 call=$2 name
	{
		echo '#!/bin/sh'
		echo 'set -e'
		echo 'bbnote() { echo "NOTE: $*"; }'
		echo 'bbwarn() { echo "WARNING: $*" >&2; }'
		echo 'bberror() { echo "ERROR: $*" >&2; }'
		echo 'bbfatal() { echo "ERROR: $*" >&2; exit 1; }'
		for name in "${FUNCS[@]}"; do
			printf '%s () {\n\techo %s >>%s\n%s\n}\n' "$name" "$name" "$called" "$(expand "${F[$name]}")"
		done
		echo "$call"
	} >"$out"
}

pseudo_lib=$(dpkg -L libpseudo 2>/dev/null | grep '/libpseudo\.so$' || true)
# Runs a command the way bitbake runs a fakeroot task, with one pseudo
# database per scenario ($1).
under_pseudo() {
	local state=$tmp/pseudo-$1
	shift
	mkdir -p "$state"
	env PSEUDO_PREFIX=/usr PSEUDO_LOCALSTATEDIR="$state" PSEUDO_NOSYMLINKEXP=1 \
		PSEUDO_DISABLED=0 LD_PRELOAD="$pseudo_lib" "$@"
}

# run NAME EXPECTED_STATUS CALL [PSEUDO_STATE]: runs CALL in a script of
# the loaded classes; output in $tmp/NAME.out and $tmp/NAME.err.
run() {
	local name=$1 want=$2 call=$3 state=${4:-} got=0
	script "$tmp/$name.sh" "$call"
	if [ -n "$state" ]; then
		(cd "$tmp" && under_pseudo "$state" /bin/sh "$tmp/$name.sh") >"$tmp/$name.out" 2>"$tmp/$name.err" || got=$?
	else
		(cd "$tmp" && /bin/sh "$tmp/$name.sh") >"$tmp/$name.out" 2>"$tmp/$name.err" || got=$?
	fi
	if [ "$got" -ne "$want" ]; then
		fail "$name: exit $got, expected $want"
		sed 's/^/  | /' "$tmp/$name.out" "$tmp/$name.err" >&2
		return 1
	fi
	pass
}

# expect_error NAME MESSAGE CALL: CALL fails with MESSAGE on stderr.
expect_error() {
	local name=$1 message=$2 call=$3
	run "$name" 1 "$call" || return 0
	if grep -qF -- "$message" "$tmp/$name.err"; then
		pass
	else
		fail "$name: stderr lacks '$message'"
		sed 's/^/  | /' "$tmp/$name.err" >&2
	fi
}

# ---- the native sysroot, as ima-mkinitramfs-native stages it ---------------

native=$tmp/sysroot-native
mkdir -p "$native/usr/bin" "$native/usr/share/ima-initramfs/policies"
cp "$MKINITRAMFS" "$native/usr/bin/ima-mkinitramfs"
for p in "$SRCDIR"/policies/*; do
	case ${p##*/} in *.md | README*) ;; *) cp "$p" "$native/usr/share/ima-initramfs/policies/" ;; esac
done
export PATH=$native/usr/bin:$PATH
policy=$native/usr/share/ima-initramfs/policies/appraise-exec-signed-policy

# bitbake.conf's values for what the functions use.
BASE_CONF=(
	"TMPDIR=$tmp/tmpdir"
	"sysconfdir=/etc"
	"libexecdir=/usr/libexec"
	"nonarch_base_libdir=/lib"
	"STAGING_DATADIR_NATIVE=$native/usr/share"
)

# ---- 1. labelling a root filesystem (ima-initramfs.bbclass) -----------------

make_rootfs() {
	local r=$1
	mkdir -p "$r"/{bin,sbin,etc,usr/bin,usr/lib/python,usr/share/doc,var/cache,dev}
	cp /bin/busybox "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	ln -s ../bin/busybox "$r/sbin/init"
	printf '/dev/root / ext4 defaults 0 1\n' >"$r/etc/fstab"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root::1::::::\n' >"$r/etc/shadow"
	chmod 600 "$r/etc/shadow"
	printf '#!/bin/sh\necho hello\n' >"$r/usr/bin/hello.sh"
	chmod 755 "$r/usr/bin/hello.sh"
	printf 'owned by a user\n' >"$r/usr/bin/user-file"
	chmod 4755 "$r/usr/bin/user-file"
	head -c 4096 /dev/urandom >"$r/usr/lib/libfoo.so.1"
	: >"$r/usr/share/doc/empty"
	printf 'spaces\n' >"$r/usr/share/doc/a file.txt"
	printf 'compiled\n' >"$r/usr/lib/python/x.pyc"
	printf 'cache\n' >"$r/var/cache/state"
	mkfifo "$r/var/cache/fifo"
	mknod "$r/dev/null" c 1 3
}

rootfs_conf() {
	CONF=("${BASE_CONF[@]}"
		"IMAGE_ROOTFS=$1"
		"IMA_EVM_KEY_DIR=$keys"
		"IMA_INITRAMFS_EVM_PRIVKEY=$keys/privkey_evm.pem"
		"IMA_INITRAMFS_EVM_X509=$keys/x509_evm.der"
		"IMA_INITRAMFS_ALLOW_DEBUG_KEYS=1"
		"IMA_INITRAMFS_SIGN_EXCLUDE=*.pyc var/cache")
}

hex() { od -An -tx1 -v | tr -d ' \n'; }
# Prints the xattr's value in hex; fails when the file has none.
xattr_hex() { # FILE NAME [PSEUDO_STATE]
	local value=$tmp/xattr-value
	if [ -n "${3:-}" ]; then
		under_pseudo "$3" getfattr --only-values -n "$2" "$1" >"$value" 2>/dev/null || return 1
	else
		getfattr --only-values -n "$2" "$1" >"$value" 2>/dev/null || return 1
	fi
	[ -s "$value" ] && hex <"$value"
}

rootfs=$tmp/rootfs
make_rootfs "$rootfs"
chown 1000:1000 "$rootfs/usr/bin/user-file"
rootfs_conf "$rootfs"
load ima-initramfs
if run sign-rootfs 0 ima_initramfs_sign_rootfs; then
	check "the policy is installed as /etc/ima/ima-policy" cmp -s "$policy" "$rootfs/etc/ima/ima-policy"
	for f in bin/busybox etc/ima/ima-policy etc/shadow usr/bin/hello.sh usr/bin/user-file \
		usr/lib/libfoo.so.1 usr/share/doc/empty "usr/share/doc/a file.txt"; do
		check "$f has security.ima" xattr_hex "$rootfs/$f" security.ima >/dev/null
		check "$f has security.evm" xattr_hex "$rootfs/$f" security.evm >/dev/null
	done
	for f in usr/lib/python/x.pyc var/cache/state; do
		if xattr_hex "$rootfs/$f" security.ima >/dev/null; then
			fail "$f is excluded by IMA_INITRAMFS_SIGN_EXCLUDE but labelled"
		else
			pass
		fi
	done
	# The oracle: verify by hand, then see it catch a changed file.
	verify_rootfs=(ima-mkinitramfs verify --evm --quiet --cert "$keys/x509_ima.der"
		--cert "$keys/x509_evm.der" --exclude '*.pyc' --exclude var/cache "$rootfs")
	check "ima-mkinitramfs verify --evm accepts the labelled rootfs" "${verify_rootfs[@]}"
	cp -a "$rootfs/usr/bin/hello.sh" "$tmp/hello.sh.orig"
	echo tampered >>"$rootfs/usr/bin/hello.sh"
	if "${verify_rootfs[@]}" >/dev/null 2>&1; then
		fail "verify accepts a file changed after labelling"
	else
		pass
	fi
	cp -a "$tmp/hello.sh.orig" "$rootfs/usr/bin/hello.sh"
	# do_image may run again on the same rootfs without do_rootfs.
	run sign-rootfs-again 0 ima_initramfs_sign_rootfs &&
		check "the rootfs labelled twice verifies" "${verify_rootfs[@]}"
fi

# The errors name the variable that is wrong.
CONF=("${CONF[@]/#IMA_EVM_KEY_DIR=*/IMA_EVM_KEY_DIR_UNUSED=x}")
load ima-initramfs
expect_error sign-no-key-dir "IMA_EVM_PRIVKEY is unset: set IMA_EVM_KEY_DIR in local.conf" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
printf 'appraise func=NO_SUCH_HOOK\n' >"$tmp/bad-policy"
CONF+=("IMA_EVM_POLICY=$tmp/bad-policy")
load ima-initramfs
expect_error sign-bad-policy "IMA_EVM_POLICY: $tmp/bad-policy is not a valid IMA policy" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_EVM_POLICY=$tmp/no-such-policy")
load ima-initramfs
expect_error sign-missing-policy "IMA_EVM_POLICY: $tmp/no-such-policy: no such file" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_EVM_X509=$keys/x509_evm.der")
load ima-initramfs
expect_error sign-cert-mismatch "IMA/EVM: labelling $rootfs failed" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_INITRAMFS_ALLOW_DEBUG_KEYS=0")
load ima-initramfs
expect_error sign-debug-key "refusing a debug key" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_INITRAMFS_ALLOW_DEBUG_KEYS=yes")
load ima-initramfs
expect_error sign-debug-flag "IMA_INITRAMFS_ALLOW_DEBUG_KEYS: 'yes' is neither 0 nor 1" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_INITRAMFS_PASS_FILE=$tmp/no-such-pass")
load ima-initramfs
expect_error sign-pass-file "IMA_INITRAMFS_PASS_FILE: $tmp/no-such-pass: no such file" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_INITRAMFS_VERIFY_ROOTFS=yes")
load ima-initramfs
expect_error sign-verify-flag "IMA_INITRAMFS_VERIFY_ROOTFS: 'yes' is neither 0 nor 1" ima_initramfs_sign_rootfs

rootfs_conf "$rootfs"
CONF+=("IMA_INITRAMFS_ROOTFS_POLICY=")
load ima-initramfs
rm -f "$rootfs/etc/ima/ima-policy"
if run sign-no-policy 0 ima_initramfs_sign_rootfs; then
	check "IMA_INITRAMFS_ROOTFS_POLICY = \"\" installs no policy" test ! -e "$rootfs/etc/ima/ima-policy"
fi

# ---- 2. the same under pseudo, into an ext4 image, as do_image does --------

if [ -n "$pseudo_lib" ] && command -v mke2fs >/dev/null && command -v debugfs >/dev/null; then
	prootfs=$tmp/pseudo-rootfs
	make_rootfs "$prootfs"
	# pseudo keeps owners in its database: the labels must cover the
	# owner the image will have, not the one on disk.
	under_pseudo rootfs chown 1000:1000 "$prootfs/usr/bin/user-file"
	rootfs_conf "$prootfs"
	load ima-initramfs
	if run sign-rootfs-pseudo 0 ima_initramfs_sign_rootfs rootfs; then
		if xattr_hex "$prootfs/bin/busybox" security.ima >/dev/null; then
			fail "under pseudo the labels landed on disk, not in pseudo's database"
		else
			pass
		fi
		check "under pseudo, verify --evm accepts the labels pseudo holds" \
			under_pseudo rootfs ima-mkinitramfs verify --evm --quiet --cert "$keys/x509_ima.der" \
			--cert "$keys/x509_evm.der" --exclude '*.pyc' --exclude var/cache "$prootfs"
		if under_pseudo rootfs mke2fs -q -F -t ext4 -d "$prootfs" "$tmp/rootfs.ext4" 32M >"$tmp/mke2fs.log" 2>&1; then
			for f in bin/busybox usr/bin/user-file etc/ima/ima-policy; do
				for x in security.ima security.evm; do
					rm -f "$tmp/ea"
					debugfs -R "ea_get -f $tmp/ea /$f $x" "$tmp/rootfs.ext4" >/dev/null 2>&1 || true
					if [ -s "$tmp/ea" ] &&
						[ "$(hex <"$tmp/ea")" = "$(xattr_hex "$prootfs/$f" "$x" rootfs)" ]; then
						pass
					else
						fail "the ext4 image lacks $x of /$f as pseudo recorded it"
					fi
				done
			done
			if debugfs -R "stat /usr/bin/user-file" "$tmp/rootfs.ext4" 2>/dev/null | grep -qE 'User: +1000 +Group: +1000'; then
				pass
			else
				fail "the ext4 image lost the owner that security.evm covers"
			fi
		else
			fail "mke2fs -d under pseudo failed: $(cat "$tmp/mke2fs.log")"
		fi
	fi
else
	echo "SKIP: labelling under pseudo (needs the pseudo and e2fsprogs packages)" >&2
fi

# ---- 3. module order (ima-initramfs-image.bbclass) ---------------------------

initroot=$tmp/initrootfs
moddir=$initroot/lib/modules/6.1.0-test
# Modules as the kernel-module packages install them, with the modules.dep
# depmod writes when they are installed: each line lists every module a
# module needs, directly or not. The files are stand-ins: the packer does
# not look inside modules.
make_modules() {
	rm -rf "$initroot/lib/modules"
	mkdir -p "$moddir/kernel/drivers/virtio" "$moddir/kernel/drivers/block" "$moddir/kernel/fs/ext4" \
		"$moddir/kernel/fs/jbd2" "$moddir/kernel/lib"
	cat >"$moddir/modules.dep" <<'EOF'
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/fs/ext4/ext4.ko: kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko kernel/lib/crc16.ko
kernel/fs/jbd2/jbd2.ko:
kernel/fs/mbcache.ko:
kernel/lib/crc16.ko:
kernel/drivers/block/loop-a.ko: kernel/drivers/block/loop-b.ko
kernel/drivers/block/loop-b.ko: kernel/drivers/block/loop-a.ko
EOF
	for m in drivers/block/virtio_blk drivers/virtio/virtio drivers/virtio/virtio_ring fs/ext4/ext4 \
		fs/jbd2/jbd2 fs/mbcache lib/crc16; do
		# An ELF header is all the packer checks of a module.
		{ printf '\177ELF\002\001\001'; head -c 57 /dev/zero; printf 'not a real module: %s\n' "$m"; } \
			>"$moddir/kernel/$m.ko"
	done
}
make_modules
# The load order for "virtio-blk ext4": dependencies first.
module_order="virtio_ring virtio virtio_blk mbcache jbd2 crc16 ext4"

modules_conf() {
	CONF=("${BASE_CONF[@]}" "IMAGE_ROOTFS=$initroot" "IMA_INITRAMFS_MODULES=$1")
}
modules_conf "virtio-blk ext4"
load ima-initramfs-image
if run module-order 0 "ima_initramfs_module_files $tmp/modules.list"; then
	sed -e "s|^$moddir/.*/||" -e 's|\.ko$||' "$tmp/modules.list" >"$tmp/modules.got"
	# shellcheck disable=SC2086 # one module a line
	printf '%s\n' $module_order >"$tmp/modules.want"
	if diff -u "$tmp/modules.want" "$tmp/modules.got" >"$tmp/modules.diff"; then
		pass
	else
		fail "module load order (- expected, + got):"
		sed 's/^/  /' "$tmp/modules.diff" >&2
	fi
fi
modules_conf ""
load ima-initramfs-image
run no-modules 0 "ima_initramfs_module_files $tmp/modules.none" &&
	check "no IMA_INITRAMFS_MODULES: an empty list" test ! -s "$tmp/modules.none"
modules_conf "virtio_blk nosuch"
load ima-initramfs-image
expect_error module-unknown "nosuch is not in $moddir/modules.dep" "ima_initramfs_module_files $tmp/m"
modules_conf "loop_a"
load ima-initramfs-image
expect_error module-loop "dependency loop in $moddir/modules.dep" "ima_initramfs_module_files $tmp/m"
mkdir -p "$initroot/lib/modules/6.2.0-other"
cp "$moddir/modules.dep" "$initroot/lib/modules/6.2.0-other/"
modules_conf "ext4"
load ima-initramfs-image
expect_error module-two-kernels "modules of more than one kernel version" "ima_initramfs_module_files $tmp/m"
rm -rf "$initroot/lib/modules"
expect_error module-no-dep "IMA_INITRAMFS_MODULES: no modules.dep below $initroot/lib/modules" \
	"ima_initramfs_module_files $tmp/m"

# ---- 4. packing the initramfs (ima-initramfs-image.bbclass) ------------------

# The static /init: the one this build made, or busybox-static as a
# stand-in (the packer only insists on a static binary).
init_bin=${BUILDDIR:+$BUILDDIR/init/ima-init.stripped}
if [ -z "$init_bin" ] || [ ! -f "$init_bin" ]; then
	init_bin=/bin/busybox
	echo "note: no ima-init in the build tree; packing busybox-static as /init" >&2
fi
mkdir -p "$initroot/usr/libexec/ima-initramfs"
cp "$init_bin" "$initroot/usr/libexec/ima-initramfs/ima-init"
mkdir -p "$tmp/extra"
printf 'an extra payload file\n' >"$tmp/extra/hello.txt"
deploy=$tmp/deploy
image_name=ima-initramfs-image-qemux86-64-20250101000000
link_name=ima-initramfs-image-qemux86-64

pack_conf() {
	CONF=("${BASE_CONF[@]}"
		"IMAGE_ROOTFS=$initroot"
		"IMGDEPLOYDIR=$deploy"
		"IMAGE_NAME=$image_name"
		"IMAGE_LINK_NAME=$link_name"
		"IMA_EVM_KEY_DIR=$keys"
		"IMA_INITRAMFS_EVM_PRIVKEY=$keys/privkey_evm.pem"
		"IMA_INITRAMFS_EVM_X509=$keys/x509_evm.der"
		"IMA_INITRAMFS_PAYLOAD_KEY=$keys/privkey_payload.pem"
		"IMA_INITRAMFS_PAYLOAD_X509=$keys/x509_payload.der"
		"IMA_INITRAMFS_ALLOW_DEBUG_KEYS=1"
		"IMA_INITRAMFS_FAILURE_ACTION=reboot"
		"IMA_INITRAMFS_ROOT_WAIT=12"
		"IMA_INITRAMFS_EXTRA_FILES=$tmp/extra/hello.txt:etc/hello.txt"
		"IMA_INITRAMFS_MODULES=virtio-blk ext4")
}
make_modules
pack_state=
[ -z "$pseudo_lib" ] || pack_state=pack # do_image_* are fakeroot tasks

rm -rf "$deploy"
mkdir -p "$deploy"
pack_conf
load ima-initramfs-image
if run pack 0 ima_initramfs_image_cmd "$pack_state"; then
	cpio=$deploy/$image_name.cpio
	check "the initramfs is $image_name.cpio" test -f "$cpio"
	# kernel.bbclass's copy_initramfs looks for ${INITRAMFS_IMAGE_NAME}.cpio.
	check "$link_name.cpio links to it" test "$(readlink "$deploy/$link_name.cpio")" = "$image_name.cpio"
	if ima-mkinitramfs verify --quiet --trust "$keys/x509_payload.der" "$deploy/$link_name.cpio" >"$tmp/verify.log" 2>&1; then
		pass
	else
		fail "ima-mkinitramfs verify rejects the initramfs: $(cat "$tmp/verify.log")"
	fi
	if ima-mkinitramfs unpack --quiet --trust "$keys/x509_payload.der" "$cpio" "$tmp/payload" >"$tmp/unpack.log" 2>&1; then
		conf=$tmp/payload/etc/ima-init.conf
		check "ima-init.conf: failure_action = reboot" grep -qx 'failure_action = reboot' "$conf"
		check "ima-init.conf: root_wait = 12" grep -qx 'root_wait = 12' "$conf"
		check "the payload policy is IMA_EVM_POLICY" cmp -s "$policy" "$tmp/payload/etc/ima/ima-policy"
		check "the payload IMA certificate is IMA_EVM_X509" cmp -s "$keys/x509_ima.der" "$tmp/payload/etc/keys/x509_ima.der"
		check "the payload EVM certificate is IMA_INITRAMFS_EVM_X509" cmp -s "$keys/x509_evm.der" "$tmp/payload/etc/keys/x509_evm.der"
		openssl x509 -in "$keys/ima-local-ca.pem" -outform DER -out "$tmp/ca.der"
		check "the payload CA is IMA_EVM_ROOT_CA" cmp -s "$tmp/ca.der" "$tmp/payload/etc/keys/ca.der"
		check "IMA_INITRAMFS_EXTRA_FILES is in the payload" cmp -s "$tmp/extra/hello.txt" "$tmp/payload/etc/hello.txt"
		check "the extra file carries security.ima" xattr_hex "$tmp/payload/etc/hello.txt" security.ima >/dev/null
		# The modules, dependencies first, as ima-init loads them.
		got_order=$(sed -n 's|^module = lib/modules/\(.*\)\.ko$|\1|p' "$conf" | tr '\n' ' ')
		if [ "$got_order" = "$module_order " ]; then
			pass
		else
			fail "ima-init.conf loads modules in the order '$got_order', expected '$module_order'"
		fi
		for m in $module_order; do
			check "lib/modules/$m.ko carries security.ima" xattr_hex "$tmp/payload/lib/modules/$m.ko" security.ima >/dev/null
		done
	else
		fail "ima-mkinitramfs unpack: $(cat "$tmp/unpack.log")"
	fi
fi

# The switches reach ima-init.conf.
rm -rf "$deploy" "$tmp/payload"
mkdir -p "$deploy"
pack_conf
CONF+=("IMA_INITRAMFS_ALLOW_UNTRUSTED_KEYRING=1" "IMA_INITRAMFS_LOCK_KEYRINGS=0"
	"IMA_INITRAMFS_REQUIRE_SIGNED_INIT=1" "IMA_INITRAMFS_COMPRESS=zstd" "IMA_INITRAMFS_EVM_MODE=0")
load ima-initramfs-image
if run pack-switches 0 ima_initramfs_image_cmd "$pack_state"; then
	check "IMA_INITRAMFS_COMPRESS=zstd writes $link_name.cpio.zst" test -f "$deploy/$link_name.cpio.zst"
	check "the .cpio.zst is zstd" zstd -q -t "$deploy/$image_name.cpio.zst"
	if ima-mkinitramfs unpack --quiet --trust "$keys/x509_payload.der" "$deploy/$image_name.cpio.zst" "$tmp/payload" >"$tmp/unpack.log" 2>&1; then
		conf=$tmp/payload/etc/ima-init.conf
		check "ima-init.conf: allow_untrusted_keyring = yes" grep -qx 'allow_untrusted_keyring = yes' "$conf"
		check "ima-init.conf: lock_keyrings = no" grep -qx 'lock_keyrings = no' "$conf"
		check "ima-init.conf: require_signed_init = yes" grep -qx 'require_signed_init = yes' "$conf"
		check "ima-init.conf: evm_mode = 0" grep -qxE 'evm_mode = (0|0x0)' "$conf"
	else
		fail "ima-mkinitramfs unpack of the zstd initramfs: $(cat "$tmp/unpack.log")"
	fi
fi

pack_conf
CONF+=("IMA_INITRAMFS_COMPRESS=lz4")
load ima-initramfs-image
expect_error pack-compress "IMA_INITRAMFS_COMPRESS: 'lz4' is not one of none, gzip, xz, zstd" ima_initramfs_image_cmd

pack_conf
CONF+=("IMA_INITRAMFS_LOCK_KEYRINGS=yes")
load ima-initramfs-image
expect_error pack-flag "IMA_INITRAMFS_LOCK_KEYRINGS: 'yes' is neither 0 nor 1" ima_initramfs_image_cmd

pack_conf
CONF+=("IMA_INITRAMFS_INIT=$tmp/no-such-init")
load ima-initramfs-image
expect_error pack-no-init "IMA_INITRAMFS_INIT: $tmp/no-such-init: no such file" ima_initramfs_image_cmd

pack_conf
CONF+=("IMA_EVM_ROOT_CA=")
load ima-initramfs-image
expect_error pack-no-ca "IMA_EVM_ROOT_CA is empty" ima_initramfs_image_cmd

pack_conf
CONF+=("IMA_INITRAMFS_PAYLOAD_X509=$keys/x509_ima.der")
load ima-initramfs-image
expect_error pack-payload-mismatch "IMA/EVM: ima-mkinitramfs build failed" ima_initramfs_image_cmd

# ---- 5. kernel configuration (kernel-ima-initramfs.bbclass) ------------------

kbuild=$tmp/kbuild
ksrc=${KERNEL_SRC:-/var/cache/ima-initramfs/linux-source-6.1}
kernel_conf() {
	CONF=("${BASE_CONF[@]}"
		"B=$kbuild"
		"S=$ksrc"
		"IMA_INITRAMFS_KERNEL_FRAGMENT=$fragment"
		"IMA_EVM_ROOT_CA=$keys/ima-local-ca.x509"
		"KERNEL_CONFIG_COMMAND=:")
	if [ -x "$ksrc/scripts/kconfig/merge_config.sh" ]; then
		CONF+=("IMA_INITRAMFS_KERNEL_MERGE=1")
	else
		CONF+=("IMA_INITRAMFS_KERNEL_MERGE=0")
	fi
}
# A BSP configuration: what ima-init needs, IMA off, no trusted keys.
base_config() {
	rm -rf "$kbuild"
	mkdir -p "$kbuild"
	cat >"$kbuild/.config" <<'EOF'
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_TMPFS_XATTR=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
# CONFIG_IMA is not set
CONFIG_SYSTEM_TRUSTED_KEYS=""
EOF
	# Without merge_config.sh (no kernel source here) the fragment goes in
	# as kernel-yocto would have merged it.
	[ -x "$ksrc/scripts/kconfig/merge_config.sh" ] || {
		sed -i '/^# CONFIG_IMA is not set/d' "$kbuild/.config"
		cat "$fragment" >>"$kbuild/.config"
	}
}

base_config
kernel_conf
load kernel-ima-initramfs
if run kernel-config 0 ima_initramfs_kernel_config; then
	config=$kbuild/.config
	missing=0
	while IFS= read -r line; do
		grep -qxF -- "$line" "$config" || { fail "merged .config lacks $line"; missing=1; }
	done < <(sed -n '/^CONFIG_[A-Za-z0-9_]*=/p' "$fragment")
	[ "$missing" = 1 ] || pass
	check "CONFIG_SYSTEM_TRUSTED_KEYS names the CA copy, once" \
		test "$(grep -c '^CONFIG_SYSTEM_TRUSTED_KEYS=' "$config")" = 1
	check "CONFIG_SYSTEM_TRUSTED_KEYS=\"$kbuild/ima-initramfs-ca.pem\"" \
		grep -qxF "CONFIG_SYSTEM_TRUSTED_KEYS=\"$kbuild/ima-initramfs-ca.pem\"" "$config"
	check "# CONFIG_IMA is not set is gone" test -z "$(grep '^# CONFIG_IMA is not set' "$config" || true)"
	# The DER CA (ima-local-ca.x509) became the PEM extract-cert reads.
	if openssl x509 -in "$kbuild/ima-initramfs-ca.pem" -outform DER 2>/dev/null | cmp -s - "$keys/ima-local-ca.x509"; then
		pass
	else
		fail "$kbuild/ima-initramfs-ca.pem is not IMA_EVM_ROOT_CA in PEM"
	fi
fi

# A PEM CA is taken as is.
base_config
kernel_conf
CONF+=("IMA_EVM_ROOT_CA=$keys/ima-local-ca.pem")
load kernel-ima-initramfs
run kernel-config-pem 0 ima_initramfs_kernel_config &&
	check "a PEM IMA_EVM_ROOT_CA is copied" cmp -s <(openssl x509 -in "$keys/ima-local-ca.pem") "$kbuild/ima-initramfs-ca.pem"

# Kconfig dropping an option (unmet dependency) fails the build, or warns.
base_config
kernel_conf
CONF+=('KERNEL_CONFIG_COMMAND=sed -i -e /^CONFIG_IMA_APPRAISE=y/d ${B}/.config')
load kernel-ima-initramfs
expect_error kernel-dropped "the kernel configuration lacks: CONFIG_IMA_APPRAISE=y" ima_initramfs_kernel_config
base_config
CONF+=("IMA_INITRAMFS_KERNEL_CHECK=warn")
load kernel-ima-initramfs
if run kernel-dropped-warn 0 ima_initramfs_kernel_config; then
	check "IMA_INITRAMFS_KERNEL_CHECK=warn warns" grep -qF "WARNING: ima-initramfs: the kernel configuration lacks: CONFIG_IMA_APPRAISE=y" "$tmp/kernel-dropped-warn.err"
fi

# What ima-init needs beyond the fragment is checked too.
base_config
sed -i '/^CONFIG_TMPFS_XATTR=y/d' "$kbuild/.config"
kernel_conf
load kernel-ima-initramfs
expect_error kernel-no-tmpfs-xattr "lacks: CONFIG_TMPFS_XATTR=y" ima_initramfs_kernel_config

# "# CONFIG_X is not set" in a fragment is checked as well: here Kconfig
# turns the option back on (another option selects it).
cp "$fragment" "$tmp/fragment.cfg"
printf '# CONFIG_IMA_TEST_UNSET is not set\n' >>"$tmp/fragment.cfg"
base_config
[ -x "$ksrc/scripts/kconfig/merge_config.sh" ] || echo '# CONFIG_IMA_TEST_UNSET is not set' >>"$kbuild/.config"
kernel_conf
CONF+=("IMA_INITRAMFS_KERNEL_FRAGMENT=$tmp/fragment.cfg"
	'KERNEL_CONFIG_COMMAND=echo CONFIG_IMA_TEST_UNSET=y >>${B}/.config')
load kernel-ima-initramfs
expect_error kernel-unset "lacks: '# CONFIG_IMA_TEST_UNSET is not set'" ima_initramfs_kernel_config

base_config
printf 'not a certificate\n' >"$tmp/garbage-ca"
kernel_conf
CONF+=("IMA_EVM_ROOT_CA=$tmp/garbage-ca")
load kernel-ima-initramfs
expect_error kernel-bad-ca "IMA_EVM_ROOT_CA: $tmp/garbage-ca is not an X.509 certificate in PEM or DER" ima_initramfs_kernel_config

base_config
kernel_conf
CONF=("${CONF[@]/#IMA_EVM_ROOT_CA=*/IMA_EVM_ROOT_CA_UNUSED=x}")
load kernel-ima-initramfs
expect_error kernel-no-ca "IMA_EVM_ROOT_CA is unset: set IMA_EVM_KEY_DIR in local.conf" ima_initramfs_kernel_config

rm -rf "$kbuild"
mkdir -p "$kbuild"
kernel_conf
load kernel-ima-initramfs
expect_error kernel-no-config "no $kbuild/.config to add the ima-initramfs options to" ima_initramfs_kernel_config

base_config
kernel_conf
CONF+=("IMA_INITRAMFS_KERNEL_FRAGMENT=$tmp/no-such.cfg")
load kernel-ima-initramfs
expect_error kernel-no-fragment "IMA_INITRAMFS_KERNEL_FRAGMENT: $tmp/no-such.cfg: no such file" ima_initramfs_kernel_config

# ---- every shell function ran, and names only variables bitbake defines ----

# With every variable the scenarios above set, as one image build would.
rootfs_conf "$rootfs"
full=("${CONF[@]}")
pack_conf
full+=("${CONF[@]}")
kernel_conf
full+=("${CONF[@]}")
for class in ima-initramfs-base ima-initramfs ima-initramfs-image kernel-ima-initramfs; do
	CONF=("${full[@]}")
	load "$class"
	[ "${#FUNCS[@]}" -gt 0 ] || fail "$class.bbclass: no shell function found"
	for name in "${FUNCS[@]}"; do
		if grep -qx "$name" "$called"; then pass; else fail "$class.bbclass: $name never ran"; fi
		# Left unexpanded, an upper-case name is a variable that nobody
		# sets (a typo, or one bitbake.conf lacks); inline python would
		# run at parse time with nothing here to check it.
		left=$(expand "${F[$name]}" | grep -oE '\$\{@|\$\{[A-Z][A-Za-z0-9_]*\}' | sort -u | tr '\n' ' ' || true)
		if [ -z "$left" ]; then pass; else fail "$class.bbclass: $name uses undefined $left"; fi
	done
done

echo "$checks passed, $failures failed"
[ "$failures" -eq 0 ]
