#include "keyrings.h"

#include "keyctl.h"
#include "log.h"

#include "imainit/io.h"
#include "imainit/kernel_errors.h"
#include "imainit/proc_keys.h"

#include <algorithm>
#include <cerrno>

namespace imainit::boot
{

namespace
{

struct Keyring {
	int32_t serial = 0;
	std::string name;
	bool trusted = false; // kernel-owned, restricted by the kernel
};

Result<std::vector<ProcKey>> read_proc_keys()
{
	auto text = read_file("/proc/keys", 4u << 20);
	if (!text) {
		if (text.error().err == ENOENT)
			return fail("/proc/keys is missing: the kernel lacks CONFIG_KEYS", ENOENT);
		return std::unexpected(text.error());
	}
	return parse_proc_keys(std::string(text->begin(), text->end()));
}

Result<Keyring> pick_keyring(const BootContext &ctx, const std::string &trusted_name,
			     const std::string &plain_name)
{
	auto keys = read_proc_keys();
	if (!keys)
		return std::unexpected(keys.error());
	if (auto k = find_keyring(*keys, trusted_name)) {
		// A name starting with '.' cannot be created from userspace
		// (keyctl.c refuses it with EPERM): this keyring is the
		// kernel's, and integrity_init_keyring() gave it its
		// restriction when it made it.
		if (k->uid != 0)
			return fail(trusted_name + " keyring is not owned by uid 0");
		uint32_t setattr = (key_perm_setattr << key_perm_pos_shift) |
				   (key_perm_setattr << key_perm_usr_shift) |
				   (key_perm_setattr << key_perm_grp_shift) |
				   (key_perm_setattr << key_perm_oth_shift);
		log_info("keyring " + trusted_name + " (" +
			 hex32(static_cast<uint32_t>(k->serial)) +
			 ") is the kernel's: it accepts only certificates signed by a builtin (or "
			 "secondary) trusted key; permissions " +
			 hex32(k->perm) + " (" + describe_key_perm(k->perm) + ")");
		if (k->perm & setattr)
			log_warn("keyring " + trusted_name +
				 " grants setattr: its permissions can be changed");
		return Keyring{ k->serial, trusted_name, true };
	}
	if (!ctx.config.allow_untrusted_keyring)
		return fail("the kernel has no " + trusted_name +
			    " keyring (CONFIG_INTEGRITY_TRUSTED_KEYRING is off) and the "
			    "configuration does not allow the unprotected " +
			    plain_name + " keyring (allow_untrusted_keyring)");

	// As "keyctl newring _ima @u" and evmctl import do.
	int32_t id = sys_add_key("keyring", plain_name.c_str(), nullptr, 0, KEY_SPEC_USER_KEYRING);
	if (id < 0)
		return fail_errno("cannot create keyring " + plain_name + " in the user keyring");
	log_warn("WARNING: the kernel has no " + trusted_name + " keyring; using " + plain_name +
		 " (" + hex32(static_cast<uint32_t>(id)) +
		 "), which is NOT kernel-protected: any certificate can be added to it" +
		 (ctx.config.lock_keyrings ? " until it is locked" : ""));
	return Keyring{ id, plain_name, false };
}

// The serials linked in a keyring (KEYCTL_READ on a keyring returns an
// array of key_serial_t).
Result<std::vector<int32_t>> keyring_members(int32_t ring)
{
	std::vector<int32_t> ids(64);
	for (;;) {
		long n = sys_keyctl(KEYCTL_READ, static_cast<unsigned long>(ring),
				    reinterpret_cast<unsigned long>(ids.data()),
				    ids.size() * sizeof(int32_t));
		if (n < 0)
			return fail_errno("cannot read keyring " +
					  hex32(static_cast<uint32_t>(ring)));
		size_t count = static_cast<size_t>(n) / sizeof(int32_t);
		if (count <= ids.size()) {
			ids.resize(count);
			return ids;
		}
		ids.resize(count);
	}
}

Status lock_keyring(const Keyring &ring)
{
	// KEYCTL_RESTRICT_KEYRING with a NULL type installs
	// restrict_link_reject(): no key can be linked any more, and a
	// restriction, once set, cannot be replaced (EEXIST).
	if (sys_keyctl(KEYCTL_RESTRICT_KEYRING, static_cast<unsigned long>(ring.serial), 0, 0) !=
	    0) {
		int e = errno;
		return fail("cannot lock keyring " + ring.name + ": " +
				explain_restrict_keyring_error(e),
			    e);
	}
	// Prove it: an addition must now be refused.
	static const char probe[] = "x";
	int32_t id = sys_add_key("user", "ima-init:lock-check", probe, 1, ring.serial);
	if (id >= 0) {
		sys_keyctl(KEYCTL_UNLINK, static_cast<unsigned long>(id),
			   static_cast<unsigned long>(ring.serial));
		return fail("keyring " + ring.name + " still accepts keys after being locked");
	}
	if (errno != EPERM && errno != EACCES)
		return fail_errno("checking that keyring " + ring.name + " is locked");
	log_info("keyring " + ring.name + " locked: it refuses further keys");
	return {};
}

Status load_cert(const BootContext &ctx, const PublicKey &cert, const std::string &trusted_name,
		 const std::string &plain_name)
{
	auto ring = pick_keyring(ctx, trusted_name, plain_name);
	if (!ring)
		return std::unexpected(ring.error());
	std::string file = cert.path.substr(cert.path.rfind('/') + 1);
	const Bytes &der = cert.der();
	int32_t id = sys_add_key("asymmetric", nullptr, der.data(), der.size(), ring->serial);
	if (id < 0) {
		int e = errno;
		return fail("loading " + file + " (" + cert.subject() + ") into " + ring->name +
				": " + explain_add_key_error(e, ring->trusted),
			    e);
	}

	// Check that the key is where it belongs, and say what the kernel
	// calls it.
	auto members = keyring_members(ring->serial);
	if (!members)
		return std::unexpected(members.error());
	if (std::find(members->begin(), members->end(), id) == members->end())
		return fail("certificate " + file + " was added as key " +
			    hex32(static_cast<uint32_t>(id)) + " but is not in " + ring->name);
	std::string desc;
	if (auto keys = read_proc_keys(); keys)
		if (auto k = find_key(*keys, id))
			desc = " \"" + k->description + "\"";
	log_info(file + " loaded into " + ring->name + " as key " +
		 hex32(static_cast<uint32_t>(id)) + desc);

	if (!ring->trusted && ctx.config.lock_keyrings)
		return lock_keyring(*ring);
	if (!ring->trusted)
		log_warn("WARNING: keyring " + ring->name +
			 " is left open (lock_keyrings = no): any root process can add keys");
	return {};
}

} // namespace

Status load_keys(BootContext &ctx)
{
	if (!ctx.ima_cert && !ctx.evm_cert) {
		log_info("no certificates configured: the kernel's keyrings are left as they are");
		return {};
	}
	if (ctx.ima_cert)
		if (auto r = load_cert(ctx, *ctx.ima_cert, ".ima", "_ima"); !r)
			return r;
	if (ctx.evm_cert)
		if (auto r = load_cert(ctx, *ctx.evm_cert, ".evm", "_evm"); !r)
			return r;
	return {};
}

} // namespace imainit::boot
