#!/usr/bin/env python3
"""Take the files a guest sent over its console (scripts/initramfs/init frames /out/*) out of
a console log, byte-exact: each file's size and sha256 are checked.

usage: scripts/guest-files.py CONSOLE_LOG DESTDIR
Exit status 0 with every file written, 1 naming the first missing, truncated or corrupt one.
"""
import base64
import hashlib
import os
import re
import sys

BEGIN = re.compile(r"^ukl-file: begin (\S+) (\d+) ([0-9a-f]{64})$")
B64 = re.compile(r"^[A-Za-z0-9+/=]+$")
# a kernel message: "[    1.652912] text" to the end of the line
KMSG = re.compile(r"\[ *\d+\.\d+\] .*$")


def console_lines(log):
    """The console's lines with kernel messages taken out.  The kernel prints a message where
    the console happens to be, even in the middle of a line the guest was writing: the
    message runs to the end of that line, and the guest's line goes on in the next one,
    which is joined back to its start here."""
    carry = ""
    with open(log, "rb") as f:
        for raw in f:
            line = carry + raw.decode("ascii", "replace").rstrip("\r\n").rstrip("\r")
            carry = ""
            m = KMSG.search(line)
            if m and m.start() > 0:
                carry = line[:m.start()]
                continue
            yield line


def extract(log, dest):
    files, cur = [], None
    for line in console_lines(log):
        m = BEGIN.match(line)
        if m:
            cur = (m.group(1), int(m.group(2)), m.group(3), [])
            continue
        if line.startswith("ukl-file: begin"):
            raise ValueError("%s: a garbled file marker: %r" % (log, line))
        if cur is None:
            continue
        if line == "ukl-file: end " + cur[0]:
            name, size, digest, parts = cur
            data = base64.b64decode("".join(parts))
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                raise ValueError("%s: %s arrived corrupt (%d of %d bytes, sha256 mismatch); "
                                 "rerun the boot" % (log, name, len(data), size))
            if "/" in name or name.startswith("."):
                raise ValueError("%s: refusing file name %r" % (log, name))
            with open(os.path.join(dest, name), "wb") as out:
                out.write(data)
            files.append(name)
            cur = None
        elif B64.match(line):
            cur[3].append(line)
        # anything else (a kernel message on a line of its own) is not part of the file
    if cur is not None:
        raise ValueError("%s: %s was cut off (no end marker): the guest stopped while sending it"
                         % (log, cur[0]))
    return files


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    os.makedirs(sys.argv[2], exist_ok=True)
    try:
        names = extract(sys.argv[1], sys.argv[2])
    except (OSError, ValueError) as e:
        sys.exit("ukl: error: %s" % e)
    print("\n".join(names))


if __name__ == "__main__":
    main()
