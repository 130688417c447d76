//! `standby discover`: observe and save the snapshot.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::common::{self, Failure};
use crate::cli::{DiscoverArgs, GlobalArgs};

pub(super) fn run(global: &GlobalArgs, args: &DiscoverArgs) -> ExitCode {
    let desired = match common::desired(global) {
        Ok(desired) => desired,
        Err(code) => return code,
    };
    let result = (|| -> Result<ExitCode, Failure> {
        let mut backend = common::open_state(global, &desired)?;
        let mut observed = common::discover(global, &desired, &args.observe, backend.as_mut())?;
        crate::observe::observe_standby(&desired, &mut observed);
        let all_failed =
            !observed.stores.is_empty() && observed.stores.iter().all(|s| s.error.is_some());
        // A discovery that reached no store must not replace the last good snapshot that
        // `plan` and the worksheet read: it goes beside it, in a file of its own.
        let failed_to = all_failed.then(|| {
            failed_path(&args.out.clone().unwrap_or_else(|| {
                global
                    .state
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("state"))
                    .join("observed.json")
            }))
        });
        let saved_to = if let Some(path) = failed_to.as_ref().or(args.out.as_ref()) {
            // Compact: a quarter smaller and faster to write than pretty-printed on a large
            // store (`jq . FILE` shows it indented). Streamed: with large SQL histories the
            // JSON is as big as the observation itself, and a copy of it in memory would
            // double the peak.
            crate::io::atomic::write_with(path, |out| {
                serde_json::to_writer(out, &observed).map_err(std::io::Error::from)
            })
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
            path.display().to_string()
        } else {
            // An unchanged observation is not written again: only its time moves.
            let fingerprint = observed.fingerprint();
            let failure = |e: crate::state::StateError| Failure(e.to_string());
            if !backend
                .touch_observation(observed.taken_at, &fingerprint)
                .map_err(failure)?
            {
                let json = serde_json::to_string(&observed).map_err(|e| Failure(e.to_string()))?;
                backend
                    .save_observation(observed.taken_at, &fingerprint, &json)
                    .map_err(failure)?;
            }
            backend.place()
        };
        let entries: usize = observed.stores.iter().map(|s| s.entries.len()).sum();
        let unreachable = observed.stores.iter().filter(|s| s.error.is_some()).count()
            + observed
                .filesets
                .iter()
                .filter(|f| f.error.is_some())
                .count()
            + observed.dns.iter().filter(|d| d.error.is_some()).count()
            + observed.sql.iter().filter(|i| i.error.is_some()).count();
        let databases: usize = observed.sql.iter().map(|i| i.databases.len()).sum();
        if !global.quiet {
            eprintln!(
                "discover: {} stores ({entries} entries), {} filesets{}{}{} → {}",
                observed.stores.len(),
                observed.filesets.len(),
                if observed.sql.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {} SQL Server instances ({databases} databases)",
                        observed.sql.len()
                    )
                },
                if observed.dns.is_empty() {
                    String::new()
                } else {
                    format!(", {} DNS records", observed.dns.len())
                },
                if unreachable > 0 {
                    format!(", {unreachable} unreachable")
                } else {
                    String::new()
                },
                saved_to
            );
        }
        if all_failed {
            eprintln!(
                "error: no backup store could be read; the last good observation is kept, this \
                 one is in {saved_to}"
            );
        }
        // The process ends here: freeing an observation of millions of SQL history rows one
        // allocation at a time took a second of a 20 s benchmark run (benches/sql.sh), for
        // memory the kernel takes back at exit anyway.
        std::mem::forget(observed);
        Ok(if all_failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })();
    result.unwrap_or_else(Failure::report)
}

/// Where a failed discovery is written: beside the snapshot it must not replace
/// (`observed.json` → `observed.failed.json`).
fn failed_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "observed".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.failed.json"))
}
