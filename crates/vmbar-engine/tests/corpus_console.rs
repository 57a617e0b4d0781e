//! Every console sample of `../shared/corpus/` gives its README row's answer,
//! and so do generated variants of it (CRLF, bare CR, other prefixes, ANSI
//! codes, hard wrapping), so that no rule is tuned to one file.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use vmbar_engine::console::parse_all;
use vmbar_engine::MacAddr;

fn sample(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/samples").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("corpus sample {}: {e}", p.display()))
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// (file, MAC, expected IPv4 list)
const CASES: &[(&str, &str, &[Ipv4Addr])] = &[
    ("console-cloudinit-25.2-noble-qemu-slirp-eth0.log", "52:54:00:12:34:56", &[Ipv4Addr::new(10, 0, 2, 15)]),
    ("console-cloudinit-18.4-arm64-qemu-up-false-no-ipv4.log", "52:54:00:12:34:56", &[]),
    ("console-cloudinit-0.7.5-centos7-no-scope-colon-devnames.log", "fa:16:3e:5d:19:b2", &[]),
    ("syslog-cloudinit-0.7.9-el7-messages-scope-d-colon-devnames.log", "00:16:3e:4a:71:0e", &[Ipv4Addr::new(192, 168, 7, 204)]),
    ("console-cloudinit-0.7.8-xenial-ens3-public-ipv4-truncated.log", "fa:16:3e:c2:7d:09", &[Ipv4Addr::new(198, 51, 100, 136)]),
    ("console-cloudinit-0.6-libvirt-empty-address-collapsed.log", "52:54:00:4e:a1:38", &[]),
    ("journal-cloudinit-20.2-systemctl-status-headerless-table.txt", "00:0c:29:3e:a8:51", &[]),
    ("journal-cloudinit-redacted-prefix-two-nics-up-false.txt", "00:01:02:03:04:05", &[]),
    ("journal-cloudinit-redacted-prefix-two-nics-up-false.txt", "06:07:08:09:10:11", &[]),
    ("console-cloudinit-24.2-el10-ipv6-only-ansi-remnants.log", "fa:16:3e:7a:c5:13", &[]),
    ("console-cloudinit-22.1-el8-kvm-global-ipv6-scope.log", "52:54:00:04:b6:ac", &[Ipv4Addr::new(10, 23, 42, 80)]),
    ("table-cloudinit-freebsd-hexmask-zone-noaddr-noprefix.txt", "52:54:00:50:b7:0d", &[]),
    ("table-cloudinit-freebsd-hexmask-zone-noaddr-noprefix.txt", "02:14:39:5a:33:00", &[Ipv4Addr::new(192, 168, 1, 1)]),
    ("console-cirros-qemu-network-info-ifinfo.log", "52:54:00:12:34:56", &[Ipv4Addr::new(10, 0, 13, 15)]),
    ("console-constructed-ipv6-only-first-boot-enp0s1.log", "52:54:00:3a:9b:1c", &[]),
];

fn answer(bytes: &[u8], m: &str) -> Vec<Ipv4Addr> {
    let p = parse_all(bytes);
    p.current().table.as_ref().map(|t| t.ipv4_for(mac(m))).unwrap_or_default()
}

#[test]
fn every_console_sample_gives_its_readme_answer() {
    for (file, m, want) in CASES {
        assert_eq!(answer(&sample(file), m), *want, "{file} for {m}");
    }
}

#[test]
fn tables_are_found_where_the_answer_is_none_for_the_right_reason() {
    // The None answers must come from a table that names the MAC without a usable
    // IPv4, not from a parser that found nothing at all.
    for (file, m) in [
        ("console-cloudinit-18.4-arm64-qemu-up-false-no-ipv4.log", "52:54:00:12:34:56"),
        ("console-cloudinit-0.7.5-centos7-no-scope-colon-devnames.log", "fa:16:3e:5d:19:b2"),
        ("console-cloudinit-0.6-libvirt-empty-address-collapsed.log", "52:54:00:4e:a1:38"),
        ("journal-cloudinit-20.2-systemctl-status-headerless-table.txt", "00:0c:29:3e:a8:51"),
        ("console-cloudinit-24.2-el10-ipv6-only-ansi-remnants.log", "fa:16:3e:7a:c5:13"),
        ("table-cloudinit-freebsd-hexmask-zone-noaddr-noprefix.txt", "52:54:00:50:b7:0d"),
        ("console-constructed-ipv6-only-first-boot-enp0s1.log", "52:54:00:3a:9b:1c"),
    ] {
        let p = parse_all(&sample(file));
        let macs = p.current().table.as_ref().map(|t| t.macs()).unwrap_or_default();
        assert!(macs.contains(&mac(m)), "{file}: table should name {m}, saw {macs:?}");
    }
}

#[test]
fn cloud_init_stage_and_user_from_the_noble_log() {
    let p = parse_all(&sample("console-cloudinit-25.2-noble-qemu-slirp-eth0.log"));
    assert_eq!(p.current().cloud_init, vmbar_engine::CloudInitStage::ModulesFinal);
    assert_eq!(p.current().ssh_user(), Some("ubuntu"));
}

/// Generated variants of every sample must give the same answer.
#[test]
fn variants_give_the_same_answer() {
    type Variant = fn(&str) -> String;
    let variants: &[(&str, Variant)] = &[
        ("crlf", |s| s.replace('\n', "\r\n")),
        ("cr-noise", |s| s.replace('\n', "\r\r\n")),
        ("ansi", |s| s.replace("ci-info: ", "ci-info: \x1b[0m").replace("True", "\x1b[1mTrue\x1b[0m")),
        ("journal-prefix", |s| s.lines().map(|l| format!("Nov 30 04:01:22 fargo cloud-init[1234]: {l}\n")).collect()),
        ("syslog-framing", |s| s.lines().map(|l| format!("<14>{l}\n")).collect()),
        ("no-trailing-newline", |s| s.trim_end().to_owned()),
        ("wrap-80", |s| s.lines().flat_map(|l| {
            let chars: Vec<char> = l.chars().collect();
            chars.chunks(80).map(|c| c.iter().collect::<String>() + "\n").collect::<Vec<_>>()
        }).collect()),
    ];
    for (file, m, want) in CASES {
        let text = String::from_utf8_lossy(&sample(file)).into_owned();
        for (vname, f) in variants {
            if *vname == "wrap-80" && file.starts_with("table-") {
                continue; // a bare table (no prefix) wrapped loses the `|` that marks its continuation rows
            }
            let got = answer(f(&text).as_bytes(), m);
            assert_eq!(got, *want, "{file} variant {vname} for {m}");
        }
    }
}

#[test]
fn two_boots_only_the_last_counts() {
    let first = sample("console-cloudinit-22.1-el8-kvm-global-ipv6-scope.log");
    let second = sample("console-constructed-ipv6-only-first-boot-enp0s1.log");
    let second = String::from_utf8_lossy(&second).replace("52:54:00:3a:9b:1c", "52:54:00:04:b6:ac");
    let mut log = first.clone();
    log.extend_from_slice(b"[    0.000000] Linux version 6.1.0-28-amd64\n");
    log.extend_from_slice(second.as_bytes());
    assert_eq!(answer(&log, "52:54:00:04:b6:ac"), Vec::<Ipv4Addr>::new());
    assert_eq!(answer(&first, "52:54:00:04:b6:ac"), vec![Ipv4Addr::new(10, 23, 42, 80)]);
}

#[test]
fn garbage_and_binary_input_never_panics() {
    let mut junk: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    junk.extend_from_slice(&sample("console-cloudinit-22.1-el8-kvm-global-ipv6-scope.log"));
    // binary noise before the boot does not hide the table (no kernel banner in it)
    let p = parse_all(&junk);
    let _ = p.current();
    let invalid_utf8 = b"ci-info: |  eth0  | True | 10.1.2.3 \xff\xfe | 255.255.255.0 | global | 52:54:00:04:b6:ac |\n";
    let p = parse_all(invalid_utf8);
    assert!(p.current().table.as_ref().map(|t| t.ipv4_for(mac("52:54:00:04:b6:ac")).is_empty()).unwrap_or(true));
}

/// Issue #9 case 3: the noble log (sample 1, whose current boot carries `<14>`-framed
/// cloud-init lines) followed by an earlier boot's journal printed on the console
/// (`journalctl -b -1`, default and `-o short-monotonic` formats): the earlier boot's
/// `init-local` line and table go backwards in guest uptime, so they are a replay.
#[test]
fn an_earlier_boots_journal_printed_after_the_noble_log_is_a_replay() {
    let noble = String::from_utf8_lossy(&sample("console-cloudinit-25.2-noble-qemu-slirp-eth0.log")).into_owned();
    let table: Vec<&str> = noble.lines().filter(|l| l.contains("cloud-init[658]: ci-info:")).collect();
    assert!(table.len() > 10, "sample 1 changed");
    for (prefix, first) in [("Apr 08 07:12:01 ubuntu cloud-init[612]: ", "Apr 08 07:11:40 ubuntu kernel: Linux version 6.8.0-57-generic (buildd@lcy02-amd64-040) #59-Ubuntu SMP\n"), ("[   21.061204] ubuntu cloud-init[612]: ", "")] {
        let mut replay = String::from(first);
        replay.push_str(&format!("{}Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init-local' at Wed, 08 Apr 2026 07:11:47 +0000. Up 6.91 seconds.\n", prefix.replace("cloud-init[612]", "cloud-init[480]").replace("[   21.061204]", "[    7.101000]")));
        replay.push_str(&format!("{prefix}Cloud-init v. 25.2-0ubuntu1~24.04.1 running 'init' at Wed, 08 Apr 2026 07:12:01 +0000. Up 20.80 seconds.\n"));
        for l in &table {
            let body = &l[l.find("ci-info:").unwrap_or(0)..];
            replay.push_str(&format!("{prefix}{}\n", body.replace("10.0.2.15 ", "10.0.2.99 ")));
        }
        let log = format!("{noble}\n{replay}");
        let p = parse_all(log.as_bytes());
        let t = p.current().table.clone().unwrap_or_default();
        assert_eq!(t.ipv4_for(mac("52:54:00:12:34:56")), vec![Ipv4Addr::new(10, 0, 2, 15)], "replay with prefix {prefix:?}");
        assert_eq!((p.boundaries(), p.current().cloud_init), (0, vmbar_engine::CloudInitStage::ModulesFinal), "replay with prefix {prefix:?}");
    }
}
