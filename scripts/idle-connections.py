#!/usr/bin/env python3
"""Server memory per idle connection, for any Redis-protocol server.

Reads the server's resident set (VmRSS in /proc/<pid>/status), then opens
--conns TCP connections one after another, sending an inline `PING` on each
and waiting for `+PONG`, so every connection is registered with the server
and has served one request. It reads VmRSS again once all are open, holds
them idle for --hold seconds (measuring the server's CPU time meanwhile, which
for idle connections should be about zero), reads VmRSS a third time, then
checks that every connection still answers PING, closes them all and reads
VmRSS once more.

Memory per connection = (RSS after the idle hold - RSS before) / conns, in KB
(1 KB = 1024 bytes). RSS is user-space memory only: kernel socket buffers are
not in it, and they cost the same for any server.

The server is either already running (--pid, or found from --port through
/proc/net/tcp when it runs as this user), or started by this script with
--server-cmd (a command line; `{port}` in it becomes --port), in a scratch
working directory, and stopped at the end:

  scripts/idle-connections.py --port 6392 --server-cmd 'redis-server --port {port} --save "" --appendonly no --maxclients 10100'
  scripts/idle-connections.py --port 6393 --server-cmd 'target/release/tandem server --port {port}'

Needs `ulimit -n` of at least conns + 100 (it raises its soft limit up to
the hard limit by itself). Redis refuses clients past `maxclients` (10,000
by default), so pass a larger --maxclients for more connections than that.
Prints a report, or with --json one JSON object as the last line; exits 1 if
any connection failed.
"""
import argparse
import json
import os
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

PING = b"PING\r\n"
PONG = b"+PONG\r\n"


def fail(msg):
    print(f"idle-connections: {msg}", file=sys.stderr)
    sys.exit(1)


def rss_kb(pid):
    """VmRSS of `pid` in KB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_ticks(pid):
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # Fields after the command name, which may contain spaces: field 3 is
    # rest[0], so utime (14) and stime (15) are rest[11] and rest[12].
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def listener_pid(port):
    """The pid of the process listening on TCP `port`, if it is visible to us."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local, state, inode = cols[1], cols[3], cols[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{inode}]")
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            for fd in os.listdir(fd_dir):
                if os.readlink(f"{fd_dir}/{fd}") in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def ping(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(PING)
            return read_reply(s) == PONG
    except OSError:
        return False


def read_reply(s):
    """Reads one `+PONG\\r\\n`-sized reply (or whatever arrives up to a newline)."""
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(64)
        if not chunk:
            break
        buf += chunk
    return buf


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard == resource.RLIM_INFINITY or hard >= need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        return
    fail(f"need `ulimit -n` >= {need} for these connections, but the soft limit "
         f"is {soft} and the hard limit {hard}; raise it (e.g. `ulimit -n {need}` "
         f"as a user allowed to) or pass a smaller --conns")


class Server:
    """A server this script started: its process, log and scratch directory."""

    def __init__(self, cmd, host, port, timeout):
        if port_open(host, port):
            fail(f"something already listens on {host}:{port}; pick another --port")
        self.dir = tempfile.TemporaryDirectory(prefix="idle-conns-")
        self.log_path = os.path.join(self.dir.name, "server.log")
        argv = shlex.split(cmd.replace("{port}", str(port)))
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, cwd=self.dir.name, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not ping(host, port):
            if self.proc.poll() is not None:
                self.stop()
                fail(f"server exited with {self.proc.returncode} before answering PING:\n"
                     + self.log_tail())
            if time.monotonic() > deadline:
                self.stop()
                fail(f"server did not answer PING on port {port} within {timeout} s:\n"
                     + self.log_tail())
            time.sleep(0.05)
        # A wrapper that forks instead of exec'ing would hide the real server.
        self.pid = listener_pid(port) or self.proc.pid

    def log_tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.pid_differs():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
        self.dir.cleanup()

    def pid_differs(self):
        return getattr(self, "pid", self.proc.pid) != self.proc.pid


def open_connections(host, port, n, timeout):
    socks = []
    for i in range(n):
        try:
            s = socket.create_connection((host, port), timeout=timeout)
            socks.append(s)
            s.sendall(PING)
            reply = read_reply(s)
        except OSError as e:
            return socks, f"connection {i + 1} of {n} failed: {e}"
        if reply != PONG:
            return socks, f"connection {i + 1} of {n}: expected +PONG, got {reply!r}"
    return socks, None


def ping_all(socks):
    """Sends PING on every connection first, then reads every reply."""
    sent = []
    for s in socks:
        try:
            s.sendall(PING)
            sent.append(s)
        except OSError:
            pass
    ok = 0
    for s in sent:
        try:
            if read_reply(s) == PONG:
                ok += 1
        except OSError:
            pass
    return ok


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("-n", "--conns", type=int, default=10_000, help="connections (default 10000)")
    who = ap.add_mutually_exclusive_group()
    who.add_argument("--pid", type=int, help="server pid (default: the listener on --port)")
    who.add_argument("--server-cmd",
                     help="start this server command (`{port}` becomes --port) and stop it at the end")
    ap.add_argument("--hold", type=float, default=5.0,
                    help="seconds to hold the connections idle (default 5)")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds to wait before each RSS reading (default 0.5)")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds for each connect/reply and for server start (default 10)")
    ap.add_argument("--label", default="", help="name for the report")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    a = ap.parse_args()
    if a.conns < 1:
        fail("--conns must be at least 1")
    raise_fd_limit(a.conns + 100)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    server = None
    socks = []
    try:
        if a.server_cmd:
            server = Server(a.server_cmd, a.host, a.port, a.timeout)
            pid = server.pid
        else:
            pid = a.pid or listener_pid(a.port)
            if pid is None:
                fail(f"no process of this user listens on port {a.port}; pass --pid")
            if not ping(a.host, a.port):
                fail(f"{a.host}:{a.port} does not answer PING")
        tick = os.sysconf("SC_CLK_TCK")

        time.sleep(a.settle)
        rss_before = rss_kb(pid)
        t0 = time.monotonic()
        socks, err = open_connections(a.host, a.port, a.conns, a.timeout)
        open_s = time.monotonic() - t0
        if err:
            fail(f"{err} ({len(socks)} open; server RSS {rss_kb(pid)} KB)")
        time.sleep(a.settle)
        rss_open = rss_kb(pid)
        cpu0 = cpu_ticks(pid)
        time.sleep(a.hold)
        hold_cpu_ms = (cpu_ticks(pid) - cpu0) * 1000 / tick
        rss_held = rss_kb(pid)
        ok = ping_all(socks)
        close_all(socks)
        socks = []
        time.sleep(a.settle)
        rss_closed = rss_kb(pid)
    finally:
        close_all(socks)
        if server:
            server.stop()

    report = {
        "label": a.label,
        "conns": a.conns,
        "pid": pid,
        "open_s": round(open_s, 3),
        "rss_before_kb": rss_before,
        "rss_open_kb": rss_open,
        "rss_held_kb": rss_held,
        "rss_closed_kb": rss_closed,
        "kb_per_conn": round((rss_held - rss_before) / a.conns, 3),
        "kb_per_conn_at_open": round((rss_open - rss_before) / a.conns, 3),
        "hold_s": a.hold,
        "hold_cpu_ms": round(hold_cpu_ms, 1),
        "still_answering": ok,
    }
    name = f"{a.label} " if a.label else ""
    print(f"{name}idle connections: {a.conns:,} to {a.host}:{a.port} (server pid {pid})")
    print(f"  opened, each answering PING, in {open_s:.2f} s")
    print(f"  server RSS: {rss_before:,} KB before, {rss_open:,} KB with all open, "
          f"{rss_held:,} KB after {a.hold:g} s idle, {rss_closed:,} KB after closing")
    print(f"  memory per connection: {report['kb_per_conn']:.2f} KB "
          f"({report['kb_per_conn_at_open']:.2f} KB right after opening)")
    print(f"  server CPU during the {a.hold:g} s idle hold: {hold_cpu_ms:.0f} ms")
    print(f"  still answering PING afterwards: {ok:,} of {a.conns:,}")
    if a.json:
        print(json.dumps(report))
    sys.stdout.flush()
    if ok != a.conns:
        sys.exit(1)


if __name__ == "__main__":
    main()
