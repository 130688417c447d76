//! A stand-in for `LCSCmd.exe` in the Windows integration tests (`tests/it/windows.rs`),
//! which cannot run the real one: like LCSCmd.exe it writes its export to the file named by
//! `/ConfigFile:PATH` and says so on stdout. What it writes is the arguments it received,
//! as a JSON array, so a test can see that a path with spaces arrived as one argument.
//!
//! `/Hang:MARKER` instead starts a copy of itself with `/Linger:MARKER`, then waits for
//! ever; the copy writes `MARKER` after 3 seconds unless it was killed first, so a test can
//! tell whether a timeout killed the whole process tree.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().find_map(|a| a.strip_prefix(flag));
    if let Some(marker) = value("/Linger:") {
        std::thread::sleep(Duration::from_secs(3));
        let _ = std::fs::write(marker, "the export's child outlived its timeout");
        return ExitCode::SUCCESS;
    }
    if let Some(marker) = value("/Hang:") {
        let spawned = std::env::current_exe().and_then(|me| {
            std::process::Command::new(me)
                .arg(format!("/Linger:{marker}"))
                .spawn()
        });
        if let Err(e) = spawned {
            eprintln!("fake-lcscmd: cannot start a child: {e}");
            return ExitCode::from(3);
        }
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
    let Some(file) = value("/ConfigFile:") else {
        eprintln!("fake-lcscmd: no /ConfigFile: argument in {args:?}");
        return ExitCode::from(2);
    };
    let json = serde_json::to_string(&args).unwrap_or_default();
    if let Err(e) = std::fs::write(file, json) {
        eprintln!("fake-lcscmd: cannot write {file}: {e}");
        return ExitCode::from(1);
    }
    println!("Exported settings to {file}");
    ExitCode::SUCCESS
}
