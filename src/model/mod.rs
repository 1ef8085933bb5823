//! The equilibria tradesim solves. No I/O, no randomness: pure numerics.
pub mod gravity;
