#include "file_signatures.h"

#include "imainit/digsig.h"
#include "imainit/evm.h"
#include "imainit/xattr.h"

#include <sys/stat.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

constexpr uint32_t evm_init_x509 = 0x2; // security/integrity/evm/evm.h

} // namespace

bool evm_x509_enabled(const BootContext &ctx)
{
	return ctx.config_known && (ctx.config.evm_mode & evm_init_x509) != 0;
}

Status check_ima_signature(int fd, const std::string &name, const PublicKey &ima_cert)
{
	auto value = get_xattr(fd, "security.ima");
	if (!value)
		return wrap(value.error(), name);
	if (!*value)
		return fail(name + " has no security.ima signature");
	auto sig = parse_signature_v2(**value);
	if (!sig)
		return wrap(sig.error(), name + ": security.ima");
	if (sig->type != SigType::ima_digsig)
		return fail(name + ": security.ima is not an IMA signature (type 0x03)");
	if (::lseek(fd, 0, SEEK_SET) != 0)
		return fail_errno(name + ": lseek");
	auto digest = digest_fd(sig->algo, fd);
	if (!digest)
		return wrap(digest.error(), name);
	const PublicKey *keys[] = { &ima_cert };
	if (auto r = verify_digest(**value, *digest, keys); !r)
		return wrap(r.error(), name + ": security.ima");
	return {};
}

Status check_evm_signature(int fd, const std::string &name, const PublicKey &evm_cert,
			   std::string *note)
{
	auto value = get_xattr(fd, "security.evm");
	if (!value)
		return wrap(value.error(), name);
	if (!*value)
		return fail(name +
			    " has no security.evm, which the kernel requires once EVM is on");
	const Bytes &v = **value;
	if (!v.empty() && v[0] != static_cast<uint8_t>(SigType::evm_portable)) {
		if (note)
			*note = name + ": security.evm is bound to the inode (type " +
				std::to_string(v[0]) + "): only the kernel can check it";
		return {};
	}
	auto xattrs = read_evm_xattrs(fd);
	if (!xattrs)
		return wrap(xattrs.error(), name);
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return fail_errno(name + ": fstat");
	FileMeta meta{ st.st_uid, st.st_gid, st.st_mode };
	const PublicKey *keys[] = { &evm_cert };
	if (auto r = evm_portable_verify(v, *xattrs, meta, keys); !r)
		return wrap(r.error(), name);
	return {};
}

} // namespace imainit::boot
