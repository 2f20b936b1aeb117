#include "imainit/cmdline.h"

#include <doctest/doctest.h>
#include <sys/mount.h>

using namespace imainit;

namespace
{

KernelCmdline parse_ok(std::string_view line)
{
	auto c = parse_cmdline(line);
	REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().what()));
	return *c;
}

std::string parse_err(std::string_view line)
{
	auto c = parse_cmdline(line);
	REQUIRE_FALSE(c.has_value());
	return c.error().what();
}

} // namespace

TEST_CASE("split_cmdline splits words as the kernel's next_arg does")
{
	auto s = split_cmdline("  console=ttyS0,115200   quiet\troot=/dev/vda1\n");
	REQUIRE(s.args.size() == 3);
	CHECK(s.args[0] == CmdlineArg{ "console", "ttyS0,115200" });
	CHECK(s.args[1] == CmdlineArg{ "quiet", std::nullopt });
	CHECK(s.args[2] == CmdlineArg{ "root", "/dev/vda1" });
	CHECK(s.init_args.empty());
}

TEST_CASE("split_cmdline: quoted values keep their spaces and lose the quotes")
{
	auto s = split_cmdline("rootflags=\"data=journal, errors=remount-ro\" ro");
	REQUIRE(s.args.size() == 2);
	CHECK(s.args[0] == CmdlineArg{ "rootflags", "data=journal, errors=remount-ro" });
	CHECK(s.args[1] == CmdlineArg{ "ro", std::nullopt });
}

TEST_CASE("split_cmdline: a word opening with a quote is quoted as a whole")
{
	// next_arg(): the leading quote is skipped and the closing one cut.
	auto s = split_cmdline("\"init=/sbin/my init\" x");
	REQUIRE(s.args.size() == 2);
	CHECK(s.args[0] == CmdlineArg{ "init", "/sbin/my init" });
	CHECK(s.args[1].name == "x");
}

TEST_CASE("split_cmdline: a quote in the middle of a value groups spaces but stays")
{
	auto s = split_cmdline("a=b\"c d\"e f");
	REQUIRE(s.args.size() == 2);
	CHECK(s.args[0] == CmdlineArg{ "a", "b\"c d\"e" });
	CHECK(s.args[1] == CmdlineArg{ "f", std::nullopt });
}

TEST_CASE("split_cmdline: an unterminated quote runs to the end of the line")
{
	auto s = split_cmdline("a=\"b c");
	REQUIRE(s.args.size() == 1);
	CHECK(s.args[0] == CmdlineArg{ "a", "b c" });
}

TEST_CASE("split_cmdline: empty value, leading '=', only the first '=' splits")
{
	auto s = split_cmdline("a= =b c=d=e");
	REQUIRE(s.args.size() == 3);
	CHECK(s.args[0] == CmdlineArg{ "a", "" });
	// next_arg() takes an '=' at offset 0 for "no '=' seen yet".
	CHECK(s.args[1] == CmdlineArg{ "=b", std::nullopt });
	CHECK(s.args[2] == CmdlineArg{ "c", "d=e" });
}

TEST_CASE("split_cmdline: words after -- go to init, with name=value rejoined")
{
	auto s = split_cmdline("root=/dev/vda -- single \"x=a b\" root=/dev/sdb");
	REQUIRE(s.args.size() == 1);
	CHECK(s.args[0] == CmdlineArg{ "root", "/dev/vda" });
	REQUIRE(s.init_args.size() == 3);
	CHECK(s.init_args[0] == "single");
	CHECK(s.init_args[1] == "x=a b");
	CHECK(s.init_args[2] == "root=/dev/sdb");
}

TEST_CASE("split_cmdline: empty and blank lines, NUL ends the line")
{
	// "" is a quoted empty word: dropped.
	auto q = split_cmdline("\"\" a");
	REQUIRE(q.args.size() == 1);
	CHECK(q.args[0].name == "a");
	CHECK(split_cmdline("").args.empty());
	CHECK(split_cmdline(" \t\n").args.empty());
	auto s = split_cmdline(std::string_view("a b\0c", 5));
	CHECK(s.args.size() == 2);
}

TEST_CASE("parse_cmdline: defaults with no root parameters")
{
	auto c = parse_ok("console=ttyS0 quiet");
	CHECK_FALSE(c.root.has_value());
	CHECK(c.rootfstype.empty());
	CHECK_FALSE(c.rootwait);
	CHECK_FALSE(c.rootwait_secs.has_value());
	CHECK(c.rootdelay == 0);
	CHECK_FALSE(c.init.has_value());
	CHECK(c.mount_read_only());
}

TEST_CASE("parse_cmdline: every root= form")
{
	auto c = parse_ok("root=/dev/vda1");
	CHECK(c.root == RootSpec{ RootSpec::Kind::path, "/dev/vda1", 0, 0 });

	c = parse_ok("root=253:1");
	CHECK(c.root->kind == RootSpec::Kind::devnum);
	CHECK(c.root->major == 253);
	CHECK(c.root->minor == 1);

	// 0x801 = sda1 (8:1) in the kernel's old hexadecimal dev_t form.
	c = parse_ok("root=801");
	CHECK(c.root->kind == RootSpec::Kind::devnum);
	CHECK(c.root->major == 8);
	CHECK(c.root->minor == 1);
	// new_decode_dev(): minor bits above 8 come from bits 20 and up.
	c = parse_ok("root=1003f0");
	CHECK(c.root->major == 3);
	CHECK(c.root->minor == 0x1f0);

	c = parse_ok("root=UUID=0f6a1c2e-1b2a-4f43-9d2b-6a5b4c3d2e1f");
	CHECK(c.root ==
	      RootSpec{ RootSpec::Kind::uuid, "0f6a1c2e-1b2a-4f43-9d2b-6a5b4c3d2e1f", 0, 0 });
	c = parse_ok("root=LABEL=rootfs");
	CHECK(c.root == RootSpec{ RootSpec::Kind::label, "rootfs", 0, 0 });
	c = parse_ok("root=PARTUUID=6a5b4c3d-01");
	CHECK(c.root == RootSpec{ RootSpec::Kind::partuuid, "6a5b4c3d-01", 0, 0 });
	c = parse_ok("root=PARTLABEL=system");
	CHECK(c.root == RootSpec{ RootSpec::Kind::partlabel, "system", 0, 0 });
	c = parse_ok("root=\"LABEL=my root\"");
	CHECK(c.root == RootSpec{ RootSpec::Kind::label, "my root", 0, 0 });

	c = parse_ok("root=/dev/disk/by-uuid/abcd-ef01");
	CHECK(c.root == RootSpec{ RootSpec::Kind::uuid, "abcd-ef01", 0, 0 });
	c = parse_ok("root=/dev/disk/by-label/root");
	CHECK(c.root == RootSpec{ RootSpec::Kind::label, "root", 0, 0 });
	c = parse_ok("root=/dev/disk/by-partuuid/1234-02");
	CHECK(c.root == RootSpec{ RootSpec::Kind::partuuid, "1234-02", 0, 0 });
	c = parse_ok("root=/dev/disk/by-partlabel/sys");
	CHECK(c.root == RootSpec{ RootSpec::Kind::partlabel, "sys", 0, 0 });
}

TEST_CASE("parse_cmdline: malformed root= values are errors that name the value")
{
	CHECK(parse_err("root=") == "root=: empty value");
	CHECK(parse_err("root=sda1").starts_with("root=sda1: not a device"));
	CHECK(parse_err("root=/dev/") == "root=/dev/: no device name after /dev/");
	CHECK(parse_err("root=/mnt/disk") ==
	      "root=/mnt/disk: a root device path must be below /dev/");
	CHECK(parse_err("root=8:x") == "root=8:x: expected MAJOR:MINOR in decimal");
	CHECK(parse_err("root=:1") == "root=:1: expected MAJOR:MINOR in decimal");
	CHECK(parse_err("root=UUID=") == "root=UUID=: nothing after UUID=");
	CHECK(parse_err("root=PARTUUID=abcd/PARTNROFF=1") ==
	      "root=PARTUUID=abcd/PARTNROFF=1: PARTUUID with /PARTNROFF= is not supported");
}

TEST_CASE("parse_cmdline: the last occurrence wins")
{
	auto c = parse_ok("root=/dev/sda1 root=LABEL=x ro rw init=/a init=/b rootdelay=3 "
			  "rootdelay=1 rootfstype=xfs rootfstype=ext4");
	CHECK(c.root == RootSpec{ RootSpec::Kind::label, "x", 0, 0 });
	CHECK_FALSE(c.mount_read_only());
	CHECK(c.init == "/b");
	CHECK(c.rootdelay == 1);
	CHECK(c.rootfstype == std::vector<std::string>{ "ext4" });

	c = parse_ok("rw ro");
	CHECK(c.mount_read_only());
	// Only the last root= must be valid, as only the last one is used.
	c = parse_ok("root=garbage root=/dev/vda");
	CHECK(c.root->value == "/dev/vda");
	CHECK(parse_err("root=/dev/vda root=garbage").starts_with("root=garbage:"));
}

TEST_CASE("parse_cmdline: rootwait with and without seconds")
{
	auto c = parse_ok("rootwait");
	CHECK(c.rootwait);
	CHECK_FALSE(c.rootwait_secs.has_value());

	c = parse_ok("rootwait=7");
	CHECK(c.rootwait);
	CHECK(c.rootwait_secs == 7u);

	// Last wins between the two forms too.
	c = parse_ok("rootwait=7 rootwait");
	CHECK_FALSE(c.rootwait_secs.has_value());
	c = parse_ok("rootwait rootwait=0");
	CHECK(c.rootwait_secs == 0u);

	CHECK(parse_err("rootwait=abc") == "rootwait=abc: not a number of seconds");
	CHECK(parse_err("rootwait=") == "rootwait=: not a number of seconds");
	CHECK(parse_err("rootwait=-1") == "rootwait=-1: not a number of seconds");
	CHECK(parse_err("rootdelay=5s") == "rootdelay=5s: not a number of seconds");
}

TEST_CASE("parse_cmdline: ro, rw and rootwait take no value")
{
	// The kernel's __setup("ro") handler refuses "ro=1"; it is some other
	// parameter then.
	auto c = parse_ok("rw ro=1 rootwaitx");
	CHECK_FALSE(c.mount_read_only());
	CHECK_FALSE(c.rootwait);
}

TEST_CASE("parse_cmdline: unknown words are ignored")
{
	auto c =
	    parse_ok("BOOT_IMAGE=/vmlinuz quiet splash foo=\"bar baz\" root=/dev/vda rootfoo=1 "
		     "roots=2 ima_policy=tcb");
	CHECK(c.root->value == "/dev/vda");
	CHECK(c.rootflags == MountOptions{});
}

TEST_CASE("parse_cmdline: init= must be absolute; arguments after -- are kept")
{
	auto c = parse_ok("init=/lib/systemd/systemd -- --unit=rescue.target");
	CHECK(c.init == "/lib/systemd/systemd");
	CHECK(c.init_args == std::vector<std::string>{ "--unit=rescue.target" });
	CHECK(parse_err("init=sbin/init") == "init=sbin/init: not an absolute path");
	CHECK(parse_err("init=") == "init=: not an absolute path");
}

TEST_CASE("parse_cmdline: rootfstype lists are tried in order")
{
	auto c = parse_ok("rootfstype=ext4,xfs,,btrfs");
	CHECK(c.rootfstype == std::vector<std::string>{ "ext4", "xfs", "btrfs" });
}

TEST_CASE("parse_mount_options splits flags from filesystem data")
{
	auto m = parse_mount_options("nosuid,nodev,noexec,data=journal,noatime,errors=remount-ro");
	CHECK(m.set == (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME));
	CHECK(m.clear == 0);
	CHECK(m.data == "data=journal,errors=remount-ro");
	CHECK_FALSE(m.read_only.has_value());

	m = parse_mount_options("sync,dirsync,nodiratime,relatime,strictatime,lazytime,iversion,"
				"silent,nosymfollow,mand");
	CHECK(m.set == (MS_SYNCHRONOUS | MS_DIRSYNC | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME |
			MS_LAZYTIME | MS_I_VERSION | MS_SILENT | MS_NOSYMFOLLOW | MS_MANDLOCK));
	CHECK(m.data.empty());
}

TEST_CASE("parse_mount_options: later options undo earlier ones")
{
	auto m = parse_mount_options("noatime,atime,suid,nosuid,dev,exec,async,loud,norelatime");
	CHECK(m.set == MS_NOSUID);
	CHECK(m.clear ==
	      (MS_NOATIME | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_SILENT | MS_RELATIME));
	m = parse_mount_options("atime,noatime");
	CHECK(m.set == MS_NOATIME);
	CHECK(m.clear == 0);
}

TEST_CASE("parse_mount_options: ro/rw, fstab-only words, quotes and empty items")
{
	auto m = parse_mount_options("ro,defaults,nofail,x-systemd.device-timeout=5,rw");
	CHECK(m.read_only == false);
	CHECK(m.data.empty());

	m = parse_mount_options("context=\"system_u:object_r:t:s0:c1,c2\",,commit=30");
	CHECK(m.data == "context=\"system_u:object_r:t:s0:c1,c2\",commit=30");

	CHECK(parse_mount_options("") == MountOptions{});
}

TEST_CASE("rootflags ro/rw take precedence over the ro/rw words")
{
	auto c = parse_ok("ro rootflags=rw,data=ordered");
	CHECK_FALSE(c.mount_read_only());
	CHECK(c.rootflags.data == "data=ordered");
	c = parse_ok("rw rootflags=ro");
	CHECK(c.mount_read_only());
	c = parse_ok("rw rootflags=noatime");
	CHECK_FALSE(c.mount_read_only());
	CHECK(c.rootflags.set == MS_NOATIME);
}

TEST_CASE("describe_root_spec shows the spec as written")
{
	CHECK(describe_root_spec(*parse_root_spec("/dev/vda")) == "/dev/vda");
	CHECK(describe_root_spec(*parse_root_spec("801")) == "8:1");
	CHECK(describe_root_spec(*parse_root_spec("UUID=ab")) == "UUID=ab");
	CHECK(describe_root_spec(*parse_root_spec("/dev/disk/by-label/x")) == "LABEL=x");
	CHECK(describe_root_spec(*parse_root_spec("PARTUUID=1")) == "PARTUUID=1");
	CHECK(describe_root_spec(*parse_root_spec("PARTLABEL=p")) == "PARTLABEL=p");
}
