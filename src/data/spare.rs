//! Spare value buffers of a thread, reused by the next allocation of the same length instead
//! of being freed and allocated again.
//!
//! A batch solves many draws of one world on each thread, and every draw's solves make and drop
//! the same cube-sized arrays (`N²J` values: the model's shares, the tariffs of a year, the
//! workspace, the equilibrium's flows). Freed, such an array goes back to the system, and the
//! next draw's takes fresh pages and the page faults that come with them (a fifth of a draw's
//! time at 150 × 20). A thread keeps spares only after [`keep_on_this_thread`] (the batch's
//! solving threads); everywhere else allocation and freeing are as before. Reuse changes no
//! value: [`zeros`] hands out zeros and [`take`] a buffer its caller writes in full.

use std::cell::RefCell;

/// At most this many buffers are kept per thread.
const MAX_BUFFERS: usize = 16;
/// At most this many values (8 bytes each) are kept per thread: 64 MiB.
const MAX_VALUES: usize = 8 << 20;

thread_local! {
    static SPARE: RefCell<Option<Vec<Vec<f64>>>> = const { RefCell::new(None) };
}

/// From now on, this thread keeps the buffers given back for the next allocation.
pub(crate) fn keep_on_this_thread() {
    SPARE.with(|s| {
        s.borrow_mut().get_or_insert_with(Vec::new);
    });
}

/// A spare of exactly `len` values, if this thread keeps one.
fn spare(len: usize) -> Option<Vec<f64>> {
    SPARE.with(|s| {
        let mut s = s.borrow_mut();
        let spares = s.as_mut()?;
        let k = spares.iter().position(|b| b.len() == len)?;
        Some(spares.swap_remove(k))
    })
}

/// A buffer of `len` values whose contents are unspecified (a spare's old values, or zeros):
/// for a caller that writes all of it before reading.
pub(crate) fn take(len: usize) -> Vec<f64> {
    spare(len).unwrap_or_else(|| vec![0.0; len])
}

/// A buffer of `len` zeros.
pub(crate) fn zeros(len: usize) -> Vec<f64> {
    match spare(len) {
        Some(mut b) => {
            b.fill(0.0);
            b
        }
        None => vec![0.0; len],
    }
}

/// Keep `buffer` for a later [`take`] or [`zeros`] of its length (when this thread keeps
/// spares and has room); otherwise it is freed.
pub(crate) fn give(buffer: Vec<f64>) {
    if buffer.is_empty() {
        return;
    }
    SPARE.with(|s| {
        if let Some(spares) = s.borrow_mut().as_mut() {
            let kept: usize = spares.iter().map(Vec::len).sum();
            if spares.len() < MAX_BUFFERS && kept + buffer.len() <= MAX_VALUES {
                spares.push(buffer);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without `keep_on_this_thread` nothing is kept; with it, a given buffer comes back for its
    /// length, and `zeros` clears it.
    #[test]
    fn buffers_are_kept_only_when_asked_and_zeros_are_zeros() {
        std::thread::spawn(|| {
            give(vec![7.0; 5]);
            assert_eq!(take(5), vec![0.0; 5]);
            keep_on_this_thread();
            let b = vec![7.0; 5];
            let at = b.as_ptr();
            give(b);
            let again = take(5);
            assert_eq!((again.as_ptr(), again[0]), (at, 7.0));
            give(again);
            assert_eq!(take(4), vec![0.0; 4]);
            let z = zeros(5);
            assert_eq!((z.as_ptr(), z), (at, vec![0.0; 5]));
            for _ in 0..MAX_BUFFERS + 3 {
                give(vec![1.0; 2]);
            }
            let kept = SPARE.with(|s| s.borrow().as_ref().map(Vec::len));
            assert_eq!(kept, Some(MAX_BUFFERS));
        })
        .join()
        .unwrap();
    }
}
