//! The equilibria tradesim solves. No I/O, no randomness: pure numerics.

mod anderson;
pub mod caliendo_parro;
pub mod gravity;
pub mod solver;
