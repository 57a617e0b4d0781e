//! One full status refresh of N running VMs, in process, on fake network ports.
//!
//! Each fleet has N VM folders with generated consoles (`VMBAR_BENCH_CONSOLE_BYTES`,
//! default 3 MiB each but at most 1 GiB per fleet, each with its own ci-info table), a registry, and one
//! live QEMU-like process holding every `qemu.pid` lock (so liveness goes
//! through the real `/proc` + `fcntl(F_GETLK)` path). The network ports are
//! fakes: the SSH prober answers a banner at once, the neighbour table is
//! `/proc/net/arp` text parsed on each read, DNS answers from a table.
//!
//! Recorded per N (to `target/vmbar-bench/refresh.jsonl`, read by `scripts/bench`):
//! the first (cold) refresh, which reads every console's tail; the steady-state
//! refresh (every later one: nothing new on disk) as wall and CPU time
//! (`getrusage(RUSAGE_SELF)`, user + system, all threads) averaged over many
//! refreshes; RSS. Criterion then measures the steady-state wall time.
//!
//! Environment: `VMBAR_BENCH_SIZES=1,10,50,200,1000`, `VMBAR_BENCH_CONSOLE_BYTES`,
//! `VMBAR_BENCH_FAKE_PROCESSES=1` (no python3: a fake process table),
//! `VMBAR_BENCH_PROFILE=N` (no criterion: build an N-VM fleet and refresh it for
//! `VMBAR_BENCH_PROFILE_SECS` seconds, for `perf record`).
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use criterion::{BenchmarkId, Criterion};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn sizes() -> Vec<usize> {
    std::env::var("VMBAR_BENCH_SIZES").ok().map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect()).unwrap_or_else(|| vec![1, 10, 50, 200, 1000])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Builds the fleet and brings every VM to `running` (the first refresh starts
/// the probes; the next ones collect them).
fn warmed(n: usize, console: usize, real: bool, rt: &tokio::runtime::Runtime) -> (Fleet, vmbar_engine::engine::Engine, f64, f64) {
    let fleet = Fleet::build(n, console, real);
    let mut engine = fleet.engine();
    let (_, first_wall, first_cpu) = timed(|| refresh_running(rt, &mut engine));
    let mut running = 0;
    for _ in 0..5 {
        running = refresh_running(rt, &mut engine);
        if running == n {
            break;
        }
    }
    assert_eq!(running, n, "every VM of the fleet should be running with its IPv4");
    (fleet, engine, ms(first_wall), ms(first_cpu))
}

fn main() {
    let console = env_usize("VMBAR_BENCH_CONSOLE_BYTES", 3 << 20);
    let real = std::env::var("VMBAR_BENCH_FAKE_PROCESSES").map(|v| v != "1").unwrap_or(true);
    let rt = runtime();

    if let Some(n) = std::env::var("VMBAR_BENCH_PROFILE").ok().and_then(|v| v.parse::<usize>().ok()) {
        let secs = env_usize("VMBAR_BENCH_PROFILE_SECS", 10) as u64;
        let (_fleet, mut engine, _, _) = warmed(n, console, real, &rt);
        println!("profiling: {n} VMs, steady-state refreshes for {secs} s");
        let t0 = Instant::now();
        let mut k = 0u64;
        while t0.elapsed() < Duration::from_secs(secs) {
            refresh_running(&rt, &mut engine);
            k += 1;
        }
        println!("profiling: {k} refreshes");
        return;
    }

    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = c.benchmark_group("steady_refresh");
    for n in sizes() {
        let t_build = Instant::now();
        // Every console is several MB, within a 1 GiB total for the whole fleet (disk and setup
        // time); the steady state reads none of it again, only the first refresh does.
        let per_vm = console.min((1usize << 30) / n.max(1));
        let (fleet, mut engine, first_wall, first_cpu) = warmed(n, per_vm, real, &rt);
        let build_s = t_build.elapsed().as_secs_f64();
        // Steady state: enough refreshes for a stable CPU figure (getrusage ticks are 1-4 ms).
        let k = (4000 / n).clamp(20, 2000);
        let (_, wall, cpu) = timed(|| {
            for _ in 0..k {
                refresh_running(&rt, &mut engine);
            }
        });
        let json = format!(
            "{{\"n\": {n}, \"console_bytes\": {}, \"processes\": \"{}\", \"first_wall_ms\": {first_wall:.3}, \"first_cpu_ms\": {first_cpu:.3}, \"steady_refreshes\": {k}, \"steady_wall_ms\": {:.4}, \"steady_cpu_ms\": {:.4}, \"rss_kib\": {}, \"peak_rss_kib\": {}, \"setup_s\": {build_s:.1}}}",
            fleet.console_bytes,
            if fleet.locker.is_some() { "os" } else { "fake" },
            ms(wall) / k as f64,
            ms(cpu) / k as f64,
            rss_kib(),
            peak_rss_kib()
        );
        record("refresh", &json);
        group.throughput(criterion::Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| b.iter(|| refresh_running(&rt, &mut engine)));
        drop(engine);
        drop(fleet);
    }
    group.finish();
    c.final_summary();
}
