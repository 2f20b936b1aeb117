# The IMA/EVM configuration ima-init needs and the CA in
# CONFIG_SYSTEM_TRUSTED_KEYS, with 'ima' in DISTRO_FEATURES. For another
# kernel recipe, a bbappend with the same line does the same.
inherit ${@bb.utils.contains('DISTRO_FEATURES', 'ima', 'kernel-ima-initramfs', '', d)}
