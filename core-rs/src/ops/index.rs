//! Indexing: `t[...]` reads and writes (basic indexing gives views, index tensors give
//! copies), and the index ops: `gather`/`scatter*`, `index_select`/`index_*_`,
//! `masked_*`, `take`/`put_`, `nonzero`.
//!
//! Every op checks its arguments and bounds first, then runs one of two kernels in
//! `kernel`: a gather through a table of storage offsets, or a scatter through one.

mod advanced;
mod along_dim;
mod checks;
pub(crate) mod kernel;
mod masked;
mod select;

pub use advanced::TensorIndex;
pub(crate) use advanced::is_basic_key;
pub(crate) use along_dim::along_dim_shapes;
pub use along_dim::{ScatterReduce, ScatterSrc};
