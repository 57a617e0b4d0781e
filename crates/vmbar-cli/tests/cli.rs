//! Integration tests of the `vmbar` binary against temporary VM folders with
//! real processes and real sockets. Tests that need root and network
//! namespaces print `SKIPPED: reason` without them, and fail instead when
//! `VMBAR_REQUIRE_PRIVILEGED=1` (CI).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A config that turns DNS off: tests never send a DNS query off this machine
/// (the real-VM rig tests DNS against its own resolver in its own namespaces).
fn test_config() -> PathBuf {
    let p = std::env::temp_dir().join(format!("vmbar-cli-test-{}.toml", std::process::id()));
    if !p.exists() {
        std::fs::write(&p, "[sources]\ndns = false\n[probe]\nssh_timeout_ms = 700\n").unwrap_or_else(|e| panic!("{e}"));
    }
    p
}

fn vmbar() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vmbar"));
    c.env("VMBAR_CONFIG", test_config()).env_remove("VMBAR_VMS_DIR");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run vmbar: {e}"))
}

fn json_status(vms: &Path, extra: &[&str]) -> Vec<Value> {
    let out = run(vmbar().arg("--vms-dir").arg(vms).args(["status", "--json"]).args(extra));
    assert!(out.status.success(), "status failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    v.as_array().cloned().unwrap_or_default()
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no row {name} in {rows:?}"))
}

/// A process that looks and behaves like QEMU for the pidfile rules: argv[0]
/// `qemu-system-x86_64`, a `-pidfile` argument, and a lock held on the pidfile.
struct FakeQemu(Child);

impl FakeQemu {
    fn start(pidfile: &Path, netns: Option<&str>) -> FakeQemu {
        Self::start_with_mac(pidfile, netns, "52:54:00:aa:00:01")
    }

    fn start_with_mac(pidfile: &Path, netns: Option<&str>, mac: &str) -> FakeQemu {
        let script = "import fcntl,os,sys,time\nf=open(sys.argv[2],'a+'); fcntl.lockf(f, fcntl.LOCK_EX); f.truncate(0); f.write(str(os.getpid())+'\\n'); f.flush(); time.sleep(600)";
        let inner = format!("exec -a qemu-system-x86_64 python3 -c \"$0\" -pidfile \"$1\" -device virtio-net-pci,mac={mac}");
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "bash", "-c"]);
                c
            }
            None => {
                let mut c = Command::new("bash");
                c.arg("-c");
                c
            }
        };
        let child = cmd.arg(&inner).arg(script).arg(pidfile).stdin(Stdio::null()).spawn().unwrap_or_else(|e| panic!("fake qemu: {e}"));
        let t0 = Instant::now();
        while std::fs::read_to_string(pidfile).map(|s| s.trim().is_empty()).unwrap_or(true) {
            assert!(t0.elapsed() < Duration::from_secs(10), "fake qemu did not write its pidfile");
            std::thread::sleep(Duration::from_millis(20));
        }
        FakeQemu(child)
    }
}

impl Drop for FakeQemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vm_dir(vms: &Path, name: &str) -> PathBuf {
    let d = vms.join(name);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(d.join("console.log"), "").unwrap_or_else(|e| panic!("{e}"));
    d
}

#[test]
fn missing_stopped_stale_and_reused_pidfiles() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    std::fs::write(vms.join("registry.json"), r#"{"vms": {"ghost": {"ip_address": "192.0.2.1"}, "fargo": {"mac_address": "52:54:00:15:7a:e3", "ip_address": "192.0.2.7"}}, "other": 1}"#).unwrap_or_else(|e| panic!("{e}"));
    let fargo = vm_dir(vms, "fargo");
    std::fs::create_dir_all(vms.join("not-a-vm")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(vms.join(".hidden")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(vms.join(".hidden/console.log"), "").unwrap_or_else(|e| panic!("{e}"));
    let disk = vms.join("disky");
    std::fs::create_dir_all(&disk).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(disk.join("root.qcow2"), "").unwrap_or_else(|e| panic!("{e}"));

    let rows = json_status(vms, &[]);
    let names: Vec<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["disky", "fargo", "ghost"], "sorted, VMs only");
    assert_eq!(row(&rows, "ghost")["status"], "missing");
    assert_eq!(row(&rows, "fargo")["status"], "stopped");
    assert_eq!(row(&rows, "fargo")["ipv4"], Value::Null);
    assert_eq!(row(&rows, "fargo")["mac"], "52:54:00:15:7a:e3");

    // a dead pid
    std::fs::write(fargo.join("qemu.pid"), "4000000\n").unwrap_or_else(|e| panic!("{e}"));
    let rows = json_status(vms, &["fargo"]);
    assert_eq!(row(&rows, "fargo")["status"], "stopped");
    assert!(row(&rows, "fargo")["detail"].as_str().unwrap_or("").contains("not running"));
    // junk
    std::fs::write(fargo.join("qemu.pid"), "$(reboot)\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(row(&json_status(vms, &["fargo"]), "fargo")["status"], "stopped");
    // a live pid that is not QEMU (pid reuse)
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(fargo.join("qemu.pid"), format!("{}\n", sleeper.id())).unwrap_or_else(|e| panic!("{e}"));
    let rows = json_status(vms, &["fargo"]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(row(&rows, "fargo")["status"], "stopped");
    assert!(row(&rows, "fargo")["detail"].as_str().unwrap_or("").contains("not QEMU"), "{rows:?}");

    // a live QEMU-like process without any candidate address: initializing, MAC known
    std::fs::remove_file(fargo.join("qemu.pid")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(vms.join("registry.json"), r#"{"vms": {"fargo": {}}}"#).unwrap_or_else(|e| panic!("{e}"));
    let q = FakeQemu::start(&fargo.join("qemu.pid"), None);
    let rows = json_status(vms, &["fargo"]);
    assert_eq!(row(&rows, "fargo")["status"], "initializing", "{rows:?}");
    assert_eq!(row(&rows, "fargo")["mac"], "52:54:00:aa:00:01", "MAC from the QEMU command line");
    // SIGKILL: the pidfile stays behind, the VM is stopped
    drop(q);
    let rows = json_status(vms, &["fargo"]);
    assert_eq!(row(&rows, "fargo")["status"], "stopped", "{rows:?}");
}

#[test]
fn names_that_are_odd_are_shown_exactly_and_never_reach_a_shell() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let names = ["my vm", "it's", "$(touch pwned)", "a;b", "ünïcode", "<img src=x onerror=alert(1)>", "tab\tname"];
    for n in names {
        vm_dir(vms, n);
    }
    std::fs::write(vms.join("registry.json"), r#"{"vms": {"../../etc": {"ip_address": "192.0.2.9"}}}"#).unwrap_or_else(|e| panic!("{e}"));
    let rows = json_status(vms, &[]);
    for n in names {
        assert_eq!(row(&rows, n)["status"], "stopped", "{n}");
    }
    assert_eq!(row(&rows, "../../etc")["status"], "missing");
    assert!(!vms.join("pwned").exists() && !Path::new("pwned").exists());
    // the table escapes control characters
    let out = run(vmbar().arg("--vms-dir").arg(vms).arg("status"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tab\\tname"), "{text}");
    // non-UTF-8 names are shown with \xNN and do not collide
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let a = vms.join(std::ffi::OsStr::from_bytes(b"bad\xff"));
        let b = vms.join(std::ffi::OsStr::from_bytes(b"bad\xfe"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(d.join("console.log"), "").unwrap_or_else(|e| panic!("{e}"));
        }
        let rows = json_status(vms, &[]);
        row(&rows, "bad\\xff");
        row(&rows, "bad\\xfe");
    }
}

#[test]
fn broken_registry_is_reported_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    vm_dir(vms, "fargo");
    let broken = "{\"vms\": {\"fargo\": {\"ip_address\": \"10.1";
    std::fs::write(vms.join("registry.json"), broken).unwrap_or_else(|e| panic!("{e}"));
    let rows = json_status(vms, &[]);
    assert!(row(&rows, "fargo")["detail"].as_str().unwrap_or("").contains("does not parse"), "{rows:?}");
    assert_eq!(std::fs::read_to_string(vms.join("registry.json")).unwrap_or_default(), broken);
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    vm_dir(vms, "fargo");
    let code = |c: &mut Command| run(c).status.code();
    assert_eq!(code(vmbar().arg("--vms-dir").arg(vms).args(["ip", "fargo"])), Some(4));
    assert_eq!(code(vmbar().arg("--vms-dir").arg(vms).args(["ip", "nowhere"])), Some(3));
    assert_eq!(code(vmbar().arg("--vms-dir").arg(vms.join("absent")).arg("status")), Some(1));
    assert_eq!(code(vmbar().arg("--frobnicate")), Some(2));
    assert_eq!(code(vmbar().arg("--vms-dir").arg(vms).args(["ip", "fargo", "--wait", "--timeout", "1"])), Some(4));
    let cfg = vms.join("bad.toml");
    std::fs::write(&cfg, "vms_dir = [").unwrap_or_else(|e| panic!("{e}"));
    let out = run(vmbar().arg("--config").arg(&cfg).arg("status"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not parse"));
    // env var for the VMs folder, flag wins
    let out = run(vmbar().env("VMBAR_VMS_DIR", vms).args(["status", "--json"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("fargo"));
    assert_eq!(code(vmbar().env("VMBAR_VMS_DIR", vms).arg("--vms-dir").arg(vms.join("absent")).arg("status")), Some(1));
    assert_eq!(code(vmbar().args(["completions", "bash"])), Some(0));
    // a config file the user named must exist (a typo must not silently mean "defaults")
    let out = run(vmbar().arg("--config").arg(vms.join("typo.toml")).arg("--vms-dir").arg(vms).arg("status"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    // an unreadable VMs folder is "cannot work" (1), not "no such VM" (3), for ip too
    assert_eq!(code(vmbar().arg("--vms-dir").arg(vms.join("absent")).args(["ip", "fargo"])), Some(1));
    assert_eq!(code(vmbar().args(["ip", "fargo", "--timeout", "5"])), Some(2), "--timeout needs --wait");
    // inspect refuses devices instead of reading them forever
    let out = run(vmbar().args(["inspect", "console", "/dev/zero"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

/// Issue #16: whatever the registry says, `status --json` reports only portable user names
/// (the refused ones as `invalid_ssh_user` notes), and a config `ssh_user` outside the set is a
/// config error (exit 1) naming the key.
#[test]
fn status_json_never_reports_an_ssh_user_outside_the_portable_set() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let bad = ["x\u{15}touch /tmp/pwned;#", "\\';touch /tmp/pwned;#", "$(touch /tmp/pwned)", "`id`", "a\nb", "-oProxyCommand=x", "o'brien", "ünï"];
    let mut entries = serde_json::Map::new();
    for (i, u) in bad.iter().enumerate() {
        vm_dir(vms, &format!("vm{i}"));
        entries.insert(format!("vm{i}"), serde_json::json!({"ssh_user": u}));
    }
    entries.insert("good".into(), serde_json::json!({"ssh_user": "jane@corp.example"}));
    std::fs::write(vms.join("registry.json"), serde_json::json!({"vms": entries}).to_string()).unwrap_or_else(|e| panic!("{e}"));
    let rows = json_status(vms, &[]);
    let portable = |u: &str| !u.is_empty() && u.len() <= 64 && !u.starts_with('-') && u.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    for r in &rows {
        if let Some(u) = r["ssh_user"].as_str() {
            assert!(portable(u), "status --json reported ssh_user {u:?}: {r}");
        }
    }
    for i in 0..bad.len() {
        let r = row(&rows, &format!("vm{i}"));
        assert_eq!(r["ssh_user"], Value::Null, "{r}");
        assert_eq!(r["notes"][0]["code"], "invalid_ssh_user", "{r}");
    }
    assert_eq!(row(&rows, "good")["ssh_user"], "jane@corp.example");
    assert_eq!(row(&rows, "good")["notes"], serde_json::json!([]));
    let cfg = vms.join("user.toml");
    std::fs::write(&cfg, "ssh_user = \"x\\u0015touch /tmp/pwned;#\"\n[sources]\ndns = false\n").unwrap_or_else(|e| panic!("{e}"));
    let out = run(vmbar().arg("--config").arg(&cfg).arg("--vms-dir").arg(vms).args(["status", "--json"]));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ssh_user") && err.contains("not a user name"), "{err}");
}

#[test]
fn terminal_and_json_output_never_carry_raw_control_bidi_or_c1_characters() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    for n in ["rtl\u{202e}txt", "c1\u{9b}31mX", "del\u{7f}X", "zw\u{200b}sp"] {
        vm_dir(vms, n);
    }
    let out = run(vmbar().arg("--vms-dir").arg(vms).arg("status"));
    let table = String::from_utf8_lossy(&out.stdout);
    let out = run(vmbar().arg("--vms-dir").arg(vms).args(["status", "--json"]));
    let json = String::from_utf8_lossy(&out.stdout).into_owned();
    for text in [&*table, &*json] {
        assert!(!text.chars().any(|c| matches!(c, '\u{202e}' | '\u{9b}' | '\u{7f}' | '\u{200b}')), "{text}");
    }
    // the JSON still means the same names
    let rows: Vec<Value> = serde_json::from_str(&json).unwrap_or_default();
    row(&rows, "rtl\u{202e}txt");
    row(&rows, "c1\u{9b}31mX");
}

#[test]
fn inspect_reports_the_corpus_answers() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/samples");
    let inspect = |kind: &str, file: &str, args: &[&str]| -> Value {
        let out = run(vmbar().args(["inspect", kind]).arg(corpus.join(file)).args(args));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let v = inspect("console", "console-cloudinit-25.2-noble-qemu-slirp-eth0.log", &["--mac", "52:54:0:12:34:56"]);
    assert_eq!(v["ipv4"], "10.0.2.15");
    assert_eq!(v["ssh_user"], "ubuntu");
    let v = inspect("console", "console-cirros-qemu-network-info-ifinfo.log", &["--mac", "52:54:00:12:34:56"]);
    assert_eq!(v["ipv4"], "10.0.13.15");
    let v = inspect("neighbours", "arp-macos-an-multipass-fixture-bridge100-duplicate-mac.txt", &["--mac", "56:3d:f6:7f:39:a7"]);
    assert_eq!(v["ipv4"], Value::Null);
    assert_eq!(v["ipv4_all"].as_array().map(Vec::len), Some(2));
    let v = inspect("neighbours", "arp-macos-a-hostnames-incomplete-no-ifscope-bridged-vm-en0.txt", &["--mac", "52:54:00:0c:03:09"]);
    assert_eq!(v["ipv4"], "10.33.16.44");
    let v = inspect("leases", "dhcpd_leases-macos-multipass-truncated-dup-name-zero-stripped.txt", &["--name", "primary"]);
    assert_eq!(v["ipv4"], "192.168.64.6");
    let v = inspect("leases", "libvirt-dnsmasq-virbr-status-client-id-01.json", &["--mac", "52:54:00:c4:89:1c"]);
    assert_eq!(v["ipv4"], "192.168.121.51");
    // stdin
    let mut child = vmbar().args(["inspect", "neighbours", "-", "--mac", "52:54:00:6e:91:c3"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(&std::fs::read(corpus.join("ip-neigh-linux-docker0-virbr0-stale-incomplete.txt")).unwrap_or_default());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(v["ipv4"], "192.168.122.11");
    // a bad MAC is a usage error
    assert_eq!(run(vmbar().args(["inspect", "neighbours", "-", "--mac", "zz"]).stdin(Stdio::null())).status.code(), Some(2));
}

#[test]
fn inspect_leases_never_presents_the_stale_mac_lease_of_a_duid_client() {
    // macOS 15 bootpd (vfkit #242): `nixos` holds a newer lease under a DUID client id, its MAC
    // an older one. --mac alone: the MAC-keyed lease is superseded (its own hostname says so),
    // nothing is current. --name nixos: the DUID-keyed lease is. --at judges expiry.
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vmbar-engine/tests/fixtures/dhcpd_leases-macos15-duid-current-stale-mac-constructed.txt");
    let inspect = |args: &[&str]| -> Value {
        let out = run(vmbar().args(["inspect", "leases"]).arg(&file).args(args));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let v = inspect(&["--mac", "f6:25:e2:48:58:1e"]);
    assert_eq!(v["ipv4"], Value::Null, "the stale MAC-keyed lease .29 is not current: {v}");
    assert!(!v["ipv4_all"].as_array().is_some_and(|a| a.contains(&Value::from("192.168.64.29"))), "{v}");
    let v = inspect(&["--mac", "f6:25:e2:48:58:1e", "--name", "nixos"]);
    assert_eq!(v["ipv4"], "192.168.64.30", "{v}");
    let v = inspect(&["--mac", "52:54:00:a1:b2:c3"]);
    assert_eq!(v["ipv4"], "192.168.64.41", "the DUID-LL lease embeds the MAC and is newer: {v}");
    let v = inspect(&["--mac", "f6:25:e2:48:58:1e", "--name", "nixos", "--at", "2025-01-11T19:00:00Z"]);
    assert_eq!(v["ipv4"], "192.168.64.30", "{v}");
    let v = inspect(&["--mac", "f6:25:e2:48:58:1e", "--name", "nixos", "--at", "2025-01-11T19:00:37Z"]);
    assert_eq!(v["ipv4"], Value::Null, "expired at 0x6782bfd4 = 19:00:36 UTC: {v}");
    assert_eq!(run(vmbar().args(["inspect", "leases"]).arg(&file).args(["--at", "yesterday"])).status.code(), Some(2));
}

// ---------------------------------------------------------------------------
// Privileged: a fake VM on a veth pair in network namespaces of our own.

/// Returns false (after printing SKIPPED) when the test cannot run here; panics
/// instead under VMBAR_REQUIRE_PRIVILEGED=1.
fn privileged(test: &str) -> bool {
    let why = if !nix::unistd::geteuid().is_root() {
        Some("not root")
    } else if Command::new("ip").args(["netns", "list"]).output().map(|o| !o.status.success()).unwrap_or(true) {
        Some("`ip netns` unavailable")
    } else {
        None
    };
    match why {
        None => true,
        Some(why) => {
            assert!(std::env::var("VMBAR_REQUIRE_PRIVILEGED").as_deref() != Ok("1"), "{test}: cannot run ({why}) but VMBAR_REQUIRE_PRIVILEGED=1");
            println!("SKIPPED: {test}: {why}");
            false
        }
    }
}

/// Two namespaces joined by a veth pair: `host` (10.201.X.1/24, where vmbar
/// runs) and `vm` (10.201.X.2/24 with the fake VM's MAC, a fake sshd).
struct Lab {
    host: String,
    vm: String,
    ip: Ipv4Addr,
}

impl Lab {
    fn new(tag: &str, mac: &str) -> Lab {
        let n = std::process::id() % 200 + 20;
        let host = format!("vmbt-{tag}-h{}", std::process::id());
        let vm = format!("vmbt-{tag}-v{}", std::process::id());
        let sh = |args: &str| {
            let st = Command::new("sh").arg("-c").arg(args).status().unwrap_or_else(|e| panic!("{e}"));
            assert!(st.success(), "failed: {args}");
        };
        let _ = Command::new("ip").args(["netns", "del", &host]).status();
        let _ = Command::new("ip").args(["netns", "del", &vm]).status();
        sh(&format!("ip netns add {host} && ip netns add {vm}"));
        sh(&format!("ip -n {host} link add eth0 type veth peer name eth0 netns {vm}"));
        sh(&format!("ip -n {vm} link set eth0 address {mac}"));
        sh(&format!("ip -n {host} addr add 10.201.{n}.1/24 dev eth0 && ip -n {host} link set eth0 up && ip -n {host} link set lo up"));
        sh(&format!("ip -n {vm} addr add 10.201.{n}.2/24 dev eth0 && ip -n {vm} link set eth0 up && ip -n {vm} link set lo up"));
        Lab { host, vm, ip: Ipv4Addr::new(10, 201, n as u8, 2) }
    }

    /// A listener in the VM namespace that sends an SSH banner on port 22.
    fn sshd(&self) -> Child {
        // prints a line once it listens: the test waits for it (a fixed sleep lost the race on a busy machine)
        let script = "import socket,sys,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0',22)); s.listen(16)\nprint('listening', flush=True)\nwhile True:\n  c,_=s.accept(); c.sendall(b'SSH-2.0-OpenSSH_9.6p1 fake\\r\\n'); c.close()";
        let mut c = Command::new("ip").args(["netns", "exec", &self.vm, "python3", "-c", script]).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{e}"));
        let mut line = String::new();
        if let Some(out) = c.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        assert_eq!(line.trim(), "listening", "the fake sshd did not start");
        c
    }

    fn vmbar(&self, vms: &Path, args: &[&str]) -> Output {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.host, env!("CARGO_BIN_EXE_vmbar"), "--vms-dir"])
            .arg(vms)
            .args(args)
            .env("VMBAR_CONFIG", test_config())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        out
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.host]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.vm]).status();
    }
}

#[test]
fn registry_hint_is_confirmed_by_the_neighbour_table_and_ssh_banner_makes_running() {
    if !privileged("registry_hint_is_confirmed_by_the_neighbour_table") {
        return;
    }
    let mac = "52:54:00:aa:00:01";
    let lab = Lab::new("ok", mac);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let fargo = vm_dir(vms, "fargo");
    let reg = format!("{{\n  \"vms\": {{\n    \"fargo\": {{\"mac_address\": \"{mac}\", \"ip_address\": \"{}\", \"ssh_user\": \"ubuntu\", \"cpus\": 2.50}}\n  }}\n}}\n", lab.ip);
    std::fs::write(vms.join("registry.json"), &reg).unwrap_or_else(|e| panic!("{e}"));
    let _qemu = FakeQemu::start(&fargo.join("qemu.pid"), None);

    // No SSH yet: the address answers with a refusal -> confirmed -> booting.
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let r = row(&rows, "fargo");
    assert_eq!(r["status"], "booting", "{rows:?} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(r["ipv4"], lab.ip.to_string());
    assert_eq!(r["source"], "registry");

    let mut sshd = lab.sshd();
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let _ = sshd.kill();
    let _ = sshd.wait();
    assert_eq!(row(&rows, "fargo")["status"], "running", "{rows:?}");
    assert_eq!(row(&rows, "fargo")["ssh_user"], "ubuntu");
    let out = lab.vmbar(vms, &["ip", "fargo"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), lab.ip.to_string());
    // the registry was already right: untouched byte for byte
    assert_eq!(std::fs::read_to_string(vms.join("registry.json")).unwrap_or_default(), reg);
}

#[test]
fn stale_registry_address_of_another_mac_is_rejected_and_corrected_from_the_neighbour_table() {
    if !privileged("stale_registry_address_of_another_mac_is_rejected") {
        return;
    }
    let lab = Lab::new("st", "52:54:00:bb:00:02");
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let fargo = vm_dir(vms, "fargo");
    // The registry says fargo (MAC ..:01) is at the address that another machine (..:02) holds.
    let reg = format!("{{\"vms\": {{\"fargo\": {{\"mac_address\": \"52:54:00:aa:00:01\", \"ip_address\": \"{}\", \"x\": [1, 2.0]}}}}, \"keep\": true}}", lab.ip);
    std::fs::write(vms.join("registry.json"), &reg).unwrap_or_else(|e| panic!("{e}"));
    let qemu = FakeQemu::start(&fargo.join("qemu.pid"), None);
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let r = row(&rows, "fargo");
    assert_eq!(r["status"], "initializing", "{rows:?}");
    assert_eq!(r["ipv4"], Value::Null);
    assert!(r["detail"].as_str().unwrap_or("").contains("52:54:00:bb:00:02"), "{r:?}");
    assert_eq!(std::fs::read_to_string(vms.join("registry.json")).unwrap_or_default(), reg, "never written with an unconfirmed address");

    // Now the VM really is ..:02 (the user fixed the MAC and restarted QEMU with it): confirmed,
    // and the registry gets the address in place, nothing else changed.
    let reg2 = reg.replace("52:54:00:aa:00:01", "52:54:00:bb:00:02").replace(&lab.ip.to_string(), "10.250.0.9");
    std::fs::write(vms.join("registry.json"), &reg2).unwrap_or_else(|e| panic!("{e}"));
    drop(qemu);
    std::fs::remove_file(fargo.join("qemu.pid")).unwrap_or_else(|e| panic!("{e}"));
    let _qemu = FakeQemu::start_with_mac(&fargo.join("qemu.pid"), None, "52:54:00:bb:00:02");
    // the neighbour table has the real address for the MAC from the earlier probe
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(row(&rows, "fargo")["ipv4"], lab.ip.to_string(), "{rows:?}");
    assert_eq!(row(&rows, "fargo")["source"], "neighbours");
    assert_eq!(std::fs::read_to_string(vms.join("registry.json")).unwrap_or_default(), reg2.replace("10.250.0.9", &lab.ip.to_string()));
}

/// Reads `vmbar watch --json` lines until one matches, with a deadline.
struct Watch {
    child: Child,
    lines: std::sync::mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Watch {
    fn start(mut cmd: Command) -> Watch {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap_or_else(|e| panic!("{e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("watch printed non-JSON {line:?}: {e}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines, seen: Vec::new() }
    }

    fn expect(&mut self, name: &str, to: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if v["name"] == name && v["to"] == to {
                        return v;
                    }
                }
                Err(_) => panic!("no {name} -> {to} within {within:?}; saw {:#?}", self.seen),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_follows_a_fake_vm_through_every_status() {
    if !privileged("watch_follows_a_fake_vm_through_every_status") {
        return;
    }
    let mac = "52:54:00:aa:00:01";
    let lab = Lab::new("w", mac);
    let sh = |args: &str| assert!(Command::new("sh").arg("-c").arg(args).status().map(|s| s.success()).unwrap_or(false), "{args}");
    sh(&format!("ip -n {} link set eth0 down", lab.vm));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    std::fs::write(vms.join("registry.json"), format!("{{\"vms\": {{\"fargo\": {{\"mac_address\": \"{mac}\", \"ip_address\": \"{}\"}}}}}}", lab.ip)).unwrap_or_else(|e| panic!("{e}"));
    let cfg = vms.join("fast.toml");
    std::fs::write(&cfg, "[sources]\ndns = false\n[probe]\nssh_timeout_ms = 500\ninterval_fast_ms = 200\ninterval_slow_ms = 400\nssh_recheck_ms = 1000\n").unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &lab.host, env!("CARGO_BIN_EXE_vmbar"), "--config"]).arg(&cfg).arg("--vms-dir").arg(vms).args(["watch", "--json"]);
    let mut w = Watch::start(cmd);
    let first = w.expect("fargo", "missing", Duration::from_secs(10));
    assert_eq!(first["from"], Value::Null);
    assert!(first["at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 24), "{first}");
    let fargo = vm_dir(vms, "fargo");
    w.expect("fargo", "stopped", Duration::from_secs(10));
    let qemu = FakeQemu::start(&fargo.join("qemu.pid"), None);
    w.expect("fargo", "initializing", Duration::from_secs(10));
    sh(&format!("ip -n {} link set eth0 up", lab.vm));
    let booting = w.expect("fargo", "booting", Duration::from_secs(15));
    assert_eq!(booting["ipv4"], lab.ip.to_string());
    assert_eq!(booting["from"], "initializing");
    let mut sshd = lab.sshd();
    let running = w.expect("fargo", "running", Duration::from_secs(10));
    assert_eq!(running["from"], "booting");
    let _ = sshd.kill();
    let _ = sshd.wait();
    drop(qemu); // SIGKILL; qemu.pid stays behind
    let stopped = w.expect("fargo", "stopped", Duration::from_secs(10));
    assert_eq!(stopped["ipv4"], Value::Null);
    let statuses: Vec<String> = w.seen.iter().filter(|v| v["name"] == "fargo").map(|v| v["to"].as_str().unwrap_or("").to_owned()).collect();
    assert_eq!(statuses, ["missing", "stopped", "initializing", "booting", "running", "stopped"], "{:#?}", w.seen);
}

/// Issue #9 case 1, end to end: QEMU restarted on an append-mode console
/// (`-chardev file,append=on`). The file holds boot 1's finished table naming the
/// VM's real address; the new QEMU appends its firmware and boot-loader lines.
/// `vmbar ip` must not print the old boot's address (exit 4), then follows the new boot.
#[test]
fn qemu_restart_on_an_append_mode_console_makes_ip_exit_4_until_the_new_boot_names_its_address() {
    if !privileged("qemu_restart_on_an_append_mode_console_makes_ip_exit_4") {
        return;
    }
    let mac = "52:54:00:aa:00:01";
    let lab = Lab::new("ap", mac);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let fargo = vm_dir(vms, "fargo");
    std::fs::write(vms.join("registry.json"), format!("{{\"vms\": {{\"fargo\": {{\"mac_address\": \"{mac}\"}}}}}}")).unwrap_or_else(|e| panic!("{e}"));
    let table = |ts: &str, up: &str| {
        let mut t = format!("[{ts}] cloud-init[600]: Cloud-init v. 25.2 running 'init' at Mon. Up {up} seconds.\n");
        t.push_str(&format!("[{ts}] cloud-init[600]: ci-info: ++++++++++++Net device info++++++++++++\n"));
        t.push_str(&format!("[{ts}] cloud-init[600]: ci-info: | Device |  Up  |  Address  |  Mask  | Scope |     Hw-Address    |\n"));
        t.push_str(&format!("[{ts}] cloud-init[600]: ci-info: |  eth0  | True | {} | 255.255.255.0 | global | {mac} |\n", lab.ip));
        t.push_str(&format!("[{ts}] cloud-init[600]: ci-info: +--------+------+\n"));
        t
    };
    // boot 1 (an earlier QEMU process), finished
    let boot1 = format!("{}[   30.0] cloud-init[900]: Cloud-init v. 25.2 finished at Mon. Up 30.00 seconds\n", table("   20.1", "20.00"));
    std::fs::write(fargo.join("console.log"), boot1).unwrap_or_else(|e| panic!("{e}"));
    let _qemu = FakeQemu::start(&fargo.join("qemu.pid"), None);
    let append = |text: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(fargo.join("console.log")).unwrap_or_else(|e| panic!("{e}"));
        f.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    };
    append("SeaBIOS (version 1.16.3-debian-1.16.3-2)\r\n\r\n\r\nBooting from Hard Disk...\r\nGRUB loading.\r\n");
    let out = lab.vmbar(vms, &["ip", "fargo"]);
    assert_eq!(out.status.code(), Some(4), "ip printed {:?} for the old boot (stderr {})", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!((row(&rows, "fargo")["status"].as_str(), row(&rows, "fargo")["ipv4"].as_str()), (Some("initializing"), None), "{rows:?}");
    // the new boot's own table (this young process's uptimes) is followed
    append(&format!("[    0.000000] Linux version 6.1.0-28-amd64\n{}", table("    0.8", "0.70")));
    let out = lab.vmbar(vms, &["ip", "fargo"]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_owned()), (Some(0), lab.ip.to_string()), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Issue #9 case 7: `qemu.pid` holding a kernel thread's pid (pid reuse: kthreadd, a kworker)
/// is never QEMU: its command line is empty because it has none, not because it is hidden.
#[test]
fn a_kernel_thread_in_qemu_pid_is_stopped() {
    if !cfg!(target_os = "linux") {
        println!("SKIPPED: a_kernel_thread_in_qemu_pid_is_stopped: Linux kernel threads only");
        return;
    }
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    std::fs::write(vms.join("registry.json"), r#"{"vms": {"fargo": {"mac_address": "52:54:00:15:7a:e3"}}}"#).unwrap_or_else(|e| panic!("{e}"));
    let fargo = vm_dir(vms, "fargo");
    // (no address anywhere: this test runs in the root namespace and must probe nothing)
    // kthreadd (pid 2) and one kworker, found by its name in /proc
    let mut pids = vec![2u32];
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            if std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.starts_with("kworker")) {
                pids.push(pid);
                break;
            }
        }
    }
    for pid in pids {
        std::fs::write(fargo.join("qemu.pid"), format!("{pid}\n")).unwrap_or_else(|e| panic!("{e}"));
        let rows = json_status(vms, &["fargo"]);
        let r = row(&rows, "fargo");
        assert_eq!(r["status"], "stopped", "pid {pid}: {r}");
        assert!(r["detail"].as_str().unwrap_or("").contains("kernel thread"), "pid {pid}: {r}");
    }
}

/// Issue #9 case 10 with the real routes adapter (`/proc/net/route` and `/sys/class/net` of the
/// namespace vmbar runs in): the host's only link is the lab's /24, everything else goes through a
/// gateway (the VM namespace, where an SSH listener answers on 10.99.0.15 too). A console naming
/// 10.99.0.15 for the VM's MAC (a user-mode VM's address, routed elsewhere) is never confirmed,
/// offered or probed: the listener sees no connection.
#[test]
fn a_console_address_reached_only_through_a_gateway_is_never_confirmed_or_probed() {
    if !privileged("a_console_address_reached_only_through_a_gateway") {
        return;
    }
    let mac = "52:54:00:aa:00:01";
    let lab = Lab::new("rt", mac);
    let sh = |args: &str| assert!(Command::new("sh").arg("-c").arg(args).status().map(|s| s.success()).unwrap_or(false), "{args}");
    sh(&format!("ip -n {} route add default via {}", lab.host, lab.ip));
    sh(&format!("ip -n {} addr add 10.99.0.15/32 dev lo", lab.vm));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vms = tmp.path();
    let seen = tmp.path().join("connections.txt");
    std::fs::write(&seen, "").unwrap_or_else(|e| panic!("{e}"));
    // an SSH listener in the VM namespace that records every connection
    let script = "import socket,sys\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0',22)); s.listen(16)\nprint('listening', flush=True)\nwhile True:\n  c,a=s.accept(); open(sys.argv[1],'a').write(str(c.getsockname())+'\\n'); c.sendall(b'SSH-2.0-OpenSSH_9.6p1 fake\\r\\n'); c.close()";
    let mut listener = Command::new("ip").args(["netns", "exec", &lab.vm, "python3", "-c", script]).arg(&seen).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{e}"));
    let mut line = String::new();
    if let Some(out) = listener.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    assert_eq!(line.trim(), "listening");
    std::fs::write(vms.join("registry.json"), format!("{{\"vms\": {{\"fargo\": {{\"mac_address\": \"{mac}\"}}}}}}")).unwrap_or_else(|e| panic!("{e}"));
    let fargo = vm_dir(vms, "fargo");
    let table = format!(
        "[    0.2] cloud-init[600]: ci-info: ++++++++++++Net device info++++++++++++\n\
         [    0.2] cloud-init[600]: ci-info: | Device |  Up  |  Address  |  Mask  | Scope |     Hw-Address    |\n\
         [    0.3] cloud-init[600]: ci-info: |  eth0  | True | 10.99.0.15 | 255.255.255.0 | global | {mac} |\n\
         [    0.4] cloud-init[600]: ci-info: +--------+------+\n"
    );
    // written by the running QEMU (after it started, guest uptimes below its age)
    let _qemu = FakeQemu::start(&fargo.join("qemu.pid"), None);
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(fargo.join("console.log"), table).unwrap_or_else(|e| panic!("{e}"));
    let out = lab.vmbar(vms, &["status", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let _ = listener.kill();
    let _ = listener.wait();
    let r = row(&rows, "fargo");
    assert_eq!((r["status"].as_str(), &r["ipv4"], &r["candidate"]), (Some("initializing"), &Value::Null, &Value::Null), "{r}");
    assert!(r["detail"].as_str().unwrap_or("").contains("not on a link"), "{r}");
    let conns = std::fs::read_to_string(&seen).unwrap_or_default();
    assert!(conns.trim().is_empty(), "vmbar probed through the gateway: {conns}");
}
