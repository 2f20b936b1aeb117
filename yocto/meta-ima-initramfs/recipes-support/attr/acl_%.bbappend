# ima-init links this library statically.
inherit ima-initramfs-static-libs
