//! `vmbar`: the command line of vmbar. Thin: parsing and printing over the
//! `vmbar-engine` crate, which does all detection.

mod inspect;
mod output;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use vmbar_engine::config::{self, Overrides};
use vmbar_engine::engine::{Engine, RefreshOptions};
use vmbar_engine::monitor;
use vmbar_engine::Status;

/// Exit codes (a stable contract).
mod exit {
    pub const OK: u8 = 0;
    pub const CANNOT_WORK: u8 = 1;
    pub const NO_SUCH_VM: u8 = 3;
    pub const NO_IPV4: u8 = 4;
}

#[derive(Parser, Debug)]
#[command(
    name = "vmbar",
    version,
    about = "The truth about your local QEMU VMs: stopped, booting, or ready for ssh, with their IPv4",
    long_about = "vmbar reads your VMs folder (default ~/vms: one folder per VM with console.log and qemu.pid, \
plus registry.json) and tells each VM's status (missing, stopped, initializing, booting, running) and the \
IPv4 confirmed for its current boot.\n\nExit codes: 0 ok, 1 vmbar cannot work (bad config, unreadable VMs \
folder), 2 usage, 3 no such VM, 4 no confirmed IPv4.",
    after_help = "Examples:\n  vmbar status\n  vmbar ip fargo --wait && ssh ubuntu@$(vmbar ip fargo)\n  vmbar watch --json\n  vmbar inspect console ~/vms/fargo/console.log --mac 52:54:00:15:7a:e3"
)]
struct Cli {
    /// Config file (default: $VMBAR_CONFIG, else <config dir>/vmbar/config.toml)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// VMs folder (overrides $VMBAR_VMS_DIR and the config file; default ~/vms)
    #[arg(long, global = true, value_name = "DIR")]
    vms_dir: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Show every VM (or the NAMEs given): status, IPv4, source, detail
    ///
    /// Exit codes: 0 whatever the VMs' states, 1 vmbar cannot work (bad config, unreadable VMs folder).
    Status {
        /// Only these VMs (a NAME that is nowhere shows as missing)
        names: Vec<String>,
        /// A JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print the IPv4 confirmed for NAME's current boot
    ///
    /// Exit codes: 0 printed, 1 vmbar cannot work, 3 no such VM, 4 no confirmed IPv4 (or --wait timed out).
    Ip {
        /// The VM
        name: String,
        /// Wait until the VM has a confirmed IPv4 (status booting or running)
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after SECS seconds (exit 4; exit 3 if the VM never appeared)
        #[arg(long, value_name = "SECS", default_value_t = 120, requires = "wait")]
        timeout: u64,
    },
    /// Keep running: one line per VM, then one line per change of status or IPv4
    Watch {
        /// JSON lines {name, from, to, ipv4, at}
        #[arg(long)]
        json: bool,
    },
    /// Parse one captured file offline and print what vmbar sees in it (JSON)
    Inspect {
        /// What the file is
        kind: inspect::Kind,
        /// The file, or - for standard input
        file: PathBuf,
        /// The VM's MAC (any spelling, e.g. 52:54:0:15:7a:e3)
        #[arg(long)]
        mac: Option<String>,
        /// The VM's name or hostname (leases)
        #[arg(long)]
        name: Option<String>,
        /// Judge lease expiry at this time (RFC 3339, e.g. 2025-01-11T19:00:00Z; leases only).
        /// Without it expiry is not judged (a captured file is usually old); supersession always is
        #[arg(long)]
        at: Option<String>,
    },
    /// Print a shell completion script
    Completions {
        /// The shell
        shell: Shell,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                || c.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind) == Some(std::io::ErrorKind::BrokenPipe)
        }) => {
            ExitCode::from(exit::OK) // the reader of our stdout went away (`| head`)
        }
        Err(e) => {
            say(&format!("vmbar: {}", output::escape(&format!("{e:#}"))));
            ExitCode::from(exit::CANNOT_WORK)
        }
    }
}

/// Writes one line to stderr; a closed stderr is ignored (never a panic).
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn,notify=error",
        1 => "info,notify=warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VMBAR_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let overrides = Overrides { config_file: cli.config.clone(), vms_dir: cli.vms_dir.clone() };
    match cli.command {
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            let out = &mut std::io::stdout();
            match shell {
                Shell::Bash => clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "vmbar", out),
                Shell::Zsh => clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "vmbar", out),
                Shell::Fish => clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "vmbar", out),
                Shell::Elvish => clap_complete::generate(clap_complete::Shell::Elvish, &mut cmd, "vmbar", out),
                Shell::Powershell => clap_complete::generate(clap_complete::Shell::PowerShell, &mut cmd, "vmbar", out),
            }
            Ok(exit::OK)
        }
        Cmd::Inspect { kind, file, mac, name, at } => inspect::run(kind, &file, mac.as_deref(), name.as_deref(), at.as_deref()),
        Cmd::Status { names, json } => {
            let settings = config::load_existing(&overrides).context("cannot load the configuration")?;
            block_on(async move {
                let wait = Duration::from_millis(settings.probe.ssh_timeout_ms.max(settings.probe.dns_timeout_ms) + 100);
                let mut engine = Engine::new(settings);
                let (snap, _) = engine.refresh(RefreshOptions { wait }).await;
                if let Some(e) = &snap.error {
                    if names.is_empty() {
                        anyhow::bail!("{e}");
                    }
                }
                let rows = output::select(&snap.vms, &names);
                let mut out = std::io::stdout().lock();
                if json {
                    writeln!(out, "{}", output::json_safe(&serde_json::to_string_pretty(&rows)?))?;
                } else {
                    output::table(&mut out, &rows)?;
                }
                Ok(exit::OK)
            })
        }
        Cmd::Ip { name, wait, timeout } => {
            let settings = config::load_existing(&overrides).context("cannot load the configuration")?;
            block_on(async move {
                let budget = Duration::from_millis(settings.probe.ssh_timeout_ms.max(settings.probe.dns_timeout_ms) + 100);
                let fast = Duration::from_millis(settings.probe.interval_fast_ms);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
                let mut engine = Engine::new(settings);
                loop {
                    let (snap, _) = engine.refresh(RefreshOptions { wait: budget.min(Duration::from_millis(500)) }).await;
                    let vm = snap.vms.iter().find(|v| v.name == name);
                    match vm {
                        None if snap.error.is_some() && !wait => {
                            anyhow::bail!("{}", snap.error.as_deref().unwrap_or_default());
                        }
                        None if !wait || tokio::time::Instant::now() >= deadline => {
                            if let Some(e) = &snap.error {
                                anyhow::bail!("{e}");
                            }
                            say(&format!("vmbar: no VM named {}", output::escape(&name)));
                            return Ok(exit::NO_SUCH_VM);
                        }
                        None => {} // --wait: the VM may be created in a moment
                        Some(v) if v.ipv4.is_some() && matches!(v.status, Status::Booting | Status::Running) => {
                            println!("{}", v.ipv4.map(|i| i.to_string()).unwrap_or_default()); // one short line
                            return Ok(exit::OK);
                        }
                        Some(v) => {
                            if !wait {
                                // one more refresh that waits for the probes it started
                                let (snap, _) = engine.refresh(RefreshOptions { wait: budget }).await;
                                if let Some(ip) = snap.vms.iter().find(|v| v.name == name).and_then(|v| v.ipv4) {
                                    println!("{ip}");
                                    return Ok(exit::OK);
                                }
                            }
                            if !wait || tokio::time::Instant::now() >= deadline {
                                say(&format!(
                                    "vmbar: {} has no confirmed IPv4 ({}{})",
                                    output::escape(&name),
                                    v.status,
                                    v.detail.as_deref().map(|d| format!(": {}", output::escape(d))).unwrap_or_default()
                                ));
                                return Ok(exit::NO_IPV4);
                            }
                        }
                    }
                    let wake = engine.wake_handle();
                    tokio::select! {
                        _ = tokio::time::sleep(fast) => {}
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep_until(deadline) => {}
                    }
                }
            })
        }
        Cmd::Watch { json } => {
            let settings = config::load_existing(&overrides).context("cannot load the configuration")?;
            block_on(async move {
                let mon = monitor::spawn(settings);
                let mut updates = mon.subscribe();
                let mut first = true;
                let mut last_error: Option<String> = None;
                loop {
                    let update = tokio::select! {
                        u = updates.recv() => u,
                        _ = shutdown_signal() => return Ok(exit::OK),
                    };
                    let update = match update {
                        Ok(u) => u,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return Ok(exit::OK),
                    };
                    if update.snapshot.error != last_error {
                        if let Some(e) = &update.snapshot.error {
                            if first && update.snapshot.vms.is_empty() {
                                anyhow::bail!("{e}");
                            }
                            say(&format!("vmbar: {}", output::escape(e)));
                        }
                        last_error = update.snapshot.error.clone();
                    }
                    first = false;
                    let mut out = std::io::stdout().lock();
                    for ev in &update.events {
                        let r = if json { output::event_json(&mut out, ev) } else { output::event_line(&mut out, ev) };
                        if r.and_then(|_| out.flush()).is_err() {
                            return Ok(exit::OK); // stdout closed (a pipe reader went away)
                        }
                    }
                }
            })
        }
    }
}

/// Runs `fut` on a fresh runtime, then drops the runtime without waiting for
/// blocking threads: a `getaddrinfo` stuck on a silent DNS server cannot be
/// cancelled, and waiting for it would hang vmbar's exit until the system
/// resolver gives up (150 s measured).
fn block_on<T>(fut: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("cannot start the async runtime")?;
    let out = rt.block_on(fut);
    rt.shutdown_background();
    out
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
