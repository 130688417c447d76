//! SIGTERM and SIGINT during `apply`. Before the executor starts, a signal releases the lock
//! and exits at once: nothing has been written. Once it runs, a signal only raises a flag:
//! the executor starts no more actions, a running export kills its process group, and
//! `apply` journals what was cut short, saves the catalog, releases the lock and exits
//! non-zero.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static EXECUTING: AtomicBool = AtomicBool::new(false);

/// Listens for SIGTERM and SIGINT (Ctrl+C on Windows) from now on. `abandon` runs when one
/// arrives before [`executing`] was called (it releases the lock), then the process exits
/// with status 1.
pub fn install(abandon: impl Fn() + Send + 'static) -> std::io::Result<()> {
    crate::platform::on_termination(move |name| arrived(name, &abandon))
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
