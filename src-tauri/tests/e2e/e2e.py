#!/usr/bin/python3
"""End-to-end test of the real vmbar tray app, on Linux, as root.

The outer run makes two network namespaces: the app's (A) and the fake VMs' (V), joined by one
veth pair per VM whose V end carries the VM's MAC and IPv4, so the app's neighbour table maps each
address to its VM's MAC, as on a real host. It then runs itself again inside A, under Xvfb and a
private D-Bus session (`xvfb-run ... dbus-run-session`), where it:

- starts the stand-in tray host and notification server (standin.py);
- makes a VMs folder: fake QEMUs (a python process holding the `qemu.pid` write lock, argv[0]
  `qemu-system-x86_64`, `-pidfile`), SSH banner listeners (`SSH-2.0-test`) in V, a registry;
- starts the app through WebKitWebDriver (`--show`, so focus loss never hides the window; the
  single-instance lock lives on the private bus, so no other run interferes);
- checks rows, dots, IPs and the escaped hostile name; copies through the window and the tray
  menu and reads the clipboard back with xclip; toggles "Open at login" from the tray menu and
  checks the XDG autostart entry; changes VM states and checks that exactly one "bravo is ready"
  was sent (none for the VM running at start, none again after an SSH flap) and one "bravo
  stopped"; checks that a second instance exits and leaves the first alone; quits from the menu;
- writes docs/screenshot.png (the window with VMs in five states).

Usage: e2e.py [--app PATH] [--screenshot PATH]    (root; prints SKIPPED/FAIL when it cannot run)
Needs: iproute2, xvfb, dbus, xclip, webkit2gtk-driver, python3-dbus, python3-gi.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PY = "/usr/bin/python3"  # the system python: python3-dbus and python3-gi live there

# name, IPv4 (None: no address answers), MAC, registry ssh_user, ssh_port
VMS = {
    "alpha": ("10.77.1.2", "52:54:00:77:01:02", None, 22),
    "bravo": ("10.77.2.2", "52:54:00:77:02:02", "ubuntu", 22),
    "charlie": ("10.77.3.2", "52:54:00:77:03:02", None, 22),
    "delta": ("10.77.4.2", "52:54:00:77:04:02", None, 2222),
}
HOSTILE = "<img src=x onerror=alert(1)>"
WIRED = ["alpha", "bravo", "delta"]  # charlie's address is never reachable: it stays initializing
# charlie's subnet is on a link of the app's namespace (so its registry address is an on-link
# candidate, shown unconfirmed), but nothing on that link holds the address.
LINKED_ONLY = ["charlie"]

FAKE_QEMU = r"""
import fcntl, os, sys, time
path = sys.argv[sys.argv.index("-pidfile") + 1]
f = open(path, "w")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # QEMU keeps a write lock on its pidfile
f.write(f"{os.getpid()}\n"); f.flush()
while True:
    time.sleep(3600)
"""

BANNER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"SSH-2.0-test\r\n")
    except OSError:
        pass
    c.close()
"""


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def skip_or_fail(reason):
    if os.environ.get("VMBAR_REQUIRE_PRIVILEGED") == "1":
        print(f"FAIL: {reason}")
        sys.exit(1)
    print(f"SKIPPED: {reason}")
    sys.exit(0)


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# ---------------------------------------------------------------- outer: namespaces

def outer(args):
    if os.geteuid() != 0:
        skip_or_fail("the app e2e needs root (network namespaces)")
    for tool in ["ip", "xvfb-run", "Xvfb", "dbus-run-session", "xclip", "WebKitWebDriver"]:
        if not shutil.which(tool):
            skip_or_fail(f"{tool} is not installed (scripts/setup app)")
    if sh(PY, "-c", "import dbus, gi", check=False).returncode != 0:
        skip_or_fail("python3-dbus / python3-gi are not installed")
    if not os.access(args.app, os.X_OK):
        print(f"FAIL: app binary {args.app} not found (cargo build -p vmbar-app)")
        sys.exit(1)
    tag = str(os.getpid())
    ns_a, ns_v = f"vmbar-e2e-a{tag}", f"vmbar-e2e-v{tag}"
    try:
        for ns in (ns_a, ns_v):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for i, name in enumerate(WIRED):
            ip, mac, _, _ = VMS[name]
            net = ip.rsplit(".", 1)[0]
            a, v = f"e2ea{i}", f"e2ev{i}"
            # Created directly inside the namespaces: nothing touches the root namespace.
            sh("ip", "-n", ns_a, "link", "add", a, "type", "veth", "peer", "name", v, "netns", ns_v)
            sh("ip", "-n", ns_v, "link", "set", v, "address", mac)
            sh("ip", "-n", ns_a, "addr", "add", f"{net}.1/24", "dev", a)
            sh("ip", "-n", ns_v, "addr", "add", f"{ip}/24", "dev", v)
            sh("ip", "-n", ns_a, "link", "set", a, "up")
            sh("ip", "-n", ns_v, "link", "set", v, "up")
        for i, name in enumerate(LINKED_ONLY, start=len(WIRED)):
            net = VMS[name][0].rsplit(".", 1)[0]
            a, v = f"e2ea{i}", f"e2ev{i}"
            sh("ip", "-n", ns_a, "link", "add", a, "type", "veth", "peer", "name", v, "netns", ns_v)
            sh("ip", "-n", ns_a, "addr", "add", f"{net}.1/24", "dev", a)
            sh("ip", "-n", ns_a, "link", "set", a, "up")
            sh("ip", "-n", ns_v, "link", "set", v, "up")
        env = dict(os.environ, VMBAR_E2E_VMS_NS=ns_v)
        cmd = ["ip", "netns", "exec", ns_a, "xvfb-run", "-a", "-s", "-screen 0 1280x800x24 -nolisten tcp",
               "dbus-run-session", "--", PY, os.path.abspath(__file__), "--inner",
               "--app", args.app, "--screenshot", args.screenshot]
        rc = subprocess.run(cmd, env=env, timeout=360).returncode
    except subprocess.TimeoutExpired:
        print("FAIL: the e2e run took more than 6 minutes")
        rc = 1
    finally:
        for ns in (ns_a, ns_v):
            # Any process left in a namespace would keep it alive: kill them first.
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)
    sys.exit(rc)


# ---------------------------------------------------------------- inner: the test itself

class WebDriver:
    """A minimal W3C WebDriver client (stdlib only)."""

    ELEMENT = "element-6066-11e4-a52e-4a4d5dfebc65"

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def req(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        r = urllib.request.Request(self.base + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            v = json.loads(e.read() or b"{}").get("value", {})
            raise RuntimeError(f"WebDriver {method} {path}: {v.get('error')}: {v.get('message')}") from None

    def start(self, caps, timeout):
        # Session creation hangs (rather than fails) when the app cannot be automated.
        v = self.req("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=timeout)
        self.sid = v["sessionId"]

    def s(self, path):
        return f"/session/{self.sid}{path}"

    def js(self, script, *args):
        return self.req("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def find(self, css):
        v = self.req("POST", self.s("/element"), {"using": "css selector", "value": css})
        # W3C key, or the legacy one some drivers still send.
        return v.get(self.ELEMENT) or v.get("ELEMENT") or next(iter(v.values()))

    def click(self, css, tries=5):
        # A row re-rendered by an engine update between find and click is stale: find it again.
        for i in range(tries):
            try:
                self.req("POST", self.s(f"/element/{self.find(css)}/click"), {})
                return
            except RuntimeError as e:
                if "stale element" not in str(e) or i == tries - 1:
                    raise
                time.sleep(0.2)

    def screenshot(self):
        return base64.b64decode(self.req("GET", self.s("/screenshot")))


def terminal_argv_is(got, want):
    """The terminal's argv as recorded: ssh is given by absolute path when the app found it
    where a login shell would (an ssh client installed), else by name."""
    if len(got) != len(want):
        return False
    return all(g == w or (w == "ssh" and g.startswith("/") and os.path.basename(g) == "ssh") for g, w in zip(got, want))


def wait_for(what, fn, timeout=30.0, every=0.3):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


ROWS_JS = """
return Array.from(document.querySelectorAll('li.vm')).map(li => ({
  name: li.dataset.name, status: li.dataset.status, text: li.textContent,
  ip: li.querySelector('.ip').textContent,
  glyph: li.querySelector('.dot').textContent,
  dot: getComputedStyle(li.querySelector('.dot')).color,
  copyIp: !li.querySelector('.copy-ip').disabled,
  imgs: li.querySelectorAll('img').length,
}));
"""


class Run:
    def __init__(self, args):
        self.args = args
        self.ns_v = os.environ["VMBAR_E2E_VMS_NS"]
        self.tmp = tempfile.mkdtemp(prefix="vmbar-e2e-")
        self.vms = os.path.join(self.tmp, "vms")
        self.home = os.path.join(self.tmp, "home")
        self.items = os.path.join(self.tmp, "items.jsonl")
        self.notes = os.path.join(self.tmp, "notifications.jsonl")
        self.procs = {}
        self.bg = []
        os.makedirs(self.vms)
        os.makedirs(self.home)
        self.fake_terminal = os.path.join(self.tmp, "fake-terminal")
        self.terminal_log = os.path.join(self.tmp, "terminal-argv")
        with open(self.fake_terminal, "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {self.terminal_log}\n")
        os.chmod(self.fake_terminal, 0o755)
        open(self.notes, "w").close()
        open(self.items, "w").close()

    # --- fake VMs
    def vm_dir(self, name):
        return os.path.join(self.vms, name)

    def make_vms(self):
        reg = {"vms": {}}
        for name, (ip, mac, user, port) in VMS.items():
            os.makedirs(self.vm_dir(name))
            open(os.path.join(self.vm_dir(name), "disk.qcow2"), "w").close()
            entry = {"ip_address": ip, "mac_address": mac, "hostname": name}
            if user:
                entry["ssh_user"] = user
            if port != 22:
                entry["ssh_port"] = port
            reg["vms"][name] = entry
        os.makedirs(self.vm_dir(HOSTILE))
        open(os.path.join(self.vm_dir(HOSTILE), "disk.qcow2"), "w").close()
        reg["vms"]["echo"] = {"ip_address": "10.77.9.2", "mac_address": "52:54:00:77:09:02"}  # no folder: missing
        with open(os.path.join(self.vms, "registry.json"), "w") as f:
            json.dump(reg, f, indent=2)
        with open(os.path.join(self.tmp, "config.toml"), "w") as f:
            # DNS off: the app runs in a namespace of the test's own with no resolver, and no test
            # may send a DNS query anywhere (the rig tests DNS against its own dnsmasq).
            f.write('# e2e config\nssh_user = "root"\nnotifications = true\n\n[sources]\ndns = false\n')

    def start_qemu(self, name):
        pidfile = os.path.join(self.vm_dir(name), "qemu.pid")
        p = subprocess.Popen(["qemu-system-x86_64", "-c", FAKE_QEMU, "-name", name, "-pidfile", pidfile],
                             executable=PY, cwd=self.vm_dir(name))
        wait_for(f"{name}'s pidfile", lambda: open(pidfile).read().strip() == str(p.pid), 10)
        self.procs[("qemu", name)] = p

    def start_ssh(self, name):
        ip, _, _, port = VMS[name]
        p = subprocess.Popen(["ip", "netns", "exec", self.ns_v, PY, "-c", BANNER, ip, str(port)],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "listening", f"banner listener of {name} did not start"
        self.procs[("ssh", name)] = p

    def stop(self, kind, name):
        p = self.procs.pop((kind, name))
        p.terminate()
        p.wait(10)

    # --- app, window, tray
    def env(self):
        e = dict(os.environ, HOME=self.home, TAURI_WEBVIEW_AUTOMATION="true", RUST_LOG="info,vmbar=debug",
                 NO_AT_BRIDGE="1", GDK_BACKEND="x11")
        # "Open SSH in a terminal" runs $TERMINAL -e ssh ...: a stand-in records its argv.
        e["TERMINAL"] = self.fake_terminal
        for k in ("XDG_CONFIG_HOME", "VMBAR_CONFIG", "VMBAR_VMS_DIR", "WAYLAND_DISPLAY"):
            e.pop(k, None)
        return e

    def app_args(self):
        return ["--show", "--vms-dir", self.vms, "--config", os.path.join(self.tmp, "config.toml")]

    def rows(self):
        return {r["name"]: r for r in self.wd.js(ROWS_JS)}

    def wait_rows(self, what, pred, timeout=40):
        return wait_for(what, lambda: (lambda r: r if pred(r) else None)(self.rows()), timeout)

    def clipboard(self):
        return sh("xclip", "-o", "-selection", "clipboard", check=False).stdout

    def notifications(self):
        with open(self.notes) as f:
            return [json.loads(line) for line in f if line.strip()]

    def menu(self):
        import dbus
        bus = dbus.SessionBus()
        with open(self.items) as f:
            items = [json.loads(line) for line in f if line.strip()]
        assert items, "the app registered no StatusNotifierItem with the tray host"
        it = items[-1]
        props = dbus.Interface(bus.get_object(it["bus"], it["path"]), dbus.PROPERTIES_IFACE)
        menu_path = props.Get("org.kde.StatusNotifierItem", "Menu")
        menu = dbus.Interface(bus.get_object(it["bus"], menu_path), "com.canonical.dbusmenu")
        _, layout = menu.GetLayout(0, -1, dbus.Array([], signature="s"))

        def walk(node, depth=0):
            nid, props, children = node
            label = str(props.get("label", "")).replace("__", "\0").replace("_", "").replace("\0", "_")
            out = [{"id": int(nid), "label": label, "depth": depth, "enabled": bool(props.get("enabled", True)),
                    "toggle": int(props.get("toggle-state", -1)) if "toggle-state" in props else None,
                    "children": len(children)}]
            for c in children:
                out += walk(c, depth + 1)
            return out

        return menu, walk(layout)[1:]

    def click_menu(self, label, parent=None):
        import dbus
        menu, entries = self.menu()
        in_parent = parent is None
        for e in entries:
            if parent is not None and e["depth"] == 1:
                in_parent = e["label"].startswith(parent)
            if in_parent and e["label"] == label and (parent is None or e["depth"] == 2):
                menu.Event(dbus.Int32(e["id"]), "clicked", dbus.Int32(0, variant_level=1), dbus.UInt32(0))
                return e
        raise AssertionError(f"menu item {label!r} (under {parent!r}) not found in {[x['label'] for x in entries]}")

    # --- the scenario
    def run(self):
        t0 = time.time()
        self.make_vms()
        for name in ("alpha", "charlie", "delta"):
            self.start_qemu(name)
        self.start_ssh("alpha")
        standin = subprocess.Popen([PY, os.path.join(HERE, "standin.py"), self.items, self.notes],
                                   stdout=subprocess.PIPE, text=True)
        self.bg.append(standin)
        assert standin.stdout.readline().strip() == "standin ready"
        port = free_port()
        drv = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], env=self.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.bg.append(drv)
        self.drv = drv
        self.wd = WebDriver(port)
        wait_for("WebKitWebDriver", lambda: self.wd.req("GET", "/status", timeout=2) is not None, 15)
        self.wd.start({"webkitgtk:browserOptions": {"binary": self.args.app, "args": self.app_args()}}, timeout=90)
        log(f"session started ({time.time() - t0:.1f}s)")

        # 1. Initial rows: five statuses, the hostile name as text.
        rows = self.wait_rows("the initial statuses", lambda r: r.get("alpha", {}).get("status") == "running"
                              and r.get("delta", {}).get("status") == "booting"
                              and r.get("charlie", {}).get("status") == "initializing"
                              and r.get("bravo", {}).get("status") == "stopped"
                              and r.get("echo", {}).get("status") == "missing"
                              and HOSTILE in r)
        assert list(rows) == sorted(rows, key=lambda n: (n.lower(), n)), list(rows)
        assert rows["alpha"]["ip"] == "10.77.1.2" and "10.77.1.2 (registry)" in rows["alpha"]["text"], rows["alpha"]
        assert rows["alpha"]["glyph"] == "●" and rows["alpha"]["dot"] == "rgb(0, 158, 115)", rows["alpha"]
        assert rows["delta"]["glyph"] == "◐" and rows["delta"]["ip"] == "10.77.4.2", rows["delta"]
        assert rows["charlie"]["ip"] == "no IP yet" and not rows["charlie"]["copyIp"], rows["charlie"]
        assert "10.77.3.2 unconfirmed (registry)" in rows["charlie"]["text"], rows["charlie"]["text"]
        assert rows[HOSTILE]["imgs"] == 0 and rows[HOSTILE]["status"] == "stopped", rows[HOSTILE]
        name_text = self.wd.js("return Array.from(document.querySelectorAll('li.vm .name')).map(e => e.textContent)")
        assert HOSTILE in name_text, name_text
        try:
            self.wd.req("GET", self.wd.s("/alert/text"))
            raise AssertionError("an alert is open: the hostile VM name ran as HTML")
        except RuntimeError as e:
            assert "no such alert" in str(e), e
        log("rows, dots, IPs and the hostile name: ok")

        # 2. The README screenshot: VMs in five states (tall enough for all six rows).
        try:
            self.wd.req("POST", self.wd.s("/window/rect"), {"width": 460, "height": 660})
            time.sleep(0.5)
        except RuntimeError as e:
            log(f"window not resized: {e}")
        png = self.wd.screenshot()
        os.makedirs(os.path.dirname(self.args.screenshot), exist_ok=True)
        with open(self.args.screenshot, "wb") as f:
            f.write(png)
        log(f"screenshot written to {self.args.screenshot} ({len(png)} bytes)")

        # 3. Copy from the window, read the clipboard back.
        self.wd.click('li.vm[data-name="alpha"] button.copy-ip')
        wait_for("alpha's IP in the clipboard", lambda: self.clipboard() == "10.77.1.2", 10)
        self.wd.click('li.vm[data-name="delta"] button.copy-ssh')
        wait_for("delta's ssh command in the clipboard", lambda: self.clipboard() == "ssh -p 2222 root@10.77.4.2", 10)
        disabled = self.wd.js("return document.querySelector('li.vm[data-name=\"charlie\"] button.copy-ip').disabled")
        assert disabled is True, "the candidate of charlie must not be copyable"
        log("window copy buttons and clipboard: ok")

        # 4. The tray menu through the stand-in host.
        _, entries = wait_for("the tray menu with the VMs", lambda: (lambda m: m if any(
            e["label"] == "● alpha — 10.77.1.2 (running)" for e in m[1]) else None)(self.menu()), 20)
        top = [e["label"] for e in entries if e["depth"] == 1]
        for want in ["◌ charlie — no IP yet (initializing)", "◐ delta — 10.77.4.2 (booting)", "○ bravo — no IP yet (stopped)",
                     f"○ {HOSTILE} — no IP yet (stopped)", "✕ echo — no IP yet (missing)", "Refresh now", "Open at login", "Quit vmbar"]:
            assert want in top, f"{want!r} not in the tray menu {top}"
        vm_labels = [lbl for lbl in top if lbl and lbl[0] in "●◐◌○✕"]
        assert vm_labels == sorted(vm_labels, key=lambda s: (s[2:].lower(), s[2:])), vm_labels
        self.click_menu("Copy IP", parent="◐ delta")
        wait_for("delta's IP from the tray menu", lambda: self.clipboard() == "10.77.4.2", 10)
        self.click_menu("Open SSH in a terminal", parent="◐ delta")
        wait_for("the terminal started with delta's ssh argv", lambda: os.path.exists(self.terminal_log) and
                 terminal_argv_is(open(self.terminal_log).read().split("\n")[:5], ["-e", "ssh", "-p", "2222", "root@10.77.4.2"]), 10)
        self.click_menu("Refresh now")
        log("tray menu labels and clicks: ok")

        # 5. Open at login from the tray menu: the XDG autostart entry.
        autostart = os.path.join(self.home, ".config", "autostart")
        self.click_menu("Open at login")
        entry = wait_for("the autostart entry", lambda: [f for f in os.listdir(autostart) if f.endswith(".desktop")]
                         if os.path.isdir(autostart) else None, 10)
        text = open(os.path.join(autostart, entry[0])).read()
        assert "Exec=" in text and os.path.basename(self.args.app) in text, text
        wait_for("the menu's Open at login checked", lambda: any(
            e["label"] == "Open at login" and e["toggle"] == 1 for e in self.menu()[1]), 10)
        self.click_menu("Open at login")
        wait_for("the autostart entry removed", lambda: not os.path.exists(os.path.join(autostart, entry[0])), 10)
        log("open at login (XDG autostart entry): ok")

        # 6. bravo boots: exactly one "bravo is ready", even across an SSH flap.
        self.start_qemu("bravo")
        self.start_ssh("bravo")
        self.wait_rows("bravo running", lambda r: r["bravo"]["status"] == "running" and r["bravo"]["ip"] == "10.77.2.2")
        wait_for("the 'bravo is ready' notification", lambda: [n for n in self.notifications() if n["summary"] == "bravo is ready"], 15)
        self.wd.click('li.vm[data-name="bravo"] button.copy-ssh')
        wait_for("bravo's ssh command", lambda: self.clipboard() == "ssh ubuntu@10.77.2.2", 10)
        self.stop("ssh", "bravo")
        self.wait_rows("bravo booting (SSH gone)", lambda r: r["bravo"]["status"] == "booting", 90)
        self.start_ssh("bravo")
        self.wait_rows("bravo running again", lambda r: r["bravo"]["status"] == "running", 90)
        time.sleep(2)
        ready = [n for n in self.notifications() if n["summary"].endswith(" is ready")]
        assert [n["summary"] for n in ready] == ["bravo is ready"], ready
        assert ready[0]["body"] == "10.77.2.2\nssh ubuntu@10.77.2.2", ready[0]
        log("exactly one 'bravo is ready', none for alpha: ok")

        # 7. bravo stops: "bravo stopped".
        self.stop("qemu", "bravo")
        self.stop("ssh", "bravo")
        self.wait_rows("bravo stopped", lambda r: r["bravo"]["status"] == "stopped")
        wait_for("the 'bravo stopped' notification", lambda: [n for n in self.notifications() if n["summary"] == "bravo stopped"], 15)
        log("'bravo stopped': ok")

        # 8. Settings form shows the --vms-dir override.
        self.wd.click("#open-settings")
        note = wait_for("the override note", lambda: self.wd.js("return document.getElementById('set-vms-dir-note').textContent"), 5)
        assert "--vms-dir" in note, note
        # Save a default ssh user: written into the config file (its comment kept), applied live.
        self.wd.js("const u = document.getElementById('set-ssh-user'); u.value = 'tester';")
        self.wd.click("#save-settings")
        cfg = os.path.join(self.tmp, "config.toml")
        wait_for("ssh_user saved", lambda: 'ssh_user = "tester"' in open(cfg).read(), 10)
        assert open(cfg).read().startswith("# e2e config"), open(cfg).read()
        def alpha_ssh():
            self.wd.click('li.vm[data-name="alpha"] button.copy-ssh')
            return self.clipboard() == "ssh tester@10.77.1.2"
        wait_for("alpha's ssh command with the new default user", alpha_ssh, 20, every=1.0)
        log("settings form: override note, save, live reconfigure: ok")

        # 8b. Settings say which programs were found and install the command-line tool: the vmbar
        # beside the app binary (the bundle's Contents/MacOS; here cargo's target folder) is
        # linked into a folder the user typed, and a second folder holding a file is refused.
        programs = wait_for("the programs note", lambda: self.wd.js("return document.getElementById('programs-note').textContent"), 5)
        assert programs.startswith("Programs vmbar runs: ssh: ") and "terminal: " in programs, programs
        bundled = os.path.join(os.path.dirname(os.path.abspath(self.args.app)), "vmbar")
        disabled = self.wd.js("return document.getElementById('install-cli').disabled")
        if os.access(bundled, os.X_OK):
            assert disabled is False, "Install command-line tool is disabled although vmbar is beside the app"
            bindir = os.path.join(self.tmp, "bin")
            os.makedirs(bindir)
            self.wd.js(f"document.getElementById('cli-folder').value = {json.dumps(bindir)};"
                       "document.getElementById('install-cli').scrollIntoView({block: 'center'});")
            self.wd.click("#install-cli")
            link = os.path.join(bindir, "vmbar")
            wait_for("the vmbar link", lambda: os.path.islink(link), 10)
            assert os.readlink(link) == bundled, os.readlink(link)
            taken = os.path.join(self.tmp, "taken")
            os.makedirs(taken)
            with open(os.path.join(taken, "vmbar"), "w") as f:
                f.write("the user's own")
            self.wd.js(f"document.getElementById('cli-folder').value = {json.dumps(taken)};"
                       "document.getElementById('install-cli').scrollIntoView({block: 'center'});")
            self.wd.click("#install-cli")
            refused = wait_for("the refusal", lambda: "not vmbar's link" in (self.wd.js("return document.getElementById('cli-note').textContent") or ""), 10)
            assert open(os.path.join(taken, "vmbar")).read() == "the user's own"
            log("settings: programs found, command-line tool linked, an existing file kept: ok")
        else:
            assert disabled is True, "Install command-line tool is enabled without a vmbar beside the app"
            log("settings: programs found; no vmbar beside the app, install disabled: ok")
        if os.environ.get("VMBAR_E2E_SETTINGS_SHOT"):  # to look at the settings panel by hand
            self.wd.js("document.getElementById('install-cli').scrollIntoView({block: 'center'});")
            with open(os.environ["VMBAR_E2E_SETTINGS_SHOT"], "wb") as f:
                f.write(self.wd.screenshot())

        # 9. A second instance hands over to the first and exits.
        apps = [int(p) for p in sh("pgrep", "-P", str(drv.pid), check=False).stdout.split()]
        assert len(apps) == 1, f"expected one app process under WebKitWebDriver, got {apps}"
        second = subprocess.run([self.args.app] + self.app_args(), env=self.env(), timeout=30,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert second.returncode == 0, second.stdout[-2000:]
        assert self.rows()["alpha"]["status"] == "running"
        log("single instance: ok")

        # 10. Quit from the tray menu.
        self.click_menu("Quit vmbar")
        wait_for("the app to exit", lambda: not os.path.exists(f"/proc/{apps[0]}") or
                 open(f"/proc/{apps[0]}/stat").read().split()[2] == "Z", 15)
        log(f"quit from the tray menu: ok; total {time.time() - t0:.1f}s")

    def cleanup(self):
        for p in list(self.procs.values()) + self.bg:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def inner(args):
    r = Run(args)
    try:
        r.run()
        print("1 passed, 0 failed")
        return 0
    except Exception as e:  # noqa: BLE001 - reported as the test's failure
        import traceback
        traceback.print_exc()
        try:
            print("notifications:", r.notifications())
        except Exception:  # noqa: BLE001
            pass
        print(f"FAIL: {e}")
        print("0 passed, 1 failed")
        return 1
    finally:
        r.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=os.environ.get("VMBAR_APP_BIN", os.path.join(REPO, "target", "debug", "vmbar-app")))
    ap.add_argument("--screenshot", default=os.path.join(REPO, "docs", "screenshot.png"))
    ap.add_argument("--inner", action="store_true")
    args = ap.parse_args()
    args.app = os.path.abspath(args.app)
    args.screenshot = os.path.abspath(args.screenshot)
    if args.inner:
        sys.exit(inner(args))
    outer(args)


if __name__ == "__main__":
    main()
