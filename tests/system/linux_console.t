#!/usr/bin/env python3
# `make run`'s Linux guest used interactively, as a person would through a
# terminal: vmxrun runs on a pseudo-terminal with the console on the VM
# (console=linux); the busybox shell takes a typed command and answers;
# Ctrl-A c switches to the monitor and back (the console multiplexer);
# `poweroff -f` ends the VM. Exercises the VM's COM1 input, its receive
# interrupt and the multiplexer, which the batch-mode tests do not type into.
import os
import pty
import re
import select
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COMMAND = [os.path.join(ROOT, "tools", "vmxrun"), "--pcpus", "2", "--mem", "512",
           "--append", "console=linux", "--config", os.path.join(ROOT, "guests/linux/vms.cfg"),
           os.path.join(ROOT, "build/linux/vmlinuz"),
           os.path.join(ROOT, "build/linux/initramfs.cpio.gz")]
TESTS = 6
print("1..%d" % TESTS)
sys.stdout.flush()

pid, fd = pty.fork()
if pid == 0:
    os.execv(COMMAND[0], COMMAND)

seen = b""
done = 0
failed = False


def expect(pattern, seconds):
    """Reads the console until `pattern` appears after what was seen so far."""
    global seen
    start = len(seen)
    deadline = time.time() + seconds
    while time.time() < deadline:
        if re.search(pattern, seen[start:]):
            return True
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    return bool(re.search(pattern, seen[start:]))


def type_text(text):
    # One key at a time, like a person: the emulated UART takes a byte per byte time.
    for ch in text:
        os.write(fd, ch.encode())
        time.sleep(0.05)


def check(ok, name):
    global done, failed
    done += 1
    failed = failed or not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", done, name))
    sys.stdout.flush()
    return ok


if check(expect(rb"/ # ", 1500), "the Linux guest's shell prompt on the console"):
    type_text("echo typed-$((6*7))\r")
    check(expect(rb"typed-42", 120), "a typed command runs and answers")
    type_text("\x01c")
    check(expect(rb"console: monitor", 60), "Ctrl-A c switches to the monitor")
    type_text("info vms\r")
    check(expect(rb"linux +2 +256 MiB running", 60), "the monitor answers while the VM runs")
    type_text("\x01c")
    check(expect(rb"console: vm linux", 60), "Ctrl-A c switches back to the VM")
    type_text("\r")
    type_text("poweroff -f\r")
    check(expect(rb"vm linux: ended \(ACPI power off\), status 0", 300), "poweroff ends the VM")
type_text("\x01x")      # vmxrun's key: end the emulator
expect(rb"emulator killed", 60)
os.waitpid(pid, 0)
while done < TESTS:
    check(False, "not reached")
if failed:
    sys.stdout.write("".join("# " + line + "\n" for line in seen.decode(errors="replace").splitlines()))
