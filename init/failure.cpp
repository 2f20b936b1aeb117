#include "failure.h"

#include "log.h"

#include <sys/reboot.h>
#include <unistd.h>

namespace imainit::boot
{

namespace
{

#ifdef IMAINIT_DEBUG_BUILD
void rescue_shell()
{
	log_err("DEBUG BUILD: starting a rescue shell (/bin/sh); this /init must never ship");
	static char sh[] = "/bin/sh";
	char *argv[] = { sh, nullptr };
	::execv(sh, argv);
	log_err("DEBUG BUILD: no rescue shell at /bin/sh");
}
#endif

} // namespace

void fail_boot(std::string_view step, const Error &e, FailureAction action)
{
	log(Level::crit, "FATAL: " + std::string(step) + ": " + e.what());
#ifdef IMAINIT_DEBUG_BUILD
	rescue_shell();
#endif
	switch (action) {
	case FailureAction::reboot:
		log(Level::crit, "rebooting");
		::sync();
		::reboot(RB_AUTOBOOT);
		break;
	case FailureAction::panic:
		// PID 1 exiting makes the kernel panic ("Attempted to kill
		// init!"); panic= on the command line decides what follows.
		log(Level::crit, "exiting: the kernel panics");
		::sync();
		::_exit(1);
	case FailureAction::halt:
		log(Level::crit, "halting the system");
		::sync();
		::reboot(RB_HALT_SYSTEM);
		break;
	}
	// reboot() returns only when refused (not PID 1 in the initial
	// namespace, no CAP_SYS_BOOT): stay here, never carry on.
	log(Level::crit, "the system could not be stopped: waiting forever");
	for (;;)
		::pause();
}

} // namespace imainit::boot
