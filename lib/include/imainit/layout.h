// Where things live: in the initramfs the kernel unpacks, and in the payload.
#pragma once

namespace imainit::layout {

// cpio (what the kernel unpacks into its rootfs)
inline constexpr const char *payload_tar = "ima-init/payload.tar";
inline constexpr const char *payload_sig = "ima-init/payload.sig";
inline constexpr const char *trust_der = "ima-init/trust.der";

// payload (paths relative to the tmpfs it is extracted into)
inline constexpr const char *config = "etc/ima-init.conf";
inline constexpr const char *policy = "etc/ima/ima-policy";
inline constexpr const char *ima_cert = "etc/keys/x509_ima.der";
inline constexpr const char *evm_cert = "etc/keys/x509_evm.der";
inline constexpr const char *ca_cert = "etc/keys/ca.der";
inline constexpr const char *modules_dir = "lib/modules";
inline constexpr const char *firmware_dir = "lib/firmware";

// The payload is always signed with this algorithm.
inline constexpr const char *payload_hash = "sha256";

} // namespace imainit::layout
