//! Indexing: `t[...]` reads and writes (basic indexing gives views, index tensors give
//! copies), and the index ops: `gather`/`scatter*`, `index_select`/`index_*_`,
//! `masked_*`, `take`/`put_`, `nonzero`.
//!
//! Every op checks its arguments first, then runs one of two kernels in `kernel`: a gather
//! through the storage deltas its index selects, or a scatter through them. On the CPU the
//! deltas are a table checked on the host; CUDA kernels read one-dim index tensors on the
//! device and check them there (`fault`).

mod advanced;
mod along_dim;
pub(crate) mod checks;
pub(crate) mod fault;
pub(crate) mod kernel;
mod masked;
mod select;

pub use advanced::TensorIndex;
pub(crate) use advanced::is_basic_key;
pub(crate) use along_dim::along_dim_shapes;
pub use along_dim::{ScatterReduce, ScatterSrc};
