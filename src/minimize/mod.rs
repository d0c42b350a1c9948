//! `parity minimize`: shrink a failing case's fixture while the same difference persists, with
//! delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing Input",
//! IEEE Transactions on Software Engineering 28(2), 2002; [`ddmin`]).

pub mod ddmin;
