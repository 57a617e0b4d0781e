#!/usr/bin/env python3
"""Builds the lab guest: a Debian kernel and an initramfs made of busybox-static, dropbear and the
virtio-net modules, cached under target/vmbar-lab/guest/ so that reruns are instant.

Usage: lab/guest.py build     (prints the kernel, initramfs and SSH key paths)

The kernel and its modules come from the distribution's package, fetched with `apt-get download`
and unpacked with `dpkg-deb -x` (nothing is installed into the host's /boot or /lib/modules). The
guest's behaviour is set per VM on the kernel command line (see lab/guest/init).
"""
import hashlib, os, re, shutil, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "lab", "guest")
CACHE = os.path.join(ROOT, "target", "vmbar-lab", "guest")
KERNEL = os.path.join(CACHE, "vmlinuz")
INITRD = os.path.join(CACHE, "initrd.img")
SSH_KEY = os.path.join(CACHE, "lab_ssh_key")          # dropbear format, for dbclient -i
HOST_KEY = os.path.join(CACHE, "dropbear_ed25519_host_key")
# virtio_net and what it needs (failover/net_failover), plus the virtio PCI transport: all modules
# (=m) in Debian's kernel; the dependency closure is computed from each module's modinfo.
WANT_MODULES = ["virtio_pci", "virtio_net"]


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def kernel_package():
    """The versioned linux-image package the linux-image-amd64 metapackage depends on."""
    out = run("apt-cache", "depends", "linux-image-amd64")
    m = re.search(r"Depends:\s*(linux-image-\S+)", out)
    if not m:
        raise SystemExit("cannot resolve linux-image-amd64 (apt-get update?)")
    return m.group(1)


def fetch_kernel():
    """Downloads and unpacks the kernel package once; keeps vmlinuz and the few modules we need."""
    stamp = os.path.join(CACHE, "kernel.pkg")
    try:
        pkg = kernel_package()
    except (subprocess.CalledProcessError, FileNotFoundError, SystemExit) as e:
        if os.path.exists(stamp):  # offline rerun: the cached kernel will do
            return
        raise SystemExit(f"kernel package: {e}")
    if os.path.exists(stamp) and open(stamp).read().strip() == pkg and os.path.exists(KERNEL):
        return
    print(f"guest: fetching {pkg} (apt-get download + dpkg-deb -x)", flush=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(CACHE)) as tmp:
        os.chmod(tmp, 0o755)  # apt's _apt user writes the download here
        subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp, check=True)
        deb = next(f for f in os.listdir(tmp) if f.endswith(".deb"))
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, deb), root], check=True)
        boot = os.path.join(root, "boot")
        vml = next(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
        moddir = os.path.join(root, "lib", "modules", vml[len("vmlinuz-"):])
        files = {}
        for dirpath, _, names in os.walk(moddir):
            for n in names:
                if n.endswith(".ko"):
                    files[n[:-3].replace("-", "_")] = os.path.join(dirpath, n)
        order = []

        def add(name):
            name = name.replace("-", "_")
            if name in order:
                return
            if name not in files:
                raise SystemExit(f"module {name} not in {pkg}")
            deps = run("modinfo", "-F", "depends", files[name]).strip()
            for d in filter(None, deps.split(",")):
                add(d)
            order.append(name)

        for m in WANT_MODULES:
            add(m)
        mods = os.path.join(CACHE, "modules")
        shutil.rmtree(mods, ignore_errors=True)
        os.makedirs(mods)
        for m in order:
            shutil.copy(files[m], os.path.join(mods, m + ".ko"))
        with open(os.path.join(mods, "load-order"), "w") as f:
            f.write("\n".join(order) + "\n")
        shutil.copy(os.path.join(boot, vml), KERNEL)
    with open(stamp, "w") as f:
        f.write(pkg + "\n")


def libs_of(binary):
    """Shared libraries (absolute paths) a dynamic executable loads, from ldd."""
    out = subprocess.run(["ldd", binary], text=True, capture_output=True).stdout
    return sorted(set(re.findall(r"(/\S+\.so[^\s]*)", out)))


def keys():
    for path in (HOST_KEY, SSH_KEY):
        if not os.path.exists(path):
            run("dropbearkey", "-t", "ed25519", "-f", path)
    pub = run("dropbearkey", "-y", "-f", SSH_KEY)
    return next(l for l in pub.splitlines() if l.startswith("ssh-"))


def inputs_digest(pub):
    h = hashlib.sha256()
    for p in sorted(os.listdir(SRC)):
        h.update(p.encode()); h.update(open(os.path.join(SRC, p), "rb").read())
    for p in ("/bin/busybox", shutil.which("dropbear") or "/usr/sbin/dropbear",
              os.path.join(CACHE, "modules", "load-order"), os.path.join(CACHE, "kernel.pkg")):
        h.update(open(p, "rb").read())
    h.update(pub.encode())
    return h.hexdigest()


def build_initrd():
    pub = keys()
    digest = inputs_digest(pub)
    stamp = INITRD + ".inputs"
    if os.path.exists(INITRD) and os.path.exists(stamp) and open(stamp).read() == digest:
        return
    busybox = "/bin/busybox"
    if "not a dynamic executable" not in subprocess.run(["ldd", busybox], text=True, capture_output=True).stdout + \
            subprocess.run(["ldd", busybox], text=True, capture_output=True).stderr:
        raise SystemExit("/bin/busybox is not static: install busybox-static")
    dropbear = shutil.which("dropbear") or "/usr/sbin/dropbear"
    with tempfile.TemporaryDirectory(dir=CACHE) as st:
        def put(src, dst, mode=None):
            dst = os.path.join(st, dst.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)
            if mode is not None:
                os.chmod(dst, mode)

        put(os.path.join(SRC, "init"), "/init", 0o755)
        put(os.path.join(SRC, "udhcpc.script"), "/etc/udhcpc.script", 0o755)
        put(os.path.join(SRC, "ci-info.awk"), "/etc/ci-info.awk", 0o644)
        put(busybox, "/bin/busybox", 0o755)
        put(dropbear, "/usr/sbin/dropbear", 0o755)
        for lib in libs_of(dropbear):
            put(lib, lib)
        put(HOST_KEY, "/etc/dropbear/dropbear_ed25519_host_key", 0o600)
        mods = os.path.join(CACHE, "modules")
        for n in os.listdir(mods):
            put(os.path.join(mods, n), "/lib/modules/" + n)
        for d in ("proc", "sys", "dev", "run", "tmp", "root/.ssh", "var/log"):
            os.makedirs(os.path.join(st, d), exist_ok=True)
        files = {"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
                 "/etc/group": "root:x:0:\n",
                 "/etc/shells": "/bin/sh\n",
                 "/root/.ssh/authorized_keys": pub + "\n"}
        for path, text in files.items():
            with open(os.path.join(st, path.lstrip("/")), "w") as f:
                f.write(text)
        os.chmod(os.path.join(st, "root/.ssh"), 0o700)
        names = subprocess.run(["find", "."], cwd=st, check=True, capture_output=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=st,
                              input=names, check=True, capture_output=True).stdout
        import gzip
        with open(INITRD + ".tmp", "wb") as f:
            f.write(gzip.compress(cpio, 6))
        os.replace(INITRD + ".tmp", INITRD)
    with open(stamp, "w") as f:
        f.write(digest)


def build():
    os.makedirs(CACHE, exist_ok=True)
    fetch_kernel()
    build_initrd()
    return {"kernel": KERNEL, "initrd": INITRD, "ssh_key": SSH_KEY}


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        sys.exit(__doc__)
    for k, v in build().items():
        print(f"{k}: {v}")
