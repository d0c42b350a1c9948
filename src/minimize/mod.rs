//! `parity minimize`: shrink a failing case's fixture while the same difference persists, with
//! delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing Input",
//! IEEE Transactions on Software Engineering 28(2), 2002; [`ddmin`]).
//!
//! [`failure`] says what "fails the same way" means; [`input`] cuts a fixture into records ([`records`], per format) and writes any subset back;
//! [`ddmin`] is the algorithm, generic over its test.

pub mod ddmin;
pub mod failure;
pub mod input;
pub mod records;
