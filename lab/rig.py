#!/usr/bin/env python3
"""The lab network and its VMs: a simulated home LAN inside network namespaces on this machine.

    vmbar-router  bridge br0 (10.77.0.1/24), dnsmasq = DHCP + DNS of the "home router",
                  one tap device per VM (QEMU runs in this namespace to open it)
    vmbar-host    eth0 (10.77.0.2/24), veth peer of a port of br0: stands for the user's Mac;
                  vmbar runs here, resolves through /etc/netns/vmbar-host/resolv.conf

Nothing is configured in the root namespace: the veth pair is created inside the router namespace
with its peer moved straight into the host namespace, taps live in the router namespace, and QEMU
has no user-mode network. dnsmasq has --no-resolv and no upstream, so no query leaves the lab.

Every DHCP lease event is timestamped on the host clock (ms) by dnsmasq's --dhcp-script into
RUN/lease-events.jsonl, which is what the rig's delay measurements use (dnsmasq's own log has
1-second resolution).

All processes the lab starts are found again by pid: `ip netns pids` of the two namespaces (every
process inside a namespace the lab made is the lab's: dnsmasq and QEMU in the router's, vmbar and
the probes in the host's), and the Popen objects of the current run.
"""
import fcntl, json, os, shutil, signal, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "lab"))
import guest  # noqa: E402

ROUTER_NS = "vmbar-router"
HOST_NS = "vmbar-host"
BRIDGE = "br0"
ROUTER_IP = "10.77.0.1"
ROUTER_MAC = "02:77:00:00:00:01"  # locally administered
HOST_IP = "10.77.0.2"
PREFIX = 24
DHCP_FIRST, DHCP_LAST = "10.77.0.100", "10.77.0.199"
DOMAIN = "lab"
LEASE_TIME = "12h"
RUN = os.path.join(ROOT, "target", "vmbar-lab", "run")
LEASES = os.path.join(RUN, "dnsmasq.leases")
# dnsmasq --dhcp-hostsdir: one file per fixed address (`MAC,IP`); dnsmasq re-reads the folder on
# change (inotify), so a scenario can move a VM to another address without restarting the router.
HOSTS_DIR = os.path.join(RUN, "dhcp-hosts.d")
LEASE_EVENTS = os.path.join(RUN, "lease-events.jsonl")
NETNS_ETC = f"/etc/netns/{HOST_NS}"
LOCK = "/run/vmbar-lab.lock"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(*cmd, check=True, ns=None, timeout=30):
    """Runs a command (in namespace ns if given); returns stdout; raises with stderr on failure."""
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- preconditions

def missing_prerequisites():
    """Reasons the rig cannot run here (empty when it can): root, /dev/net/tun, qemu, dnsmasq..."""
    why = []
    if os.geteuid() != 0:
        why.append("not root (network namespaces, taps and dnsmasq need root)")
    if not os.path.exists("/dev/net/tun"):
        why.append("no /dev/net/tun (tap devices)")
    for tool, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("dnsmasq", "dnsmasq-base"),
                      ("ip", "iproute2"), ("dropbear", "dropbear-bin"), ("dbclient", "dropbear-bin"),
                      ("cpio", "cpio")):
        if not shutil.which(tool):
            why.append(f"no {tool} (package {pkg}; run scripts/setup rig)")
    if not os.path.exists("/bin/busybox"):
        why.append("no /bin/busybox (package busybox-static)")
    return why


# ---------------------------------------------------------------- namespaces and router

class Lock:
    """One lab at a time on this machine (the namespace names are fixed)."""
    def __init__(self):
        self.f = open(LOCK, "w")

    def acquire(self, wait_s=0):
        deadline = time.time() + wait_s
        while True:
            try:
                fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.time() >= deadline:
                    return False
                time.sleep(0.5)


def ns_exists(ns):
    return os.path.exists(f"/run/netns/{ns}")


def ns_pids(ns):
    if not ns_exists(ns):
        return []
    out = sh("ip", "netns", "pids", ns, check=False)
    return [int(p) for p in out.split() if p.isdigit()]


def kill_pid(pid, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_and_wait(pids, grace_s=3.0):
    pids = [p for p in pids if p != os.getpid()]
    for p in pids:
        kill_pid(p, signal.SIGTERM)
    deadline = time.time() + grace_s
    while time.time() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        if pid_alive(p):
            kill_pid(p, signal.SIGKILL)
    deadline = time.time() + 3
    while time.time() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)


def read_pidfile(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def teardown(quiet=False):
    """Removes everything a lab (this one or a crashed earlier one) left: processes inside the lab's
    namespaces (QEMU, dnsmasq, vmbar, probes; found by `ip netns pids` and our pidfiles), the
    namespaces (and with them the bridge, veth pair and taps) and the host namespace's resolv.conf."""
    # dnsmasq and every QEMU run inside vmbar-router, vmbar and the probes inside vmbar-host:
    # the processes of the two namespaces are exactly the lab's (pidfiles could be stale).
    pids = set(ns_pids(ROUTER_NS)) | set(ns_pids(HOST_NS))
    qemu_list = os.path.join(RUN, "qemu-pids")
    if os.path.exists(qemu_list):
        os.remove(qemu_list)
    if pids and not quiet:
        log(f"teardown: stopping {len(pids)} lab process(es): {sorted(pids)}")
    kill_and_wait(sorted(pids))
    for ns in (ROUTER_NS, HOST_NS):
        if ns_exists(ns):
            sh("ip", "netns", "del", ns, check=False)
    shutil.rmtree(NETNS_ETC, ignore_errors=True)
    if os.path.exists(os.path.join(RUN, "dnsmasq.pid")):
        os.remove(os.path.join(RUN, "dnsmasq.pid"))


LEASE_HOOK = r"""#!/bin/sh
# dnsmasq --dhcp-script: one JSON line per lease event, stamped with the host clock in ms.
# Arguments: ACTION (add|old|del|tftp) MAC IP [HOSTNAME]
t=$(date +%s%3N)
printf '{"t_ms": %s, "action": "%s", "mac": "%s", "ip": "%s", "hostname": "%s", "client_id": "%s"}\n' \
  "$t" "$1" "$2" "$3" "$4" "$DNSMASQ_CLIENT_ID" >> "$(dirname "$0")/lease-events.jsonl"
"""


def setup_network(fresh_leases=True):
    """Creates both namespaces, the bridge, the veth pair, resolv.conf, and starts dnsmasq."""
    os.makedirs(RUN, exist_ok=True)
    sh("ip", "netns", "add", ROUTER_NS)
    sh("ip", "netns", "add", HOST_NS)
    r = ("ip", "-n", ROUTER_NS)
    sh(*r, "link", "set", "lo", "up")
    sh(*r, "link", "add", BRIDGE, "type", "bridge", "forward_delay", "0", "stp_state", "0")
    # A fixed MAC, as a real router has: a bridge otherwise takes the lowest MAC of its ports and
    # changes it whenever a VM's tap comes or goes, and the host's neighbour entry for the router
    # (hence DNS) then points at a MAC nobody answers to for several seconds.
    sh(*r, "link", "set", BRIDGE, "address", ROUTER_MAC)
    sh(*r, "addr", "add", f"{ROUTER_IP}/{PREFIX}", "dev", BRIDGE)
    sh(*r, "link", "set", BRIDGE, "up")
    # the veth pair is born in the router namespace; its peer goes straight into the host one
    sh(*r, "link", "add", "to-host", "type", "veth", "peer", "name", "eth0", "netns", HOST_NS)
    sh(*r, "link", "set", "to-host", "master", BRIDGE, "up")
    h = ("ip", "-n", HOST_NS)
    sh(*h, "link", "set", "lo", "up")
    sh(*h, "addr", "add", f"{HOST_IP}/{PREFIX}", "dev", "eth0")
    sh(*h, "link", "set", "eth0", "up")
    os.makedirs(NETNS_ETC, exist_ok=True)
    with open(os.path.join(NETNS_ETC, "resolv.conf"), "w") as f:
        f.write(f"# vmbar lab: the router's DNS (dnsmasq in namespace {ROUTER_NS})\n"
                f"nameserver {ROUTER_IP}\nsearch {DOMAIN}\noptions timeout:1 attempts:2\n")
    if fresh_leases:
        for p in (LEASES, LEASE_EVENTS):
            if os.path.exists(p):
                os.remove(p)
    shutil.rmtree(HOSTS_DIR, ignore_errors=True)
    os.makedirs(HOSTS_DIR)
    open(LEASES, "a").close()
    open(LEASE_EVENTS, "a").close()
    hook = os.path.join(RUN, "lease-hook")
    with open(hook, "w") as f:
        f.write(LEASE_HOOK)
    os.chmod(hook, 0o755)
    start_dnsmasq()


def start_dnsmasq():
    pidfile = os.path.join(RUN, "dnsmasq.pid")
    cmd = ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--user=root",
           "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", f"--interface={BRIDGE}",
           "--except-interface=lo", f"--listen-address={ROUTER_IP}",
           f"--dhcp-range={DHCP_FIRST},{DHCP_LAST},255.255.255.0,{LEASE_TIME}",
           f"--dhcp-option=option:router,{ROUTER_IP}", f"--dhcp-option=option:dns-server,{ROUTER_IP}",
           f"--domain={DOMAIN}", f"--local=/{DOMAIN}/", "--expand-hosts", "--dhcp-authoritative",
           "--domain-needed",  # an unknown plain name gets NXDOMAIN, as a home router (via its upstream) answers
           "--no-ping",  # no ICMP check before an offer: keeps boots short; the lab has no squatters
           f"--dhcp-leasefile={LEASES}", f"--dhcp-script={os.path.join(RUN, 'lease-hook')}",
           f"--dhcp-hostsdir={HOSTS_DIR}",
           "--log-dhcp", "--log-queries", f"--log-facility={os.path.join(RUN, 'dnsmasq.log')}", f"--pid-file={pidfile}"]
    p = subprocess.Popen(["ip", "netns", "exec", ROUTER_NS] + cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(RUN, "dnsmasq.stderr"), "w"),
                         start_new_session=True)
    deadline = time.time() + 5
    while time.time() < deadline:
        if p.poll() is not None:
            raise RuntimeError("dnsmasq exited: " + open(os.path.join(RUN, "dnsmasq.stderr")).read())
        try:  # dnsmasq answers DNS once up: ask it for a name it cannot know, from the host side
            if read_pidfile(pidfile) and dns_ready():
                return p.pid
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError("dnsmasq did not come up")


def dns_ready():
    out = subprocess.run(["ip", "netns", "exec", HOST_NS, sys.executable, "-c",
                          "import socket,sys\ntry: socket.gethostbyname('ready-check.lab.')\nexcept socket.gaierror as e: sys.exit(0 if e.errno == socket.EAI_NONAME else 1)\nsys.exit(0)"],
                         capture_output=True, timeout=5)
    return out.returncode == 0


def up(fresh_leases=True):
    teardown()
    try:
        setup_network(fresh_leases)
    except Exception:
        teardown(quiet=True)
        raise


# ---------------------------------------------------------------- leases

def lease_events():
    """Every lease event so far: dicts {t_ms, action, mac, ip, hostname, client_id}."""
    out = []
    try:
        with open(LEASE_EVENTS) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def fix_address(mac, ip):
    """From now on the router gives `mac` the address `ip` (a dnsmasq host entry, read at once)."""
    name = mac.replace(":", "-")
    tmp = os.path.join(HOSTS_DIR, "." + name)  # dnsmasq skips dotfiles; the rename is what it reads
    with open(tmp, "w") as f:
        f.write(f"{mac},{ip}\n")
    os.rename(tmp, os.path.join(HOSTS_DIR, name))


def wait_lease(mac, after_ms=0, timeout=60, exclude_ips=()):
    """First lease event (add/old) for mac at or after after_ms: (ip, t_ms); None on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in lease_events():
            if e["mac"].lower() == mac.lower() and e["action"] in ("add", "old") and \
                    e["t_ms"] >= after_ms and e["ip"] not in exclude_ips:
                return e["ip"], e["t_ms"]
        time.sleep(0.1)
    return None


# ---------------------------------------------------------------- accelerator

_accel = None


def probe_accel(timeout_s=6.0):
    """"kvm" when a guest really boots under -accel kvm here, else "tcg". /dev/kvm can exist and open
    and still not run a stock kernel (paravirtual KVM): only a boot that reaches our init counts."""
    global _accel
    if _accel:
        return _accel
    forced = os.environ.get("VMBAR_LAB_ACCEL")
    if forced in ("kvm", "tcg"):
        _accel = forced
        return _accel
    cache = os.path.join(RUN, "accel")
    if os.path.exists(cache) and time.time() - os.path.getmtime(cache) < 3600:
        _accel = open(cache).read().strip()
        return _accel
    _accel = "tcg"
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        g = guest.build()
        os.makedirs(RUN, exist_ok=True)
        con = os.path.join(RUN, "kvm-probe.log")
        if os.path.exists(con):
            os.remove(con)
        p = subprocess.Popen(["qemu-system-x86_64", "-accel", "kvm", "-m", "192", "-nodefaults",
                              "-no-user-config", "-display", "none", "-serial", f"file:{con}",
                              "-kernel", g["kernel"], "-initrd", g["initrd"], "-nic", "none",
                              "-append", "console=ttyS0 panic=-1 vmbar.hostname=kvmprobe"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.time() + timeout_s
            while time.time() < deadline and p.poll() is None:
                try:
                    if "Run /init as init process" in open(con, errors="replace").read():
                        _accel = "kvm"
                        break
                except OSError:
                    pass
                time.sleep(0.2)
        finally:  # also on Ctrl-C: this QEMU (no NIC at all) is not inside a lab namespace
            if p.poll() is None:
                p.kill()
            p.wait()
    with open(cache, "w") as f:
        f.write(_accel + "\n")
    return _accel


# ---------------------------------------------------------------- VMs

def mac_for(index):
    return "52:54:00:77:%02x:%02x" % ((index >> 8) & 0xff, index & 0xff)


class VM:
    """One QEMU VM in VMS/NAME/ (console.log, qemu.pid) with a tap on the lab bridge."""

    def __init__(self, vms_dir, name, mac, tap=None, append_console=False, kernel_args=(), **opts):
        self.vms_dir, self.name, self.mac = vms_dir, name, mac
        self.dir = os.path.join(vms_dir, name)
        self.tap = tap or ("t-" + name)[:15]
        self.opts = opts          # kernel command-line options of the guest (see lab/guest/init)
        # append_console: `-chardev file,append=on` (a restarted QEMU keeps the earlier boots in
        # console.log, as a user's `vm` tool that appends does) instead of `-serial file:` (O_TRUNC)
        self.append_console = append_console
        self.kernel_args = list(kernel_args)  # more kernel arguments, e.g. ["quiet"]
        self.proc = None
        self.started_ms = None

    @property
    def console(self):
        return os.path.join(self.dir, "console.log")

    @property
    def pidfile(self):
        return os.path.join(self.dir, "qemu.pid")

    def make_dir(self):
        os.makedirs(self.dir, exist_ok=True)

    def register(self, ip=None, registry=None):
        """Adds/updates this VM's entry in VMS/registry.json (mac_address, hostname, ip_address)."""
        register(self.vms_dir, self.name, self.mac, ip, registry)

    def cmdline(self):
        parts = ["console=ttyS0", "panic=5", f"vmbar.hostname={self.name}"] + self.kernel_args
        parts += [f"vmbar.{k}={v}" for k, v in self.opts.items()]
        return " ".join(parts)

    def start(self, daemonize=False):
        g = guest.build()
        self.make_dir()
        if not tap_exists(self.tap):
            sh("ip", "-n", ROUTER_NS, "tuntap", "add", "dev", self.tap, "mode", "tap")
            sh("ip", "-n", ROUTER_NS, "link", "set", self.tap, "master", BRIDGE, "up")
        cmd = ["ip", "netns", "exec", ROUTER_NS, "qemu-system-x86_64", "-name", self.name,
               "-accel", probe_accel(), "-m", "192", "-smp", "1", "-nodefaults", "-no-user-config",
               "-display", "none", *self.serial_args(), "-pidfile", self.pidfile,
               "-kernel", g["kernel"], "-initrd", g["initrd"], "-append", self.cmdline(),
               "-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no",
               "-device", f"virtio-net-pci,netdev=n0,mac={self.mac}"]
        if daemonize:
            cmd.append("-daemonize")
        self.started_ms = now_ms()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "qemu.stderr"), "w"),
                                     start_new_session=True)
        if daemonize:
            self.proc.wait(timeout=30)
            if self.proc.returncode != 0:
                raise RuntimeError(f"qemu {self.name}: " + open(os.path.join(self.dir, "qemu.stderr")).read())
        deadline = time.time() + 10
        while not read_pidfile(self.pidfile):
            if time.time() > deadline or (self.proc.poll() not in (None, 0)):
                raise RuntimeError(f"qemu {self.name} did not start: " +
                                   open(os.path.join(self.dir, "qemu.stderr")).read())
            time.sleep(0.05)
        return self

    def serial_args(self):
        if self.append_console:
            # QEMU's chardev option syntax: a comma inside the path would have to be doubled
            return ["-chardev", f"file,id=con0,path={self.console.replace(',', ',,')},append=on", "-serial", "chardev:con0"]
        return ["-serial", f"file:{self.console}"]

    def pid(self):
        if self.proc and self.proc.poll() is None:
            return self.proc.pid  # `ip netns exec` execs QEMU: same pid (not with -daemonize)
        return read_pidfile(self.pidfile)

    def alive(self):
        p = self.pid()
        return bool(p) and pid_alive(p)

    def kill(self, sig=signal.SIGKILL):
        p = self.pid()
        if p:
            kill_pid(p, sig)
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_pid(p, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def stop(self):
        """Ends QEMU (SIGTERM, then SIGKILL) and removes its tap."""
        p = self.pid()
        if p and pid_alive(p):
            kill_and_wait([p])
        if self.proc:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if tap_exists(self.tap):
            sh("ip", "-n", ROUTER_NS, "link", "del", self.tap, check=False)

    def console_text(self):
        try:
            return open(self.console, errors="replace").read()
        except OSError:
            return ""

    def ssh_async(self, ip, command):
        """Like ssh() but returns the running dbclient (for commands that end the session badly)."""
        g = guest.build()
        env = dict(os.environ, HOME=os.path.join(RUN, "ssh-home"))
        os.makedirs(env["HOME"], exist_ok=True)
        return subprocess.Popen(["ip", "netns", "exec", HOST_NS, "dbclient", "-y", "-y", "-i", g["ssh_key"],
                                 f"root@{ip}", command], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, start_new_session=True)

    def ssh(self, ip, command, timeout=15):
        """Runs a command in the guest over SSH (dbclient, lab key) from the host namespace."""
        g = guest.build()
        env = dict(os.environ, HOME=os.path.join(RUN, "ssh-home"))
        os.makedirs(env["HOME"], exist_ok=True)
        return subprocess.run(["ip", "netns", "exec", HOST_NS, "dbclient", "-y", "-y", "-i", g["ssh_key"],
                               f"root@{ip}", command], capture_output=True, text=True, timeout=timeout, env=env)


def tap_exists(tap):
    return sh("ip", "-n", ROUTER_NS, "link", "show", tap, check=False).strip() != ""


def register(vms_dir, name, mac, ip=None, registry=None, hostname=None):
    path = registry or os.path.join(vms_dir, "registry.json")
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        data = {"vms": {}}
    entry = {"mac_address": mac, "hostname": hostname or name}
    if ip:
        entry["ip_address"] = ip
    data.setdefault("vms", {})[name] = entry
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------- SSH banner probe

PROBE_CODE = r"""
# Opens a new connection to IP:22 every 100 ms and keeps each open up to 3 s (at most 10 at once),
# so that a slow server (dropbear forking under TCG) is not penalised by reconnects, while a port
# that accepts and stays silent (the guest's banner_delay) is seen the moment a real server takes
# over. Closed port: refused at once, so it is simply retried.
import json, selectors, socket, sys, time
ip, deadline = sys.argv[1], time.time() + float(sys.argv[2])
sel = selectors.DefaultSelector()
port_open = False
next_conn = 0.0
def emit(event, **kw):
    print(json.dumps(dict(event=event, t_ms=int(time.time() * 1000), **kw)), flush=True)
while time.time() < deadline:
    now = time.time()
    if now >= next_conn and len(sel.get_map()) < 10:
        s = socket.socket(); s.setblocking(False)
        s.connect_ex((ip, 22))
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, {"t": now, "buf": b"", "up": False})
        next_conn = now + 0.1
    for key, ev in sel.select(timeout=0.01):
        s, d = key.fileobj, key.data
        if not d["up"]:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                sel.unregister(s); s.close(); continue
            d["up"] = True
            sel.modify(s, selectors.EVENT_READ, d)
            if not port_open:
                port_open = True; emit("port_open")
            continue
        try:
            chunk = s.recv(256)
        except OSError:
            chunk = b""
        if not chunk:
            sel.unregister(s); s.close(); continue
        d["buf"] += chunk
        if d["buf"].startswith(b"SSH-") and b"\n" in d["buf"]:
            emit("banner", banner=d["buf"].split(b"\r\n")[0].decode(errors="replace"))
            sys.exit(0)
    for key in list(sel.get_map().values()):
        if time.time() - key.data["t"] > 3:
            sel.unregister(key.fileobj); key.fileobj.close()
sys.exit(1)
"""


def banner_probe(ip, timeout_s=90):
    """Starts the rig's own SSH probe in the host namespace: a new connection to ip:22 every 100 ms,
    each held up to 3 s; prints JSON events port_open and banner (host-clock ms) and exits at the
    first banner. Returns the Popen (stdout = events)."""
    return subprocess.Popen(["ip", "netns", "exec", HOST_NS, sys.executable, "-c", PROBE_CODE, ip, str(timeout_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
