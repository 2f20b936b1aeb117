// ima-init: the /init of a built-in initramfs. It verifies the signed
// payload, loads the IMA/EVM certificates and the signed IMA policy, sets
// the EVM mode, mounts the real root and hands over to its init. Every
// failure is fatal (failure.h): nothing unappraised runs after us by
// accident.
#include "context.h"
#include "crypto_setup.h"
#include "evm_mode.h"
#include "failure.h"
#include "kernel_cmdline.h"
#include "keyrings.h"
#include "log.h"
#include "modules.h"
#include "mounts.h"
#include "payload_load.h"
#include "policy_load.h"
#include "prechecks.h"
#include "rootdev.h"
#include "switch_root.h"

#include <cstdio>
#include <unistd.h>

using namespace imainit;
using namespace imainit::boot;

namespace
{

void check(const BootContext &ctx, std::string_view step, Status s)
{
	if (!s)
		fail_boot(step, s.error(), ctx.failure_action());
}

} // namespace

int main(int argc, char **argv, char **envp)
{
	if (::getpid() != 1) {
		std::fprintf(stderr, "ima-init: this is the initramfs /init and runs only as "
				     "PID 1; it mounts, loads keys and empties /\n");
		return 1;
	}
	BootContext ctx;

	// 1. Kernel filesystems, console, log.
	auto mounted = mount_kernel_filesystems();
	// A kernel without securityfs (built without IMA) stops the boot only
	// once the signed configuration is read (step 3): with its failure
	// action, not the default.
	auto securityfs = mounted ? mount_securityfs() : Status{};
	setup_console();
	log_open();
#ifdef IMAINIT_DEBUG_BUILD
	log_err("DEBUG BUILD: a failure starts a rescue shell; not for production");
#endif
	log_info("ima-init " IMAINIT_VERSION " starting");
	check(ctx, "mounts", mounted);
	check(ctx, "crypto", setup_crypto());

	// 2. The kernel command line: where the root is, nothing more.
	auto cmdline = read_kernel_cmdline();
	if (!cmdline)
		fail_boot("cmdline", cmdline.error(), ctx.failure_action());
	ctx.cmdline = std::move(*cmdline);

	// 3. The payload: verified in memory, extracted from that buffer,
	// its configuration read.
	check(ctx, "payload", load_payload(ctx));
	check(ctx, "securityfs", securityfs);

	// 4. What the kernel will check, checked first with clear messages.
	check(ctx, "prechecks", run_prechecks(ctx));

	// 5. Certificates into the IMA/EVM keyrings.
	check(ctx, "keys", load_keys(ctx));

	// 6. The signed IMA policy, appraised by the kernel itself.
	check(ctx, "policy", load_policy(ctx));

	// 7. EVM mode.
	check(ctx, "evm", set_evm_mode(ctx));

	// 8. Kernel modules from the payload.
	check(ctx, "modules", load_modules(ctx));

	// 9. The real root.
	check(ctx, "root", mount_root(ctx));

	// 10. The real init checked, then switch_root and exec.
	check(ctx, "init", check_real_init(ctx));
	auto r = switch_root(ctx, argc, argv, envp);

	// 11. switch_root() returns only on failure.
	fail_boot("switch_root", r ? Error{ 0, "returned" } : r.error(), ctx.failure_action());
}
