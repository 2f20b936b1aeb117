// ima-mkinitramfs subcommands; each parses its own options and returns the
// process exit status (0 ok, 1 failure, 2 usage error).
#pragma once

namespace mkinitramfs
{

int cmd_build(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_lint_policy(int argc, char **argv);

} // namespace mkinitramfs
