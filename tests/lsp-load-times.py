#!/usr/bin/env python3
"""How long the real `goblock lsp` takes to show a workspace's trace, over stdio.

    tests/lsp-load-times.py GOBLOCK WORKSPACE [RUNS]

Starts `/usr/bin/time -v GOBLOCK lsp` RUNS times (default 3), each a fresh server on WORKSPACE
(rootUri), as an editor would: `initialize` (with `window.workDoneProgress` and
`experimental.goblockStatus`), `initialized`, then reads until the load's `$/progress` ends and
the `goblock/status` says the whole of every input is shown. Times are from sending
`initialize`:

  first    the first publishDiagnostics with a diagnostic (a large trace's preview);
  preview  the first goblock/status showing a preview (an input with `partial`), if any;
  whole    the first goblock/status after which everything is shown, no input partial;
  final    the first publishDiagnostics with a diagnostic after `whole`: the whole trace's
           diagnostics (none within 10 s: nan);
  end      the load's `$/progress` end;
  cpu      the server's user + system seconds (/usr/bin/time -v), the whole session;
  rss      the server's peak RSS (/usr/bin/time -v).

Prints one row per run and the medians (peak RSS: the largest). Measures, never judges.
LSP_LOG=FILE appends every notification received (time, first 400 characters) to FILE.
Used by tests/bench-inputs.sh and tests/bench-2g.sh.
"""
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time

NAN = float("nan")
QUIET = 10


def session(binary, ws, timeout=900):
    p = subprocess.Popen(["/usr/bin/time", "-v", binary, "lsp"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # A load that never ends (e.g. no trace found) ends the session.
    watchdog = threading.Timer(timeout, p.kill)
    watchdog.start()
    err_chunks = []
    drain = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()), daemon=True)
    drain.start()

    def send(msg):
        body = json.dumps(msg).encode()
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        p.stdin.flush()

    def read_loop():
        try:
            while True:
                n = 0
                while True:
                    line = p.stdout.readline()
                    if not line:
                        inbox.put(None)
                        return
                    line = line.strip()
                    if not line:
                        break
                    if line.lower().startswith(b"content-length:"):
                        n = int(line.split(b":")[1])
                inbox.put(json.loads(p.stdout.read(n)))
        except (OSError, ValueError):
            inbox.put(None)

    inbox = queue.Queue()
    threading.Thread(target=read_loop, daemon=True).start()

    def recv(wait=None):
        """The next message; None after `wait` seconds without one."""
        try:
            m = inbox.get(timeout=wait)
        except queue.Empty:
            return None
        if m is None:
            raise SystemExit("lsp-load-times: the server exited (or no load ended in %d s)"
                             % timeout)
        return m

    uri = "file://" + ws
    t = {k: NAN for k in ("first", "preview", "whole", "final", "end")}
    t0 = time.monotonic()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "ws"}],
        "capabilities": {"window": {"workDoneProgress": True},
                         "experimental": {"goblockStatus": True}}}})

    log = open(os.environ["LSP_LOG"], "a") if os.environ.get("LSP_LOG") else None

    def seen(m):
        now = time.monotonic() - t0
        if log:
            log.write("%.3f %s\n" % (now, json.dumps(m)[:400]))
        method = m.get("method")
        if method == "textDocument/publishDiagnostics" and m["params"]["diagnostics"]:
            if t["first"] != t["first"]:
                t["first"] = now
            t["final"] = now
        elif method == "goblock/status":
            s = m["params"]
            partial = any("partial" in i for i in s["inputs"])
            if partial and t["preview"] != t["preview"]:
                t["preview"] = now
            if s["state"] != "loading" and s["inputs"] and not partial \
                    and t["whole"] != t["whole"]:
                t["whole"] = now
        elif method == "$/progress" and m["params"]["value"].get("kind") == "end":
            t["end"] = now

    def handle(m):
        if m.get("id") == 1 and "result" in m:
            send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        elif "method" in m and "id" in m:
            send({"jsonrpc": "2.0", "id": m["id"], "result": None})
        else:
            seen(m)

    while t["end"] != t["end"] or t["whole"] != t["whole"]:
        handle(recv())
    # The whole snapshot's diagnostics are published after its status: wait for them (at most
    # QUIET seconds without any message).
    while not t["final"] >= t["whole"]:
        m = recv(QUIET)
        if m is None:
            t["final"] = NAN
            break
        handle(m)
    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    while True:
        m = recv()
        if m.get("id") == 2:
            break
        seen(m)
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    p.stdin.close()
    p.wait()
    drain.join()
    watchdog.cancel()
    err = b"".join(err_chunks).decode(errors="replace")
    def field(name):
        return next(float(line.split(":")[1]) for line in err.splitlines() if name in line)
    t["rss"] = field("Maximum resident set size") / 1024
    t["cpu"] = field("User time (seconds)") + field("System time (seconds)")
    return t


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, ws = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    cols = ("first", "preview", "whole", "final", "end", "cpu")
    print("%-10s" % "" + "".join("%10s" % c for c in cols) + "%14s" % "peak RSS MB")
    res = []
    for i in range(runs):
        r = session(binary, ws)
        res.append(r)
        print("%-10s" % ("run %d" % (i + 1)) + "".join("%10.2f" % r[c] for c in cols)
              + "%14.1f" % r["rss"], flush=True)

    def med(c):
        xs = [r[c] for r in res if r[c] == r[c]]
        return statistics.median(xs) if xs else NAN
    print("%-10s" % "median" + "".join("%10.2f" % med(c) for c in cols)
          + "%14.1f" % max(r["rss"] for r in res))


if __name__ == "__main__":
    main()
