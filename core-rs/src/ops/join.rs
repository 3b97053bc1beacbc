//! Joining, splitting and reordering tensors: `cat`/`stack` and their variants, `split` and
//! `chunk`, `flip`/`roll`/`repeat`, triangles and diagonals.

pub mod cat;
pub mod grid;
pub mod reorder;
pub mod split;
pub mod triangle;

pub use cat::{atleast, block_diag, cat, column_stack, dstack, hstack, stack, vstack};
pub use grid::{broadcast_tensors, cartesian_prod, meshgrid};
pub use reorder::gather_slices;
pub use split::SplitSpec;
