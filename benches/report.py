#!/usr/bin/env python3
"""Markdown tables from the engine benchmarks' JSON lines (target/vmbar-bench/*.jsonl).

Usage: benches/report.py refresh|console|targets [DIR]
  refresh  steady-state and first refresh per fleet size, per-VM cost and a linear fit (scaling)
  console  the 1 GiB console: first refresh and refreshes after appends, with bytes read
  targets  the issue's targets against the measured figures (needs refresh.jsonl and compare.json)
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rows(d, name):
    p = os.path.join(d, f"{name}.jsonl")
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p) if l.strip()]


def fit(xs, ys):
    """Least-squares y = a + b x and r^2."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my, 0.0, 1.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss = sum((y - my) ** 2 for y in ys)
    res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    return a, b, 1 - res / ss if ss else 1.0


def refresh(d):
    rs = sorted({r["n"]: r for r in rows(d, "refresh")}.values(), key=lambda r: r["n"])
    if not rs:
        return "No results (target/vmbar-bench/refresh.jsonl missing).\n"
    out = ["| VMs | console per VM (MiB) | steady refresh CPU (ms) | steady refresh wall (ms) | criterion wall, mean [95 % CI] (ms) | CPU per VM (µs) | "
           "first refresh CPU (ms) | first refresh wall (ms) | RSS after (MiB) | processes spawned |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rs:
        crit = "n/a"
        est = os.path.join(ROOT, "target", "criterion", "steady_refresh", str(r["n"]), "new", "estimates.json")
        if os.path.exists(est):
            m = json.load(open(est))["mean"]
            ci = m["confidence_interval"]
            crit = f"{m['point_estimate'] / 1e6:.3f} [{ci['lower_bound'] / 1e6:.3f}, {ci['upper_bound'] / 1e6:.3f}]"
        out.append(f"| {r['n']} | {r['console_bytes'] / 1048576:.2f} | {r['steady_cpu_ms']:.3f} | {r['steady_wall_ms']:.3f} | {crit} | "
                   f"{1000 * r['steady_cpu_ms'] / r['n']:.1f} | {r['first_cpu_ms']:.0f} | {r['first_wall_ms']:.0f} | "
                   f"{r['rss_kib'] / 1024:.1f} | 0 |")
    text = "\n".join(out) + "\n"
    if len(rs) >= 2:
        a, b, r2 = fit([r["n"] for r in rs], [r["steady_cpu_ms"] for r in rs])
        text += (f"\nScaling (steady-state CPU, least squares over {len(rs)} sizes): {a:.3f} ms + {1000 * b:.1f} µs per VM, "
                 f"r² = {r2:.4f} ({'linear' if r2 > 0.98 else 'not linear'}).\n")
    procs = {r.get("processes") for r in rs}
    text += ("\nLiveness goes through the real process table (`/proc` via sysinfo, `fcntl(F_GETLK)` on each pidfile)"
             if procs == {"os"} else "\nLiveness from a fake process table") + \
            "; the SSH prober, the neighbour table (`/proc/net/arp` text parsed on each read) and DNS are in-process fakes, so no process is spawned and nothing waits on the network. Steady state = every refresh after the VMs reached `running` (nothing new on disk; no probe is due). CPU = getrusage(RUSAGE_SELF) user+sys averaged over many refreshes (the bench's own loop); criterion's wall-time estimate is read from target/criterion/steady_refresh/N. Wall times include waiting for the CPU on a shared machine; CPU times do not.\n"
    return text


def console(d):
    rs = rows(d, "console")
    if not rs:
        return "No results (target/vmbar-bench/console.jsonl missing).\n"
    out = []
    first = [r for r in rs if r["case"] == "first"]
    if first:
        f = first[-1]
        out.append(f"First refresh of a {f['file_bytes'] / 2**30:.2f} GiB console.log: {f['cpu_ms']:.0f} ms CPU, {f['wall_ms']:.0f} ms wall, "
                   f"{f['bytes_read'] / 2**20:.1f} MiB read (the tail window is {f['tail_bytes'] / 2**20:.0f} MiB); "
                   f"second refresh (nothing appended): {f['second_cpu_ms']:.3f} ms CPU.\n")
    out.append("| console.log | appended per refresh (bytes) | refreshes | CPU per refresh (ms) | wall per refresh (ms) | bytes read per refresh |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for r in rs:
        if r["case"] == "append":
            out.append(f"| {r['file']} | {r['appended_bytes']} | {r['refreshes']} | {r['cpu_ms']:.4f} | {r['wall_ms']:.4f} | {r['bytes_read']} |")
    return "\n".join(out) + "\n\nBytes read = `rchar` of /proc/self/io around the refresh (every read(2), including the registry and /proc files, so the floor is the same for both file sizes). One VM, engine on fake network ports.\n"


def targets(d):
    rs = {r["n"]: r for r in rows(d, "refresh")}
    cmp_path = os.path.join(d, "compare.json")
    cmp = json.load(open(cmp_path)) if os.path.exists(cmp_path) else {"rows": [], "idle": None}
    out = ["| target | measured | met |", "|---|---|---|"]
    if 200 in rs:
        c = rs[200]["steady_cpu_ms"]
        out.append(f"| 200 VMs refreshed in < 20 ms CPU | {c:.2f} ms (steady state, in process) | {'yes' if c < 20 else 'no'} |")
    for row in cmp["rows"]:
        n = row["n"]
        b = row["baseline"]["cpu_s"] * 1000
        cold = row["vmbar"]["cpu_s"] * 1000
        steady = rs.get(n, {}).get("steady_cpu_ms")
        s = f"cold one-shot `vmbar status`: {b / cold:.1f}x" if cold else "n/a"
        if steady:
            s += f"; steady-state refresh (engine in `vmbar watch`/tray): {b / steady:.0f}x"
        met = "yes" if steady and b / steady >= 50 else "no"
        if cold and b / cold < 50:
            met += " (steady state); no (cold one-shot)" if met == "yes" else ""
        out.append(f"| ≥ 50x less CPU than the baseline, {n} VMs (baseline {b:.0f} ms) | {s} | {met} |")
    idle = cmp.get("idle")
    if idle:
        cpu = idle.get("cpu_pct_perf", idle["cpu_pct_proc_stat"])
        out.append(f"| idle `vmbar watch` (10 VMs) < 0.5 % of one core | {cpu:.3f} % | {'yes' if cpu < 0.5 else 'no'} |")
    out.append("| detection latency < 1 s median | see the rig-delays section (lab/scenarios.py --record) | see there |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("refresh", "console", "targets"):
        sys.exit(__doc__)
    d = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "vmbar-bench")
    sys.stdout.write({"refresh": refresh, "console": console, "targets": targets}[sys.argv[1]](d))
