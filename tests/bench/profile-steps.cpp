// Host profile of the CPU-bound boot steps of ima-init: step 3 (read and
// verify the payload, extract it) and step 4 (the userspace prechecks), the
// same code as /init, for callgrind. Linked by tests/bench/run --profile
// against the object files of /init.
//
// It runs in a chroot of an unpacked initramfs, inside a mount namespace of
// its own (load_payload() mounts tmpfs on /run): the host's mounts stay
// untouched. The steps that touch the kernel's keyrings, securityfs or block
// devices are never run here.
//
// usage: profile-steps INITRAMFS_DIR
#include "crypto_setup.h"
#include "payload_load.h"
#include "prechecks.h"

#include <cstdio>
#include <ctime>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

using namespace imainit::boot;

namespace
{

double now_ms()
{
	timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: profile-steps INITRAMFS_DIR\n");
		return 2;
	}
	// Private before anything is mounted: nothing may propagate back.
	if (::unshare(CLONE_NEWNS) != 0 ||
	    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
		std::perror("profile-steps: private mount namespace");
		return 1;
	}
	if (::chroot(argv[1]) != 0 || ::chdir("/") != 0) {
		std::perror("profile-steps: chroot");
		return 1;
	}
	// As /init's step 1 leaves OpenSSL.
	if (auto r = setup_crypto(); !r) {
		std::fprintf(stderr, "profile-steps: %s\n", r.error().what().c_str());
		return 1;
	}
	BootContext ctx;
	double t0 = now_ms();
	if (auto r = load_payload(ctx); !r) {
		std::fprintf(stderr, "profile-steps: payload: %s\n", r.error().what().c_str());
		return 1;
	}
	double t1 = now_ms();
	if (auto r = run_prechecks(ctx); !r) {
		std::fprintf(stderr, "profile-steps: prechecks: %s\n", r.error().what().c_str());
		return 1;
	}
	double t2 = now_ms();
	std::fprintf(stderr, "profile-steps: payload %.2f ms, prechecks %.2f ms\n", t1 - t0,
		     t2 - t1);
	return 0;
}
