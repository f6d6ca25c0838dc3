"""One QEMU of the migration lab (tools/lab/lab.py): the lab guest's command
line (tools/lab/qemu.args with the hub replaced by two TAP ports on the
lab's switch), its serial console read line by line with the host's time of
arrival, and its QMP socket (Python's json module; events kept with QEMU's
own timestamps)."""
import json
import os
import queue
import socket
import subprocess
import threading
import time

from labnet import NS_SW, taps

HERE = os.path.dirname(os.path.abspath(__file__))


def lab_qemu_args(image_dir, qmp_path, tap_set):
    """The lab guest's machine of qemu.args, its two NICs on TAP ports of
    the switch instead of the hub. Source and destination differ only in
    the host-side names (TAPs, QMP socket) and -incoming: the guest sees
    the same machine."""
    standby, primary = taps(tap_set)
    args = []
    with open(os.path.join(HERE, "qemu.args")) as f:
        for line in f:
            # The uio route's machine (no IOMMU): vfo-real and the
            # kernel's virtio_net both run on it.
            prefix = next((p for p in ("#QEMU ", "#QEMU-uio ") if line.startswith(p)), None)
            if prefix is None or "-netdev" in line:
                continue
            line = line[len(prefix):].replace("netdev=hub-standby", "netdev=standby")
            line = line.replace("netdev=hub-primary", "netdev=primary")
            line = line.replace("@LAB@/qmp.sock", qmp_path).replace("@LAB@", image_dir)
            args += line.split()
    args += ["-netdev", f"tap,id=standby,ifname={standby},script=no,downscript=no",
             "-netdev", f"tap,id=primary,ifname={primary},script=no,downscript=no"]
    return args


class QmpError(RuntimeError):
    pass


class Qmp:
    """A QMP client: commands one at a time, events collected by a reader
    thread with QEMU's timestamp (host wall clock)."""

    def __init__(self, path, name):
        self.name = name
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.rfile = self.sock.makefile("r", encoding="utf-8")
        self.replies = queue.Queue()
        self.events = []
        self.cv = threading.Condition()
        greeting = json.loads(self.rfile.readline())
        if "QMP" not in greeting:
            raise QmpError(f"{name}: not a QMP greeting: {greeting}")
        threading.Thread(target=self._reader, daemon=True).start()
        self.command("qmp_capabilities")

    def _reader(self):
        try:
            self._read_all()
        except OSError:
            pass  # QEMU quit (the source after a migration)
        self.replies.put({"error": {"desc": "QMP connection closed"}})
        with self.cv:
            self.cv.notify_all()

    def _read_all(self):
        for line in self.rfile:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # never trusted: a broken line is skipped
            if "event" in msg:
                ts = msg.get("timestamp", {})
                msg["t"] = ts.get("seconds", 0) + ts.get("microseconds", 0) / 1e6
                with self.cv:
                    self.events.append(msg)
                    self.cv.notify_all()
            else:
                self.replies.put(msg)

    def command(self, execute, arguments=None, timeout=60):
        msg = {"execute": execute}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall((json.dumps(msg) + "\n").encode())
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            raise QmpError(f"{self.name}: no reply to {execute} in {timeout} s")
        if "error" in reply:
            raise QmpError(f"{self.name}: {execute}: {reply['error'].get('desc')}")
        return reply["return"]

    def wait_event(self, pred, timeout, start=0):
        """The first event from index start on for which pred(event) holds."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for ev in self.events[start:]:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Qemu:
    """One lab QEMU in the switch namespace, under nice."""

    def __init__(self, name, image_dir, work_dir, tap_set, append, incoming=None, echo=None):
        self.name = name
        self.tap_set = tap_set
        self.qmp_path = os.path.join(work_dir, f"qmp-{name}.sock")
        self.log_path = os.path.join(work_dir, f"console-{name}.log")
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        args = lab_qemu_args(image_dir, self.qmp_path, tap_set) + ["-append", append]
        if incoming:
            args += ["-incoming", incoming]
        self.lines = []  # (host time, line)
        self.cv = threading.Condition()
        self.echo = echo
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_SW, "nice", "-n", "10", "qemu-system-x86_64"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace")
        threading.Thread(target=self._reader, daemon=True).start()
        self.qmp = None

    def _reader(self):
        for raw in self.proc.stdout:
            line = raw.rstrip("\r\n")
            t = time.time()
            self.log.write(f"{t:.3f} {line}\n")
            self.log.flush()
            with self.cv:
                self.lines.append((t, line))
                self.cv.notify_all()
            if self.echo:
                self.echo(self.name, line)
        with self.cv:
            self.lines.append((time.time(), None))  # end of output
            self.cv.notify_all()

    def connect(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.qmp = Qmp(self.qmp_path, self.name)
                self.qmp.command("migrate-set-capabilities", {
                    "capabilities": [{"capability": "events", "state": True}]})
                return self.qmp
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise QmpError(f"{self.name}: QMP socket never came up "
                                   f"(QEMU exit {self.proc.poll()}: {self.tail()})")
                time.sleep(0.1)

    def wait_line(self, pred, timeout, start=0):
        """(time, line, index) of the first console line from index start
        on with pred(line); None on timeout or when QEMU's output ended."""
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.lines):
                    t, line = self.lines[i]
                    if line is None:
                        return None
                    if pred(line):
                        return t, line, i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def tail(self, n=5):
        return " | ".join(l for _, l in self.lines[-n:] if l)

    def stop(self):
        if self.qmp:
            try:
                self.qmp.command("quit", timeout=5)
            except (QmpError, OSError):
                pass
            self.qmp.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
