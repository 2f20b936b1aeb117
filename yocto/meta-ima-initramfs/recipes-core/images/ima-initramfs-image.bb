SUMMARY = "Built-in initramfs of ima-init"
DESCRIPTION = "The static ima-init as /init and its signed payload: IMA policy, \
certificates and the kernel modules of IMA_INITRAMFS_MODULES. For the kernel to \
bundle: INITRAMFS_IMAGE = \"ima-initramfs-image\" and INITRAMFS_IMAGE_BUNDLE = \"1\"."
LICENSE = "MIT"

inherit ima-initramfs-image
