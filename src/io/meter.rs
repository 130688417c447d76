//! How far a long piece of work has got, for whoever shows progress. The executor attaches a
//! [`Meter`] to the thread that runs an action; the drivers of this layer (copy, hash) add to
//! the current thread's meter as they go, and the SQL Server session sets the percent the
//! server reports, without knowing who reads it or whether anyone does. A thread with no
//! meter attached (discovery, tests) pays one thread-local look-up per chunk.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes done of bytes expected, or a percent that a server reported. Shared between the
/// thread doing the work and the one showing it.
#[derive(Debug, Default)]
pub struct Meter {
    done: AtomicU64,
    total: AtomicU64,
    /// The last percent a server reported, plus one (0: none reported).
    percent: AtomicU64,
}

/// What a meter says at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Nothing measured yet.
    Nothing,
    /// `done` bytes of `total` (`total` 0: not known in advance).
    Bytes { done: u64, total: u64 },
    /// A percent the server reported (SQL Server's `STATS` messages).
    Percent(u64),
}

impl Meter {
    pub fn reading(&self) -> Reading {
        let percent = self.percent.load(Ordering::Relaxed);
        if percent > 0 {
            return Reading::Percent(percent - 1);
        }
        match (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        ) {
            (0, 0) => Reading::Nothing,
            (done, total) => Reading::Bytes { done, total },
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Meter>>> = const { RefCell::new(None) };
}

/// Keeps a meter attached to this thread until dropped.
#[must_use = "the meter is detached when this is dropped"]
pub struct Attached(());

impl Drop for Attached {
    fn drop(&mut self) {
        CURRENT.with_borrow_mut(|current| *current = None);
    }
}

/// Makes `meter` the one this thread's work adds to.
pub fn attach(meter: Arc<Meter>) -> Attached {
    CURRENT.with_borrow_mut(|current| *current = Some(meter));
    Attached(())
}

/// The meter attached to this thread, to hand to a helper thread of the same work.
pub fn current() -> Option<Arc<Meter>> {
    CURRENT.with_borrow(Clone::clone)
}

fn with(f: impl FnOnce(&Meter)) {
    CURRENT.with_borrow(|current| {
        if let Some(meter) = current {
            f(meter);
        }
    });
}

/// `bytes` more are to be read or written by this thread's work.
pub fn expect(bytes: u64) {
    with(|meter| {
        meter.total.fetch_add(bytes, Ordering::Relaxed);
    });
}

/// `bytes` more were read or written by this thread's work.
pub fn advance(bytes: u64) {
    with(|meter| advance_on(meter, bytes));
}

/// `bytes` more were done on `meter` (from a helper thread, see [`current`]).
pub fn advance_on(meter: &Meter, bytes: u64) {
    meter.done.fetch_add(bytes, Ordering::Relaxed);
}

/// The server says this thread's statement is `percent` done.
pub fn percent(percent: u64) {
    with(|meter| meter.percent.store(percent.min(100) + 1, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_adds_to_the_attached_meter_only() {
        advance(5);
        let meter = Arc::new(Meter::default());
        {
            let _attached = attach(Arc::clone(&meter));
            assert_eq!(meter.reading(), Reading::Nothing);
            expect(100);
            advance(40);
            assert_eq!(
                meter.reading(),
                Reading::Bytes {
                    done: 40,
                    total: 100
                }
            );
            percent(35);
            assert_eq!(meter.reading(), Reading::Percent(35));
        }
        advance(10);
        assert_eq!(meter.reading(), Reading::Percent(35));
        assert!(current().is_none());
    }
}
