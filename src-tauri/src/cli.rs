//! The app's command line: the same `--config`/`--vms-dir` as the CLI, plus `--show`.

use std::path::PathBuf;

use clap::Parser;

/// vmbar's tray app. `VMBAR_CONFIG` and `VMBAR_VMS_DIR` apply as for the CLI (flags win).
#[derive(Debug, Parser)]
#[command(name = "vmbar-app", version, about)]
pub struct Args {
    /// Config file (default: `$VMBAR_CONFIG`, else the user's config dir `vmbar/config.toml`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// VMs folder, one sub-folder per VM (overrides `VMBAR_VMS_DIR` and the config file).
    #[arg(long, value_name = "DIR")]
    pub vms_dir: Option<PathBuf>,
    /// Open the window at start and keep it shown (first runs, tests).
    #[arg(long)]
    pub show: bool,
}

impl Args {
    /// The start options these flags give.
    pub fn start_options(&self) -> crate::state::StartOptions {
        crate::state::StartOptions { config_file: self.config.clone(), vms_dir: self.vms_dir.clone(), pinned: self.show }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let a = Args::try_parse_from(["vmbar-app", "--config", "/c.toml", "--vms-dir", "/v", "--show"]).unwrap();
        let o = a.start_options();
        assert_eq!(o.config_file.as_deref(), Some(std::path::Path::new("/c.toml")));
        assert_eq!(o.vms_dir.as_deref(), Some(std::path::Path::new("/v")));
        assert!(o.pinned);
        assert!(!Args::try_parse_from(["vmbar-app"]).unwrap().show);
        assert!(Args::try_parse_from(["vmbar-app", "--bogus"]).is_err());
    }
}
