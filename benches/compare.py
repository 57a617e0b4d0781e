#!/usr/bin/env python3
"""Whole-process comparison: `vmbar status --json` against the user's shell pipeline
(benches/baseline.sh) on the same generated fleets, plus the idle cost of `vmbar watch`.

Usage (root): benches/compare.py [--vmbar target/release/vmbar] [--sizes 1,10,50,200]
                                 [--console-bytes 3145728] [--reps 3] [--idle-seconds 60]
                                 [--out target/vmbar-bench]
Writes OUT/compare.md, OUT/idle.md (markdown tables for scripts/bench) and OUT/compare.json.

The network lives in two network namespaces this script creates and removes:
  vmbar-bench-host  eth0 10.79.255.1/16: vmbar and the baseline run here; its resolv.conf
                    (/etc/netns/vmbar-bench-host/resolv.conf) names only the dnsmasq below
  vmbar-bench-vms   lan 10.79.255.254/16 (veth peer of eth0) with dnsmasq answering every VM name
                    (A and PTR, no upstream: --no-resolv); one macvlan per VM on lan, each with the
                    VM's own MAC and IPv4 (/32), arp_ignore=1 so only that macvlan answers ARP for
                    its address; one python process listening on port 22 of every address and
                    sending an OpenSSH banner
Nothing is configured in the root namespace and no packet leaves these namespaces.

Per VM: a folder with a generated console.log (a boot with the cloud-init 25.x Net device info
table carrying the VM's MAC and IPv4, then noise up to --console-bytes), a registry entry (IPv4,
MAC, hostname), and a QEMU-like process holding qemu.pid: argv `qemu-system-x86_64 -c ... -pidfile
PATH -device virtio-net-pci,mac=MAC` (a bash blocked on a pipe), whose fcntl write lock on the
pidfile was taken before exec (POSIX record locks survive execve), as QEMU's -pidfile does.

Measured per run (each command started through `ip netns exec vmbar-bench-host`):
  wall         monotonic clock around the process
  CPU          user + system of the process and every descendant it waited for (wait4 rusage)
  peak RSS     GNU time's %M: the largest single process of the tree
  programs     execve calls that succeeded, counted in a separate run under `strace -f -e execve`
               (not timed), the measured program itself included
The neighbour table of the host namespace is flushed before each fleet and warmed by one
untimed vmbar run, so that both tools see the same steady-state table. Every figure is the
median of --reps runs, vmbar and baseline runs alternating.

Idle (--idle-seconds, 10 VMs): `vmbar watch --json` is started, left 10 s to settle (all VMs
running), then `perf stat -e task-clock,context-switches` attaches to it for the window (CPU %
of one core = task-clock / window; wakeups/s = context switches / window; when perf is missing,
/proc/PID/stat utime+stime and the tasks' voluntary switches are used), and VmRSS/VmHWM come
from /proc/PID/status at the end.
"""
import argparse, json, os, resource, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_NS, VMS_NS = "vmbar-bench-host", "vmbar-bench-vms"
HOST_IP, DNS_IP = "10.79.255.1", "10.79.255.254"
NETNS_ETC = f"/etc/netns/{HOST_NS}"
BANNER = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n"


def vm_ip(i):
    return f"10.79.{i // 250}.{i % 250 + 2}"


def vm_mac(i):
    return f"52:54:00:bf:{(i >> 8) & 0xff:02x}:{i & 0xff:02x}"


def vm_name(i):
    return f"vm{i:04d}"


def sh(*cmd, ns=None, check=True, input=None):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


# ------------------------------------------------------------------ consoles (same format as the Rust benches)

_noise = {}


def noise(length):
    if length not in _noise:
        out, t, k, n = [], 100.0, 0, 0
        while n < length:
            k += 1
            t += 0.37
            m = k % 4
            if m == 0:
                line = (f'audit: type=1400 audit({1775000000 + k}.{k % 1000:03d}:{k}): apparmor="DENIED" operation="open" '
                        f'class="file" profile="snap.lxd.daemon" name="/proc/{k}/mountinfo" pid={k} comm="lxd" '
                        f'requested_mask="r" denied_mask="r" fsuid=0 ouid=0')
            elif m == 1:
                line = (f"systemd-journald[389]: Data hash table of /var/log/journal/8d1f/system.journal has a fill "
                        f"level at 75.0 ({k} of 11832 items, 6815744 file size, 489 bytes per hash table item), suggesting rotation.")
            elif m == 2:
                line = f"EXT4-fs (vda1): resizing filesystem from {500000 + k} to {600000 + k} blocks"
            else:
                line = f"systemd[1]: Started session-{k}.scope - Session {k} of User ubuntu."
            s = f"[{t:12.6f}] {line}\n"
            out.append(s)
            n += len(s)
        _noise[length] = "".join(out).encode()
    return _noise[length]


def console_text(i, size):
    t = 0.0
    lines = []

    def ts(text, step):
        nonlocal t
        t += step
        lines.append(f"[{t:12.6f}] {text}")

    def ci(text):
        nonlocal t
        t += 0.0007
        lines.append(f"[{t:12.6f}] cloud-init[658]: {text}")

    ts("Linux version 6.8.0-45-generic (buildd@lcy02-amd64-115) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42) #45-Ubuntu SMP PREEMPT_DYNAMIC", 0)
    ts("Command line: BOOT_IMAGE=/vmlinuz-6.8.0-45-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0", 0)
    for k in range(400):
        ts(f"pci 0000:00:{k % 32:02x}.0: [1af4:1000] type 00 class 0x020000 conventional PCI endpoint; BAR {k} [io  0xc000-0xc03f]", 0.0013)
    for unit in ["systemd-journald.service", "systemd-udevd.service", "systemd-networkd.service", "ssh.service", "snapd.seeded.service"]:
        lines.append(f"[  OK  ] Started {unit} - Journal Service.")
    ci(f"Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init-local' at Thu, 09 Apr 2026 08:37:01 +0000. Up {t:.2f} seconds.")
    ci(f"Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init' at Thu, 09 Apr 2026 08:37:09 +0000. Up {t:.2f} seconds.")
    bar = "ci-info: +--------+------+----------------------------+---------------+--------+-------------------+"
    for line in ["ci-info: ++++++++++++++++++++++++++++++++++++++Net device info++++++++++++++++++++++++++++++++++++++", bar,
                 "ci-info: | Device |  Up  |          Address           |      Mask     | Scope  |     Hw-Address    |", bar,
                 f"ci-info: |  eth0  | True | {vm_ip(i):^26} | 255.255.0.0   | global | {vm_mac(i)} |",
                 "ci-info: |   lo   | True |         127.0.0.1          |   255.0.0.0   |  host  |         .         |",
                 "ci-info: |   lo   | True |          ::1/128           |       .       |  host  |         .         |", bar]:
        ci(line)
    ci(f"Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'modules:config' at Thu, 09 Apr 2026 08:37:12 +0000. Up {t:.2f} seconds.")
    ci(f"Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'modules:final' at Thu, 09 Apr 2026 08:37:13 +0000. Up {t:.2f} seconds.")
    ci(f"Cloud-init v. 25.2-0ubuntu1~24.04.1 finished at Thu, 09 Apr 2026 08:37:14 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb]. Up {t:.2f} seconds")
    head = ("\n".join(lines) + f"\n\nUbuntu 24.04.1 LTS {vm_name(i)} ttyS0\n\n{vm_name(i)} login: \n").encode()
    return head + (noise(size - len(head)) if size > len(head) else b"")


# ------------------------------------------------------------------ the lab of the benchmark

class Bench:
    def __init__(self, max_n, work):
        self.max_n, self.work = max_n, work
        self.procs = []          # Popen objects this script started
        self.holder = None

    def up(self):
        self.down()
        sh("ip", "netns", "add", HOST_NS)
        sh("ip", "netns", "add", VMS_NS)
        # The veth pair is made inside the VMs namespace and its peer moved straight to the host one.
        sh("ip", "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", HOST_NS, ns=VMS_NS)
        for ns in (HOST_NS, VMS_NS):
            sh("ip", "link", "set", "lo", "up", ns=ns)
        for k, v in (("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"),
                     ("net.ipv4.conf.all.rp_filter", "0"), ("net.ipv4.conf.default.rp_filter", "0"),
                     ("net.core.somaxconn", "4096")):
            sh("sysctl", "-q", "-w", f"{k}={v}", ns=VMS_NS)
        sh("ip", "addr", "add", f"{HOST_IP}/16", "dev", "eth0", ns=HOST_NS)
        sh("ip", "link", "set", "eth0", "up", ns=HOST_NS)
        sh("ip", "addr", "add", f"{DNS_IP}/16", "dev", "lan", ns=VMS_NS)
        sh("ip", "link", "set", "lan", "up", ns=VMS_NS)
        batch = []
        for i in range(self.max_n):
            batch += [f"link add m{i} link lan address {vm_mac(i)} type macvlan mode bridge",
                      f"addr add {vm_ip(i)}/32 dev m{i}", f"link set m{i} up"]
        sh("ip", "-batch", "-", ns=VMS_NS, input="\n".join(batch) + "\n")
        # DNS: dnsmasq in the VMs namespace, names of every VM (A + PTR), no upstream.
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            for i in range(self.max_n):
                f.write(f"{vm_ip(i)} {vm_name(i)}\n")
        os.chmod(self.work, 0o755)
        os.chmod(hosts, 0o644)
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", VMS_NS, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
             f"--addn-hosts={hosts}", f"--listen-address={DNS_IP}", "--bind-interfaces", "--interface=lan",
             "--except-interface=lo", "--no-dhcp-interface=lan", f"--pid-file={self.work}/dnsmasq.pid", "--user=root",
             "--log-facility=/dev/null"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        os.makedirs(NETNS_ETC, exist_ok=True)
        with open(os.path.join(NETNS_ETC, "resolv.conf"), "w") as f:
            f.write(f"# vmbar benchmark (benches/compare.py): the namespace's own dnsmasq only\nnameserver {DNS_IP}\noptions timeout:1 attempts:1\n")
        # The SSH banner on port 22 of every address of the VMs namespace.
        listener = ("import asyncio,sys\nB=%r\nasync def h(r,w):\n    w.write(B)\n    try:\n        await w.drain()\n    except Exception:\n        pass\n"
                    "    w.close()\nasync def main():\n    s=await asyncio.start_server(h,'0.0.0.0',22,backlog=4096)\n    print('ready',flush=True)\n"
                    "    await s.serve_forever()\nasyncio.run(main())\n") % BANNER
        p = subprocess.Popen(["ip", "netns", "exec", VMS_NS, sys.executable, "-c", listener], stdout=subprocess.PIPE)
        self.procs.append(p)
        if p.stdout.readline().strip() != b"ready":
            raise RuntimeError("SSH banner listener did not start")
        deadline = time.time() + 10
        while not os.path.exists(f"{self.work}/dnsmasq.pid"):
            if time.time() > deadline:
                raise RuntimeError("dnsmasq did not start")
            time.sleep(0.05)

    def fleet(self, n, console_bytes):
        """A VMs folder for n VMs with live QEMU-like processes; returns (dir, config path)."""
        self.stop_holder()
        d = os.path.join(self.work, f"fleet-{n}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        reg = {"vms": {}}
        pidfiles = []
        for i in range(n):
            vd = os.path.join(d, vm_name(i))
            os.makedirs(vd)
            open(os.path.join(vd, "disk.qcow2"), "w").close()
            reg["vms"][vm_name(i)] = {"ip_address": vm_ip(i), "mac_address": vm_mac(i), "hostname": vm_name(i),
                                      "ssh_user": "ubuntu", "ssh_port": 22, "memory": 2048, "cpus": 2}
            pidfiles.append((os.path.join(vd, "qemu.pid"), vm_mac(i)))
        with open(os.path.join(d, "registry.json"), "w") as f:
            json.dump(reg, f, indent=2)
        self.start_holder(pidfiles)
        time.sleep(1.1)  # console content older than its QEMU would be an earlier boot
        for i in range(n):
            with open(os.path.join(d, vm_name(i), "console.log"), "wb") as f:
                f.write(console_text(i, console_bytes))
        cfg = os.path.join(d, "vmbar.toml")
        with open(cfg, "w") as f:
            f.write(f"vms_dir = {json.dumps(d)}\n")
        return d, cfg

    def start_holder(self, pidfiles):
        # One parent forks a child per VM; the child locks its pidfile (fcntl, as QEMU does), writes
        # its pid, and execs a bash that blocks on a pipe, with QEMU's argv. The parent keeps the
        # pipe's write end: when it goes, every child reads EOF and exits.
        r, w = os.pipe()
        children = []
        for path, mac in pidfiles:
            pid = os.fork()
            if pid == 0:
                try:
                    import fcntl
                    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                    fcntl.lockf(fd, fcntl.LOCK_EX)
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                    os.set_inheritable(fd, True)
                    os.dup2(r, 0)
                    os.close(w)
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 1)
                    os.dup2(devnull, 2)
                    os.execv("/bin/bash", ["qemu-system-x86_64", "-c", "read -r _", "-pidfile", path,
                                           "-device", f"virtio-net-pci,mac={mac}", "-serial", "file:console.log"])
                finally:
                    os._exit(127)
            children.append(pid)
        os.close(r)
        self.holder = (w, children)
        for path, _ in pidfiles:
            deadline = time.time() + 10
            while True:
                try:
                    if open(path).read().strip():
                        break
                except OSError:
                    pass
                if time.time() > deadline:
                    raise RuntimeError(f"QEMU-like process did not write {path}")
                time.sleep(0.01)

    def stop_holder(self):
        if self.holder:
            w, children = self.holder
            os.close(w)
            for pid in children:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            self.holder = None

    def down(self):
        self.stop_holder()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        # Anything still inside our namespaces is ours (started through them by this script).
        for ns in (HOST_NS, VMS_NS):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(NETNS_ETC, ignore_errors=True)


# ------------------------------------------------------------------ measuring

def run_measured(cmd):
    """Runs cmd in the host namespace; returns (stdout, wall s, cpu s, peak RSS KiB)."""
    out = tempfile.TemporaryFile()
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as tf:
        # GNU time reports the peak RSS of the tree's largest process (`ip netns exec` itself has
        # a large RSS and ru_maxrss survives execve, so it must not be the measured process).
        t0 = time.monotonic()
        p = subprocess.Popen(["ip", "netns", "exec", HOST_NS, "/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd,
                             stdout=out, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        try:
            rss = int(tf.read().strip().splitlines()[-1])
        except (ValueError, IndexError):
            rss = 0
    out.seek(0)
    return out.read().decode(errors="replace"), wall, ru.ru_utime + ru.ru_stime, rss


def count_execs(cmd):
    """Programs executed (successful execve) by cmd and its descendants, under strace."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".strace") as f:
        subprocess.run(["ip", "netns", "exec", HOST_NS, "strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none",
                        "-o", f.name] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return sum(1 for line in open(f.name) if "execve(" in line and line.rstrip().endswith("= 0"))


def check_vmbar(out, n):
    try:
        data = json.loads(out)
    except ValueError:
        return 0
    rows = data if isinstance(data, list) else data.get("vms", [])
    ips = {vm_name(i): vm_ip(i) for i in range(n)}
    return sum(1 for r in rows if r.get("status") == "running" and ips.get(r.get("name")) == r.get("ipv4"))


def check_baseline(out, n):
    ips = {vm_name(i): vm_ip(i) for i in range(n)}
    ok = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "running" and ips.get(parts[0]) == parts[2]:
            ok += 1
    return ok


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def idle(bench, vmbar, seconds, console_bytes):
    d, cfg = bench.fleet(10, console_bytes)
    log = open(os.path.join(bench.work, "watch.jsonl"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", HOST_NS, vmbar, "--config", cfg, "watch", "--json"], stdout=log,
                         stderr=subprocess.DEVNULL)
    bench.procs.append(p)
    time.sleep(10)
    pid = p.pid  # ip netns exec execs vmbar in place

    def proc_cpu():
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def vol_switches():
        tot = 0
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                for line in open(f"/proc/{pid}/task/{t}/status"):
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        tot += int(line.split()[1])
            except OSError:
                pass
        return tot

    c0, s0, t0 = proc_cpu(), vol_switches(), time.monotonic()
    perf = None
    if shutil.which("perf"):
        perf = subprocess.run(["perf", "stat", "-x", ",", "-e", "task-clock,context-switches", "-p", str(pid), "--",
                               "sleep", str(seconds)], capture_output=True, text=True)
    else:
        time.sleep(seconds)
    window = time.monotonic() - t0
    c1, s1 = proc_cpu(), vol_switches()
    status = {l.split(":")[0]: l.split(":")[1].strip() for l in open(f"/proc/{pid}/status") if ":" in l}
    threads = status.get("Threads")
    p.terminate()
    p.wait()
    log.close()
    res = {"vms": 10, "window_s": round(window, 1), "cpu_pct_proc_stat": 100 * (c1 - c0) / window,
           "switches_per_s_proc": (s1 - s0) / window, "vm_rss": status.get("VmRSS"), "vm_hwm": status.get("VmHWM"),
           "threads": threads}
    if perf and perf.returncode == 0:
        for line in perf.stderr.splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2] == "task-clock" and parts[0] not in ("", "<not supported>", "<not counted>"):
                res["cpu_pct_perf"] = 100 * float(parts[0]) / 1000 / window
            if len(parts) > 2 and parts[2] == "context-switches" and parts[0] not in ("", "<not supported>", "<not counted>"):
                res["switches_per_s_perf"] = float(parts[0]) / window
    lines = sum(1 for _ in open(os.path.join(bench.work, "watch.jsonl")))
    res["watch_output_lines"] = lines
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vmbar", default=os.path.join(ROOT, "target", "release", "vmbar"))
    ap.add_argument("--sizes", default="1,10,50,200")
    ap.add_argument("--console-bytes", type=int, default=3 << 20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "vmbar-bench"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("compare.py: needs root (network namespaces)")
    for tool in ("/usr/bin/time", "ip", "dnsmasq", "jq", "arp", "nslookup", "nc", "strace", "timeout"):
        if not shutil.which(tool):
            sys.exit(f"compare.py: missing {tool} (scripts/bench installs net-tools, netcat-openbsd, bind9-dnsutils, strace)")
    if not os.access(a.vmbar, os.X_OK):
        sys.exit(f"compare.py: no vmbar at {a.vmbar} (cargo build --release -p vmbar-cli)")
    sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vmbar-compare-")
    bench = Bench(max(sizes + [10]), work)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    results, idle_res = [], None
    baseline = os.path.join(ROOT, "benches", "baseline.sh")
    try:
        bench.up()
        for n in sizes:
            d, cfg = bench.fleet(n, a.console_bytes)
            vm_cmd = [a.vmbar, "--config", cfg, "status", "--json"]
            bl_cmd = ["bash", baseline, d]
            sh("ip", "neigh", "flush", "dev", "eth0", ns=HOST_NS, check=False)
            run_measured(vm_cmd)  # warms the neighbour table (both tools then see the same one)
            vm, bl = [], []
            # The baseline takes minutes per run at 200 VMs: fewer runs there (the table says how many).
            reps = a.reps if n < 200 else max(1, a.reps - 2)
            for _ in range(reps):
                vm.append(run_measured(vm_cmd))
                bl.append(run_measured(bl_cmd))
            row = {"n": n, "console_bytes": a.console_bytes, "reps": reps,
                   "vmbar": {"wall_s": median([r[1] for r in vm]), "cpu_s": median([r[2] for r in vm]),
                             "peak_rss_kib": max(r[3] for r in vm), "correct": min(check_vmbar(r[0], n) for r in vm),
                             "programs": count_execs(vm_cmd)},
                   "baseline": {"wall_s": median([r[1] for r in bl]), "cpu_s": median([r[2] for r in bl]),
                                "peak_rss_kib": max(r[3] for r in bl), "correct": min(check_baseline(r[0], n) for r in bl),
                                "programs": count_execs(bl_cmd)}}
            results.append(row)
            print(json.dumps(row), flush=True)
        if a.idle_seconds > 0:
            idle_res = idle(bench, a.vmbar, a.idle_seconds, a.console_bytes)
            print(json.dumps({"idle": idle_res}), flush=True)
    except KeyboardInterrupt as e:
        print(f"compare.py: interrupted ({e}); cleaning up", file=sys.stderr)
        return 1
    finally:
        bench.down()
        shutil.rmtree(work, ignore_errors=True)

    # A run of only one part keeps the other part's latest figures (scripts/bench idle-watch).
    prev_path = os.path.join(a.out, "compare.json")
    prev = json.load(open(prev_path)) if os.path.exists(prev_path) else {}
    with open(prev_path, "w") as f:
        json.dump({"rows": results or prev.get("rows", []), "idle": idle_res or prev.get("idle")}, f, indent=1)
    t = ["| VMs | tool | runs | wall (ms) | CPU user+sys (ms) | peak RSS (MiB) | programs executed | running with the right IPv4 |",
         "|---:|---|---:|---:|---:|---:|---:|---:|"]
    r2 = ["| VMs | wall vmbar / baseline | CPU vmbar / baseline | baseline CPU / vmbar CPU | programs vmbar / baseline |",
          "|---:|---:|---:|---:|---:|"]
    for row in results:
        for tool in ("vmbar", "baseline"):
            x = row[tool]
            name = "`vmbar status --json`" if tool == "vmbar" else "benches/baseline.sh"
            t.append(f"| {row['n']} | {name} | {row['reps']} | {x['wall_s'] * 1000:.0f} | {x['cpu_s'] * 1000:.0f} | {x['peak_rss_kib'] / 1024:.1f} "
                     f"| {x['programs']} | {x['correct']}/{row['n']} |")
        v, b = row["vmbar"], row["baseline"]
        r2.append(f"| {row['n']} | {v['wall_s'] / b['wall_s']:.3f} | {v['cpu_s'] / b['cpu_s'] if b['cpu_s'] else float('nan'):.3f} "
                  f"| {b['cpu_s'] / v['cpu_s'] if v['cpu_s'] else float('inf'):.1f}x | {v['programs']}/{b['programs']} |")
    body = (f"Each VM: a {a.console_bytes / 1048576:.0f} MiB console.log, a registry entry, a live QEMU-like process holding "
            f"qemu.pid, its own MAC and IPv4 on a macvlan in a network namespace, an SSH banner on port 22, its name in "
            f"the namespace's dnsmasq. Median of the runs shown (vmbar and baseline alternating); one cold process per refresh for both "
            f"tools (vmbar reads every console's tail from scratch, as a one-shot `status` must). CPU is user+sys of the "
            f"whole process tree (wait4), peak RSS the largest process of the tree, programs the successful execve calls "
            f"(strace -f, separate untimed run).\n\n" + "\n".join(t) + "\n\nRatios:\n\n" + "\n".join(r2) + "\n")
    if results:
        with open(os.path.join(a.out, "compare.md"), "w") as f:
            f.write(body)
    if idle_res:
        cpu = idle_res.get("cpu_pct_perf", idle_res["cpu_pct_proc_stat"])
        sw = idle_res.get("switches_per_s_perf", idle_res["switches_per_s_proc"])
        src = "perf stat task-clock / context-switches" if "cpu_pct_perf" in idle_res else "/proc/PID/stat and task voluntary+involuntary switches"
        ib = ("`vmbar watch --json` on 10 running VMs (same setup as above) after 10 s to settle, observed for "
              f"{idle_res['window_s']} s ({src}).\n\n"
              "| CPU % of one core | wakeups (context switches) / s | VmRSS | VmHWM | threads | CPU % (/proc/PID/stat, 10 ms ticks) |\n"
              "|---:|---:|---:|---:|---:|---:|\n"
              f"| {cpu:.3f} | {sw:.1f} | {idle_res['vm_rss']} | {idle_res['vm_hwm']} | {idle_res['threads']} | {idle_res['cpu_pct_proc_stat']:.3f} |\n")
        with open(os.path.join(a.out, "idle.md"), "w") as f:
            f.write(ib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
