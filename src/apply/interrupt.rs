//! SIGTERM and SIGINT during `apply`. Before the executor starts, a signal releases the lock
//! and exits at once: nothing has been written. Once it runs, a signal only raises a flag:
//! the executor starts no more actions, a running export kills its process group, and
//! `apply` journals what was cut short, saves the catalog, releases the lock and exits
//! non-zero.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static EXECUTING: AtomicBool = AtomicBool::new(false);

/// Listens for SIGTERM and SIGINT on a thread of its own from now on. `abandon` runs when
/// one arrives before [`executing`] was called (it releases the lock), then the process
/// exits with status 1.
#[cfg(unix)]
pub fn install(abandon: impl Fn() + Send + 'static) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            arrived(
                if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                },
                &abandon,
            );
        }
    });
    Ok(())
}

/// On Windows, Ctrl+C and Ctrl+Break arrive through the C runtime's `signal` (there is no
/// signal iterator): a handler raises a flag that a thread of its own watches.
#[cfg(windows)]
pub fn install(abandon: impl Fn() + Send + 'static) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use std::sync::Arc;
    let raised = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGINT, Arc::clone(&raised))?;
    signal_hook::flag::register(SIGTERM, Arc::clone(&raised))?;
    std::thread::spawn(move || {
        loop {
            if raised.swap(false, Ordering::SeqCst) {
                arrived("Ctrl+C", &abandon);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    Ok(())
}

/// A signal arrived: before the executor runs, release and exit; after, raise the flag.
fn arrived(name: &str, abandon: &impl Fn()) {
    REQUESTED.store(true, Ordering::SeqCst);
    if !EXECUTING.load(Ordering::SeqCst) {
        abandon();
        eprintln!("apply: {name} received before any action started; nothing was done");
        std::process::exit(1);
    }
}

/// From now on a signal only raises the flag: the executor winds down in order.
pub fn executing() {
    EXECUTING.store(true, Ordering::SeqCst);
}

/// Whether a SIGTERM or SIGINT arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
