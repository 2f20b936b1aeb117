#!/usr/bin/env python3
"""Where QEMU's TCG translation time goes: the guest code blocks that
`qemu-x86_64 -d in_asm` translated, per library and per object file of a
static binary's link map.

Under TCG, code that runs once costs mostly its translation, roughly in
proportion to the number of distinct blocks; this counts them.

usage: tcg-blocks.py LINK_MAP IN_ASM_LOG [TOP]
"""
import bisect
import collections
import re
import sys


def text_ranges(map_path):
    """(start, size, input file) of every .text input section."""
    lines = open(map_path, errors="replace").read().split("\n")
    out = []
    for i, line in enumerate(lines):
        # A long section name puts address, size and file on the next line.
        m = re.match(r"^ \.text(\.\S+)?\s*$", line)
        if m and i + 1 < len(lines):
            m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", lines[i + 1])
        else:
            m = re.match(r"^ \.text(?:\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    out.sort()
    return out


def library(path):
    for lib in ("libcrypto", "libarchive", "libblkid", "libc.a", "libstdc++", "libgcc", "libnettle"):
        if lib in path:
            return lib
    if "ima-init-core.dir" in path or "profile-steps" in path:
        return "ima-init"
    return path.rsplit("/", 1)[-1]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    top = int(sys.argv[3]) if len(sys.argv) == 4 else 12
    ranges = text_ranges(sys.argv[1])
    starts = [r[0] for r in ranges]

    def origin(addr):
        k = bisect.bisect_right(starts, addr) - 1
        if k < 0 or addr >= ranges[k][0] + ranges[k][1]:
            return "?"
        return ranges[k][2]

    per_lib = collections.Counter()
    per_obj = collections.Counter()
    block_start = False
    for line in open(sys.argv[2], errors="replace"):
        if line.startswith("IN:"):
            block_start = True
            continue
        m = re.match(r"^0x([0-9a-f]+):", line)
        if m and block_start:
            block_start = False
            o = origin(int(m.group(1), 16))
            per_lib[library(o)] += 1
            per_obj[o] += 1
    total = sum(per_lib.values())
    if not total:
        sys.exit("tcg-blocks: no translated blocks in " + sys.argv[2])
    print(f"  {'translated blocks, per library':<60} {'blocks':>8} {'share':>6}")
    for lib, n in per_lib.most_common():
        if n * 200 >= total:
            print(f"  {lib:<60} {n:8d} {100 * n / total:5.1f}%")
    print(f"  {'total':<60} {total:8d}")
    print(f"  {'the ' + str(top) + ' object files with the most':<60}")
    for o, n in per_obj.most_common(top):
        name = re.sub(r"^.*/", "", o)
        print(f"  {name[:60]:<60} {n:8d} {100 * n / total:5.1f}%")


main()
