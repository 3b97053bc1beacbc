//! What an index value out of range raises, op by op, with PyTorch's messages. The CPU raises
//! it at once; CUDA kernels check index values on the device and leave the first fault's code,
//! value and dim size in the device's fault word (`cuda::faults`), which the host reads and
//! raises at its next wait for the device, as PyTorch's device-side asserts surface late.

use crate::error::Error;
use crate::err;

/// The error of an index value out of range along dim `.0`, by the op that met it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `gather`/`scatter*`: RuntimeError "index v is out of bounds for dimension d with size n".
    AlongDim(usize),
    /// `index_select`/`index_add_`: IndexError "index out of range in self".
    InSelf(usize),
    /// `index_copy_`: IndexError naming the op.
    Copy(usize),
    /// `index_fill_` and `t[idx]`: IndexError "index v is out of bounds for dimension d with size n".
    OutOfBounds(usize),
    /// `nll_loss` (and `cross_entropy`): IndexError "Target v is out of bounds.".
    Target,
    /// `take`/`put_` (flat positions): IndexError "out of range: tried to access index v on a
    /// tensor of n elements.".
    Flat,
}

impl Fault {
    /// The error for value `v` along a dim of `size` elements.
    pub fn error(self, v: i64, size: usize) -> Error {
        match self {
            Fault::AlongDim(d) => err!(Runtime, "index {} is out of bounds for dimension {} with size {}", v, d, size),
            Fault::InSelf(_) => err!(Index, "index out of range in self"),
            Fault::Copy(d) => err!(Index, "index_copy_(): index {} is out of bounds for dimension {} with size {}", v, d, size),
            Fault::OutOfBounds(d) => err!(Index, "index {} is out of bounds for dimension {} with size {}", v, d, size),
            Fault::Target => err!(Index, "Target {} is out of bounds.", v),
            Fault::Flat => err!(Index, "out of range: tried to access index {} on a tensor of {} elements.", v, size),
        }
    }

    /// A nonzero number naming the fault in device memory: the kind in the low byte, the dim above.
    pub fn code(self) -> i64 {
        let (kind, dim) = match self {
            Fault::AlongDim(d) => (1, d),
            Fault::InSelf(d) => (2, d),
            Fault::Copy(d) => (3, d),
            Fault::OutOfBounds(d) => (4, d),
            Fault::Target => (5, 0),
            Fault::Flat => (6, 0),
        };
        kind | ((dim as i64) << 8)
    }

    /// The fault `code` names (None for a code no fault has).
    pub fn from_code(code: i64) -> Option<Fault> {
        let dim = (code >> 8) as usize;
        Some(match code & 0xff {
            1 => Fault::AlongDim(dim),
            2 => Fault::InSelf(dim),
            3 => Fault::Copy(dim),
            4 => Fault::OutOfBounds(dim),
            5 => Fault::Target,
            6 => Fault::Flat,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_their_fault() {
        for f in [Fault::AlongDim(0), Fault::InSelf(3), Fault::Copy(7), Fault::OutOfBounds(63), Fault::Target, Fault::Flat] {
            assert_ne!(f.code(), 0);
            assert_eq!(Fault::from_code(f.code()), Some(f));
        }
        assert_eq!(Fault::from_code(0), None);
        assert_eq!(Fault::AlongDim(1).error(5, 3).to_string(), "index 5 is out of bounds for dimension 1 with size 3");
    }
}
