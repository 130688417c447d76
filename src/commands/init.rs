//! `standby init`: write a starting desired state into an empty directory.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{GlobalArgs, InitArgs, InitEdition};
use crate::desired::{Edition, Severity, load_dir};
use crate::profile::init::{self, InitFile, InitOptions, PathStyle};

use super::common::Failure;

pub(super) fn run(global: &GlobalArgs, args: &InitArgs) -> ExitCode {
    match write(global, args) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

fn write(global: &GlobalArgs, args: &InitArgs) -> Result<ExitCode, Failure> {
    let options = InitOptions {
        site: args.site.clone(),
        pool: args.pool.clone(),
        edition: match args.edition {
            InitEdition::Standard => Edition::Standard,
            InitEdition::Enterprise => Edition::Enterprise,
        },
        standby: args.standby.clone(),
        paths: PathStyle::native(),
    };
    init::check(&options)?;
    let dir = &global.desired;
    refuse_existing(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = init::render(&options);
    for file in &files {
        publish(dir, file)?;
        if !global.quiet {
            eprintln!("wrote {}", dir.join(&file.name).display());
        }
    }
    // What was written must be what `validate` accepts; say so, with the warnings if any.
    let loaded = crate::profile::apply(load_dir(dir));
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        return Err(Failure(format!(
            "the desired state written to {} does not validate ({errors} error{}); run `standby validate`",
            dir.display(),
            if errors == 1 { "" } else { "s" }
        )));
    }
    let warnings: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    if !global.quiet {
        if warnings.is_empty() {
            eprintln!("{} validates and lints clean.", dir.display());
        } else {
            eprintln!(
                "{} validates, with {} warning(s) until a standby site is declared: {}",
                dir.display(),
                warnings.len(),
                warnings.join(", ")
            );
        }
        eprintln!(
            "next: replace the server names, paths and hosts with yours, then `standby validate`, \
             `standby discover` and `standby plan`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a directory that already holds a desired state: nothing of it may be lost.
fn refuse_existing(dir: &Path) -> Result<(), Failure> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Failure(format!("cannot read {}: {e}", dir.display()))),
    };
    let mut existing: Vec<String> = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "kdl") {
            existing.push(path.display().to_string());
        }
    }
    if existing.is_empty() {
        return Ok(());
    }
    existing.sort();
    Err(Failure(format!(
        "{} already holds a desired state ({}); init never overwrites: pass --desired with a new directory",
        dir.display(),
        existing.join(", ")
    )))
}

/// Writes one file under a temporary name, syncs it, and links it into place; the link
/// fails rather than replace a file that appeared meanwhile.
fn publish(dir: &Path, file: &InitFile) -> Result<(), Failure> {
    let target = dir.join(&file.name);
    let temp = dir.join(format!(".{}.tmp-{}", file.name, std::process::id()));
    let written = std::fs::File::create_new(&temp).and_then(|mut f| {
        f.write_all(file.text.as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&temp, &target));
    let removed = std::fs::remove_file(&temp);
    linked.map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    removed.map_err(|e| format!("cannot remove {}: {e}", temp.display()))?;
    Ok(())
}
