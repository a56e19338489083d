#!/usr/bin/env python3
# `make run`'s Linux guest used interactively, as a person would through a
# terminal: `make run` runs on a pseudo-terminal that answers cursor-position
# queries as a terminal does (busybox's line editor asks at every prompt);
# the shell takes a typed command and answers, and an up-arrow recalls it;
# Ctrl-A c switches to the monitor and back (the console multiplexer);
# `poweroff -f` ends the VM and with it `make run`, with the VM's status.
# Exercises the VM's COM1 input, its receive interrupt and the multiplexer,
# which the batch-mode tests do not type into, and the launcher's keeping
# escape sequences whole.
import os
import pty
import re
import select
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COMMAND = ["make", "-C", ROOT, "--no-print-directory", "-s", "run"]
CURSOR_QUERY = b"\x1b[6n"
CURSOR_ANSWER = b"\x1b[24;5R"
TESTS = 9
print("1..%d" % TESTS)
sys.stdout.flush()

pid, fd = pty.fork()
if pid == 0:
    os.execvp(COMMAND[0], COMMAND)

seen = b""
done = 0
failed = False
queries_answered = 0


def read_some(seconds):
    """Reads what the console says within `seconds`; answers cursor-position
    queries on the way, as a terminal does. False once the other end is gone."""
    global seen, queries_answered
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    if not data:
        return False
    seen += data
    for _ in range(data.count(CURSOR_QUERY)):
        os.write(fd, CURSOR_ANSWER)
        queries_answered += 1
    return True


def expect(pattern, seconds, start=None):
    """Reads the console until `pattern` appears after `start` (default: what
    was seen so far; typing reads the console too, so an answer to what was
    typed is looked for from before the typing)."""
    if start is None:
        start = len(seen)
    deadline = time.time() + seconds
    while time.time() < deadline and not re.search(pattern, seen[start:]):
        if not read_some(1):
            break
    return bool(re.search(pattern, seen[start:]))


def type_text(text):
    # One key at a time, like a person.
    for ch in text:
        os.write(fd, ch.encode())
        read_some(0.05)


def check(ok, name):
    global done, failed
    done += 1
    failed = failed or not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", done, name))
    sys.stdout.flush()
    return ok


if check(expect(rb"/ # ", 1500), "the Linux guest's shell prompt on the console"):
    # A terminal's answer arrives in one piece, asked for or not (a busybox
    # built without FEATURE_EDITING_ASK_TERMINAL does not ask; its line
    # editor ignores a whole answer, but takes a split one for keys).
    if not queries_answered:
        os.write(fd, CURSOR_ANSWER)
        read_some(0.5)
    start = len(seen)
    type_text("echo typed-$((6*7))\r")
    check(expect(rb"typed-42", 120, start), "the first typed command runs and answers")
    expect(rb"/ # ", 60)
    check(not re.search(rb"not found|\[\d+;\d+R", seen[start:]),
          "the terminal's cursor-position answers do not land at the prompt as text")
    start = len(seen)
    os.write(fd, b"\x1b[A")     # an up-arrow, as a terminal sends it: one piece
    read_some(0.5)
    type_text("\r")
    check(expect(rb"typed-42", 120, start), "an up-arrow recalls the previous command")
    # The prompt, and time for its cursor-position answer to be taken: a
    # Ctrl-A typed into that answer's burst was lost once.
    expect(rb"/ # ", 60)
    read_some(0.5)
    start = len(seen)
    type_text("\x01c")
    check(expect(rb"console: monitor", 60, start), "Ctrl-A c switches to the monitor")
    start = len(seen)
    type_text("info vms\r")
    check(expect(rb"linux +2 +256 MiB running", 60, start), "the monitor answers while the VM runs")
    start = len(seen)
    type_text("\x01c")
    check(expect(rb"console: vm linux", 60, start), "Ctrl-A c switches back to the VM")
    start = len(seen)
    type_text("\r")
    type_text("poweroff -f\r")
    check(expect(rb"vm linux: ended \(ACPI power off\), status 0", 300, start), "poweroff ends the VM")
    expect(rb"vmxvisor: exit status \d+", 60)
    deadline = time.time() + 120
    while time.time() < deadline and read_some(1):
        pass
    # The terminal closes when vmxrun ends; make ends just after.
    ended, status = os.waitpid(pid, os.WNOHANG)
    while not ended and time.time() < deadline:
        time.sleep(0.2)
        ended, status = os.waitpid(pid, os.WNOHANG)
    check(ended and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          "make run ends with the VM, with its status 0 (%s)"
          % ("wait status %d" % status if ended else "still running after 2 minutes"))
    if not ended:
        os.write(fd, b"\x01x")
        os.waitpid(pid, 0)
else:
    os.write(fd, b"\x01x")      # vmxrun's key: end the emulator
    expect(rb"emulator killed", 60)
    os.waitpid(pid, 0)
while done < TESTS:
    check(False, "not reached")
print("# %d cursor-position queries answered" % queries_answered)
if failed:     # on stderr: prove shows it without -v
    sys.stderr.write("".join("# " + line + "\n" for line in seen.decode(errors="replace").splitlines()))
