#include "commands.h"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace
{

struct Command {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
};

constexpr Command commands[] = {
	{ "build", mkinitramfs::cmd_build,
	  "write the initramfs: /init, signed payload, signature" },
	{ "sign", mkinitramfs::cmd_sign,
	  "label a tree in place with security.ima (and security.evm)" },
	{ "verify", mkinitramfs::cmd_verify, "check an initramfs, payload or labelled tree" },
	{ "unpack", mkinitramfs::cmd_unpack, "extract a payload with the extractor /init uses" },
	{ "lint-policy", mkinitramfs::cmd_lint_policy,
	  "check an IMA policy against the kernel 6.1 grammar" },
};

void usage(FILE *out)
{
	std::fprintf(out,
		     "usage: ima-mkinitramfs COMMAND [OPTIONS]\n\n"
		     "Packs and signs the initramfs of ima-init, the IMA/EVM early-boot loader.\n\n"
		     "commands:\n");
	for (auto &c : commands)
		std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
	std::fprintf(out, "\n'ima-mkinitramfs COMMAND --help' describes a command.\n");
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	std::string_view cmd = argv[1];
	if (cmd == "-h" || cmd == "--help" || cmd == "help") {
		usage(stdout);
		return 0;
	}
	if (cmd == "--version") {
		std::printf("ima-mkinitramfs " IMAINIT_VERSION "\n");
		return 0;
	}
	for (auto &c : commands)
		if (cmd == c.name)
			return c.run(argc - 1, argv + 1);
	std::fprintf(stderr, "ima-mkinitramfs: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
