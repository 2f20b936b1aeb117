# Builds the static library of a target recipe that ima-init links
# statically. OE-Core builds autotools libraries with --disable-static
# (DISABLE_STATIC, conf/distro/include/no-static-libs.inc); with 'ima' in
# DISTRO_FEATURES this layer's bbappends inherit this class, so that the
# library's -staticdev package (and the sysroot) has the .a. It asks for
# --enable-static rather than dropping the option, since a configure script
# may default to no static library. Native and nativesdk builds are left
# alone: ima-mkinitramfs-native links dynamically.
python () {
    if not bb.utils.contains('DISTRO_FEATURES', 'ima', True, False, d):
        return
    for variant in ('native', 'nativesdk', 'cross', 'crosssdk'):
        if bb.data.inherits_class(variant, d):
            return
    d.setVar('DISABLE_STATIC', ' --enable-static')
}
