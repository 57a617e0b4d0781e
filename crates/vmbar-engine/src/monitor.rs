//! The long-running loop behind `vmbar watch` and the tray app: refresh on
//! file events and on a timer, publish snapshots and status events.
//!
//! Event-driven where the OS allows: the `notify` crate watches the VMs
//! folder, each VM folder (console.log, qemu.pid) and the registry's folder
//! (FSEvents on macOS, inotify on Linux); a burst of events causes one
//! refresh. The network sources are polled: every `interval_fast_ms` while a
//! VM is initializing or booting, every `interval_slow_ms` otherwise; a probe
//! or DNS lookup that finishes in the background triggers a refresh at once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{broadcast, mpsc, watch};

use crate::config::Settings;
use crate::engine::{Engine, RefreshOptions, Snapshot};
use crate::model::StatusEvent;

/// One published refresh: the full snapshot and the events it produced.
#[derive(Debug, Clone)]
pub struct Update {
    /// All VMs after the refresh.
    pub snapshot: Arc<Snapshot>,
    /// Status or IPv4 changes since the previous update (the first update has
    /// one event per VM with `from: None`).
    pub events: Vec<StatusEvent>,
}

enum Command {
    Refresh,
    Reconfigure(Box<Settings>),
}

/// Handle to a running monitor task. Dropping every handle stops it.
#[derive(Clone)]
pub struct Monitor {
    updates: broadcast::Sender<Update>,
    latest: watch::Receiver<Option<Arc<Snapshot>>>,
    commands: mpsc::UnboundedSender<Command>,
}

impl Monitor {
    /// Subscribes to future updates (the latest snapshot is in [`Monitor::latest`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// The latest snapshot, `None` before the first refresh ends.
    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest.borrow().clone()
    }

    /// A receiver that changes with every snapshot.
    pub fn latest_receiver(&self) -> watch::Receiver<Option<Arc<Snapshot>>> {
        self.latest.clone()
    }

    /// Asks for a refresh now ("Refresh now" in the tray menu).
    pub fn refresh_now(&self) {
        let _ = self.commands.send(Command::Refresh);
    }

    /// Replaces the settings; the next refresh uses them.
    pub fn reconfigure(&self, settings: Settings) {
        let _ = self.commands.send(Command::Reconfigure(Box::new(settings)));
    }
}

/// Starts the monitor on the current tokio runtime with the real OS ports.
pub fn spawn(settings: Settings) -> Monitor {
    spawn_engine(Engine::new(settings))
}

/// Starts the monitor around an existing engine (tests inject ports).
pub fn spawn_engine(mut engine: Engine) -> Monitor {
    let (updates, _) = broadcast::channel(256);
    let (latest_tx, latest) = watch::channel(None);
    let (commands, mut rx) = mpsc::unbounded_channel();
    let tx = updates.clone();
    tokio::spawn(async move {
        let (fs_tx, mut fs_rx) = mpsc::unbounded_channel::<()>();
        let mut watcher = FsWatch::new(fs_tx);
        let wake = engine.wake_handle();
        loop {
            watcher.sync(engine.settings());
            let (snapshot, events) = engine.refresh(RefreshOptions { wait: Duration::from_millis(250) }).await;
            let snapshot = Arc::new(snapshot);
            let _ = latest_tx.send(Some(snapshot.clone()));
            let _ = tx.send(Update { snapshot, events });
            if latest_tx.is_closed() {
                break; // every Monitor handle was dropped
            }
            let p = engine.settings().probe;
            let interval = Duration::from_millis(if engine.busy() { p.interval_fast_ms } else { p.interval_slow_ms });
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = wake.notified() => {}
                Some(()) = fs_rx.recv() => {
                    // a burst of file events (a booting console writes a lot) causes one refresh
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    while fs_rx.try_recv().is_ok() {}
                }
                cmd = rx.recv() => match cmd {
                    Some(Command::Refresh) => {}
                    Some(Command::Reconfigure(s)) => engine.reconfigure(*s),
                    None => break,
                },
            }
        }
    });
    Monitor { updates, latest, commands }
}

/// Watches the VMs folder, each VM folder and the registry's folder.
struct FsWatch {
    watcher: Option<RecommendedWatcher>,
    watched: Arc<Mutex<Vec<PathBuf>>>,
}

impl FsWatch {
    fn new(tx: mpsc::UnboundedSender<()>) -> Self {
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            // Access events (open, read, close without writing: inotify IN_OPEN, IN_ACCESS,
            // IN_CLOSE_NOWRITE) are what a refresh itself causes when it reads qemu.pid,
            // console.log, registry.json and the folders: reacting to them made `vmbar watch`
            // refresh in a loop (~20 times a second, 3 % of a core with 10 idle VMs).
            if res.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
                let _ = tx.send(());
            }
        })
        .ok();
        FsWatch { watcher, watched: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Adds watches for folders that appeared, drops those that vanished.
    fn sync(&mut self, s: &Settings) {
        let Some(w) = self.watcher.as_mut() else { return };
        let mut want = vec![s.vms_dir.clone()];
        if let Some(p) = s.registry.parent() {
            want.push(p.to_owned());
        }
        if let Ok(rd) = std::fs::read_dir(&s.vms_dir) {
            for e in rd.flatten().take(2000) {
                let p = e.path();
                if p.is_dir() && !e.file_name().as_encoded_bytes().starts_with(b".") {
                    want.push(p);
                }
            }
        }
        want.sort();
        want.dedup();
        let Ok(mut watched) = self.watched.lock() else { return };
        watched.retain(|p| {
            if want.contains(p) && p.exists() {
                true
            } else {
                let _ = w.unwatch(p);
                false
            }
        });
        for p in want {
            if !watched.contains(&p) && p.is_dir() && w.watch(&p, RecursiveMode::NonRecursive).is_ok() {
                watched.push(p);
            }
        }
    }
}
