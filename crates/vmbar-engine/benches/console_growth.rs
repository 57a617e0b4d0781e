//! Console log growth: one VM whose `console.log` is 1 GiB, then appends.
//!
//! The log (written to a temporary folder, removed at the end) holds many
//! earlier boots, then the current boot with its ci-info table and noise after
//! it. Measured, with the engine on fake network ports:
//! - the first refresh (it reads only the tail, `console.tail_bytes`, 16 MiB by default);
//! - each later refresh after appending one line, 1 KiB, 64 KiB, 1 MiB: wall,
//!   CPU (`getrusage`) and bytes read (`rchar` of `/proc/self/io`), to show the
//!   cost follows the new bytes, not the file size;
//! - the same one-line appends on a 4 MiB console, for comparison.
//!
//! Results go to `target/vmbar-bench/console.jsonl` (read by `scripts/bench`);
//! criterion then measures "append one line + refresh" on the 1 GiB log.
//! `VMBAR_BENCH_CONSOLE_TOTAL` overrides the 1 GiB size (bytes).
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use criterion::Criterion;

/// Bytes read by this process so far (`rchar` of `/proc/self/io`: every read(2), cache or not).
fn rchar() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("rchar:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// `len` bytes of appended lines.
fn chunk(len: usize, k: &mut u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 128);
    while out.len() < len {
        *k += 1;
        out.extend_from_slice(&append_line(*k));
    }
    out
}

/// Writes `total` bytes: earlier boots (shared noise blocks, whose kernel
/// timestamps restart, so each is a boot of its own), then VM 0's current boot
/// (kernel banner, ci-info table) of 8 MiB.
fn big_console(path: &std::path::Path, total: u64) {
    let current = console_text(0, 8 << 20);
    let block = noise(8 << 20);
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    while written + (current.len() as u64) < total {
        let take = (total - current.len() as u64 - written).min(block.len() as u64) as usize;
        f.write_all(&block[..take]).unwrap();
        written += take as u64;
    }
    f.write_all(&current).unwrap();
    f.flush().unwrap();
}

type Rt = tokio::runtime::Runtime;

/// Appends at least `size` bytes (whole lines; 0: nothing) then refreshes, `reps` times; averages per refresh.
fn measure(rt: &Rt, engine: &mut vmbar_engine::engine::Engine, log: &std::path::Path, file_label: &str, size: usize, reps: u32, k: &mut u64) {
    let mut wall = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    let mut read = 0u64;
    let mut appended = 0usize;
    for _ in 0..reps {
        let bytes = chunk(size, k);
        appended += bytes.len();
        append(log, &bytes);
        let r0 = rchar();
        let (running, w, c) = timed(|| refresh_running(rt, engine));
        read += rchar() - r0;
        assert_eq!(running, 1);
        wall += w;
        cpu += c;
    }
    let len = std::fs::metadata(log).unwrap().len();
    record(
        "console",
        &format!(
            "{{\"case\": \"append\", \"file\": \"{file_label}\", \"file_bytes\": {len}, \"appended_bytes\": {}, \"refreshes\": {reps}, \"wall_ms\": {:.4}, \"cpu_ms\": {:.4}, \"bytes_read\": {}}}",
            appended / reps as usize,
            ms(wall) / reps as f64,
            ms(cpu) / reps as f64,
            read / reps as u64
        ),
    );
}

fn main() {
    let total: u64 = std::env::var("VMBAR_BENCH_CONSOLE_TOTAL").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 30);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // A one-VM fleet on fakes; its console is then replaced by the big one.
    let fleet = Fleet::build(1, 4 << 20, false);
    let small_log = fleet.path().join(vm_name(0)).join("console.log");
    let mut small_engine = fleet.engine();
    refresh_running(&rt, &mut small_engine);

    let big = Fleet::build(1, 4096, false);
    let log = big.path().join(vm_name(0)).join("console.log");
    big_console(&log, total);
    let len = std::fs::metadata(&log).unwrap().len();
    let mut engine = big.engine();
    let label = if len >= 1 << 30 { format!("{:.0} GiB", len as f64 / (1u64 << 30) as f64) } else { format!("{} MiB", len >> 20) };
    let r0 = rchar();
    let (running, wall, cpu) = timed(|| refresh_running(&rt, &mut engine));
    let first_read = rchar() - r0;
    let (running2, wall2, cpu2) = timed(|| refresh_running(&rt, &mut engine));
    record(
        "console",
        &format!(
            "{{\"case\": \"first\", \"file\": \"{label}\", \"file_bytes\": {len}, \"tail_bytes\": {}, \"wall_ms\": {:.3}, \"cpu_ms\": {:.3}, \"bytes_read\": {first_read}, \"running_after\": {running}, \"second_wall_ms\": {:.3}, \"second_cpu_ms\": {:.3}, \"running_after_second\": {running2}}}",
            engine.settings().console_tail_bytes,
            ms(wall),
            ms(cpu),
            ms(wall2),
            ms(cpu2)
        ),
    );
    // Bring it to running (the first refresh started the probes).
    for _ in 0..3 {
        if refresh_running(&rt, &mut engine) == 1 {
            break;
        }
    }
    for _ in 0..3 {
        if refresh_running(&rt, &mut small_engine) == 1 {
            break;
        }
    }
    let mut k = 0u64;
    measure(&rt, &mut engine, &log, &label, 0, 200, &mut k);
    measure(&rt, &mut engine, &log, &label, 1, 200, &mut k);
    measure(&rt, &mut small_engine, &small_log, "4 MiB", 1, 200, &mut k);
    for size in [1 << 10, 64 << 10, 1 << 20] {
        measure(&rt, &mut engine, &log, &label, size, 20, &mut k);
    }

    let mut c = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).configure_from_args();
    c.bench_function("console_1GiB_append_one_line_refresh", |b| {
        b.iter(|| {
            k += 1;
            append(&log, &append_line(k));
            refresh_running(&rt, &mut engine)
        })
    });
    c.final_summary();
    drop(engine);
    drop(big); // removes the 1 GiB file
}
