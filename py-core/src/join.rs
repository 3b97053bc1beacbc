//! Joining, splitting and reordering: `cat`/`stack` and friends, `split`/`chunk`,
//! `flip`/`roll`/`repeat`, triangles and diagonals, `meshgrid`, broadcasting helpers.

use ferrotorch_core::ops::join::{self, grid::Indexing, reorder::Repeats, SplitSpec};
use ferrotorch_core::{DType, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::elementwise::{assign_inplace, with_out};
use crate::error::IntoPy;
use crate::tensor::{index, int_list, shape_args, size_object, wrap, PyTensor};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
}

/// Reads a list or tuple of tensors (`cat([a, b])`).
pub fn tensor_list(obj: &Bound<'_, PyAny>, fname: &str) -> PyResult<Vec<Tensor>> {
    if obj.cast::<PyList>().is_err() && obj.cast::<PyTuple>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "{}(): argument 'tensors' (position 1) must be tuple of Tensors, not {}",
            fname,
            type_name(obj)
        )));
    }
    obj.try_iter()?
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            item.cast::<PyTensor>().map(|t| t.borrow().t.clone()).map_err(|_| {
                PyTypeError::new_err(format!("expected Tensor as element {} in argument 0, but got {}", i, type_name(&item)))
            })
        })
        .collect()
}

/// Reads `f(a, b, c)` or `f([a, b, c])`.
pub fn varargs_tensors(args: &Bound<'_, PyTuple>, fname: &str) -> PyResult<Vec<Tensor>> {
    if args.len() == 1 {
        let a = args.get_item(0)?;
        if a.cast::<PyTensor>().is_err() {
            return tensor_list(&a, fname);
        }
    }
    tensor_list(args.as_any(), fname)
}

/// A Python tuple of tensors.
pub fn tensor_tuple<'py>(py: Python<'py>, ts: Vec<Tensor>) -> PyResult<Bound<'py, PyTuple>> {
    let items = ts.into_iter().map(|t| Bound::new(py, PyTensor::new(t))).collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

fn out_arg<'py>(py: Python<'py>, r: ferrotorch_core::Result<Tensor>, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    with_out(py, r.py()?, out)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
fn cat<'py>(py: Python<'py>, tensors: &Bound<'py, PyAny>, dim: i64, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    out_arg(py, join::cat(&tensor_list(tensors, "cat")?, dim), out)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
fn concat<'py>(py: Python<'py>, tensors: &Bound<'py, PyAny>, dim: i64, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    out_arg(py, join::cat(&tensor_list(tensors, "concat")?, dim), out)
}

#[pyfunction]
#[pyo3(signature = (tensors, axis=0, *, out=None))]
fn concatenate<'py>(py: Python<'py>, tensors: &Bound<'py, PyAny>, axis: i64, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    out_arg(py, join::cat(&tensor_list(tensors, "concatenate")?, axis), out)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim=0, *, out=None))]
fn stack<'py>(py: Python<'py>, tensors: &Bound<'py, PyAny>, dim: i64, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
    out_arg(py, join::stack(&tensor_list(tensors, "stack")?, dim), out)
}

macro_rules! list_joins {
    ($($name:ident => $f:path),*) => {$(
        #[pyfunction]
        #[pyo3(signature = (tensors, *, out=None))]
        fn $name<'py>(py: Python<'py>, tensors: &Bound<'py, PyAny>, out: Option<&Bound<'py, PyTensor>>) -> PyResult<Bound<'py, PyAny>> {
            out_arg(py, $f(&tensor_list(tensors, stringify!($name))?), out)
        }
    )*};
}
list_joins!(hstack => join::hstack, vstack => join::vstack, row_stack => join::vstack, dstack => join::dstack, column_stack => join::column_stack);

/// `atleast_nd(t)` returns a tensor; several tensors (or a list) give a tuple.
fn atleast<'py>(py: Python<'py>, args: &Bound<'py, PyTuple>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    if args.len() == 1 {
        if let Ok(t) = args.get_item(0)?.cast::<PyTensor>() {
            return Ok(Bound::new(py, wrap(join::atleast(&t.borrow().t, n))?)?.into_any());
        }
    }
    let ts = varargs_tensors(args, &format!("atleast_{}d", n))?;
    let r = ts.iter().map(|t| join::atleast(t, n)).collect::<ferrotorch_core::Result<Vec<_>>>().py()?;
    Ok(tensor_tuple(py, r)?.into_any())
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn atleast_1d<'py>(py: Python<'py>, tensors: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, tensors, 1)
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn atleast_2d<'py>(py: Python<'py>, tensors: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, tensors, 2)
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn atleast_3d<'py>(py: Python<'py>, tensors: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, tensors, 3)
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn block_diag(tensors: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
    wrap(join::block_diag(&tensor_list(tensors.as_any(), "block_diag")?))
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn cartesian_prod(tensors: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
    wrap(join::cartesian_prod(&tensor_list(tensors.as_any(), "cartesian_prod")?))
}

#[pyfunction]
#[pyo3(signature = (*tensors, indexing=None))]
fn meshgrid<'py>(py: Python<'py>, tensors: &Bound<'py, PyTuple>, indexing: Option<&str>) -> PyResult<Bound<'py, PyTuple>> {
    let ts = varargs_tensors(tensors, "meshgrid")?;
    let indexing = Indexing::parse(indexing.unwrap_or("ij")).py()?;
    tensor_tuple(py, join::meshgrid(&ts, indexing).py()?)
}

#[pyfunction]
#[pyo3(signature = (*tensors))]
fn broadcast_tensors<'py>(py: Python<'py>, tensors: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyTuple>> {
    let ts = varargs_tensors(tensors, "broadcast_tensors")?;
    tensor_tuple(py, join::broadcast_tensors(&ts).py()?)
}

/// `broadcast_shapes(*shapes)`: each shape an int or a sequence of ints; returns a `Size`.
#[pyfunction]
#[pyo3(signature = (*shapes))]
fn broadcast_shapes<'py>(py: Python<'py>, shapes: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    let mut result: Vec<usize> = Vec::new();
    for s in shapes.iter() {
        let dims = if let Ok(i) = index(&s) {
            vec![i]
        } else if s.cast::<PyTuple>().is_ok() || s.cast::<PyList>().is_ok() {
            int_list(&s)?
        } else {
            return Err(PyRuntimeError::new_err(format!(
                "Input shapes should be of type ints, a tuple of ints, or a list of ints, got {}",
                s.repr()?
            )));
        };
        if let Some(&neg) = dims.iter().find(|&&d| d < 0) {
            return Err(PyRuntimeError::new_err(format!("Trying to create tensor with negative dimension ({}): ({})", neg, neg)));
        }
        let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
        result = ferrotorch_core::layout::broadcast_shapes(&result, &dims)
            .map_err(|_| PyRuntimeError::new_err("Shape mismatch: objects cannot be broadcast to a single shape"))?;
    }
    size_object(py, &result)
}

/// Reads `repeats`: an int or a tensor.
fn repeats_arg(obj: &Bound<'_, PyAny>) -> PyResult<Repeats> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(Repeats::Tensor(t.borrow().t.clone()));
    }
    Ok(Repeats::Int(index(obj)?))
}

/// `repeat_interleave(input, repeats, dim)`, or `repeat_interleave(repeats)` alone.
#[pyfunction]
#[pyo3(signature = (input, repeats=None, dim=None, *, output_size=None))]
fn repeat_interleave(input: &PyTensor, repeats: Option<&Bound<'_, PyAny>>, dim: Option<i64>, output_size: Option<i64>) -> PyResult<PyTensor> {
    match repeats {
        None => wrap(join::reorder::repeat_interleave_index(&input.t, output_size)),
        Some(r) => wrap(input.t.repeat_interleave(&repeats_arg(r)?, dim, output_size)),
    }
}

/// Reads `tensor_split`'s second argument: sections (an int or 0-d tensor) or indices.
fn split_spec(obj: &Bound<'_, PyAny>) -> PyResult<SplitSpec> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.borrow().t.clone();
        if t.dtype() != DType::I64 {
            return Err(PyRuntimeError::new_err(format!(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but got {}",
                ferrotorch_core::dtype::title(t.dtype())
            )));
        }
        return match t.ndim() {
            0 => Ok(SplitSpec::Sections(t.item().py()?.to_i64())),
            1 => Ok(SplitSpec::Indices(t.to_vec::<i64>().py()?)),
            n => Err(PyRuntimeError::new_err(format!(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional tensor, but got a tensor with {} dims",
                n
            ))),
        };
    }
    if let Ok(i) = index(obj) {
        return Ok(SplitSpec::Sections(i));
    }
    Ok(SplitSpec::Indices(int_list(obj)?))
}

/// Reads `flip`'s dims given as `flip(0, 1)`, `flip((0, 1))` or `flip(dims=[0, 1])`.
fn dims_args(args: &Bound<'_, PyTuple>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<i64>> {
    match dims {
        Some(d) => int_list(d),
        None => shape_args(args),
    }
}

#[pymethods]
impl PyTensor {
    /// `split(split_size_or_sections, dim)`: views of `split_size` (or of the listed sizes).
    #[pyo3(signature = (split_size, dim=0))]
    fn split<'py>(&self, py: Python<'py>, split_size: &Bound<'py, PyAny>, dim: i64) -> PyResult<Bound<'py, PyTuple>> {
        let r = match index(split_size) {
            Ok(s) => self.t.split_size(s, dim),
            Err(_) => self.t.split_with_sizes(&int_list(split_size)?, dim),
        };
        tensor_tuple(py, r.py()?)
    }

    #[pyo3(signature = (split_sizes, dim=0))]
    fn split_with_sizes<'py>(&self, py: Python<'py>, split_sizes: &Bound<'py, PyAny>, dim: i64) -> PyResult<Bound<'py, PyTuple>> {
        tensor_tuple(py, self.t.split_with_sizes(&int_list(split_sizes)?, dim).py()?)
    }

    #[pyo3(signature = (chunks, dim=0))]
    fn chunk<'py>(&self, py: Python<'py>, chunks: i64, dim: i64) -> PyResult<Bound<'py, PyTuple>> {
        tensor_tuple(py, self.t.chunk(chunks, dim).py()?)
    }

    #[pyo3(signature = (dim=0))]
    fn unbind<'py>(&self, py: Python<'py>, dim: i64) -> PyResult<Bound<'py, PyTuple>> {
        tensor_tuple(py, self.t.unbind(dim).py()?)
    }

    #[pyo3(signature = (indices_or_sections=None, dim=0, *, sections=None, indices=None, tensor_indices_or_sections=None))]
    fn tensor_split<'py>(
        &self,
        py: Python<'py>,
        indices_or_sections: Option<&Bound<'py, PyAny>>,
        dim: i64,
        sections: Option<i64>,
        indices: Option<&Bound<'py, PyAny>>,
        tensor_indices_or_sections: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let spec = match (indices_or_sections.or(tensor_indices_or_sections), sections, indices) {
            (Some(x), _, _) => split_spec(x)?,
            (None, Some(s), _) => SplitSpec::Sections(s),
            (None, None, Some(i)) => SplitSpec::Indices(int_list(i)?),
            _ => return Err(PyTypeError::new_err("tensor_split() missing required argument 'indices_or_sections'")),
        };
        tensor_tuple(py, self.t.tensor_split(&spec, dim).py()?)
    }

    fn hsplit<'py>(&self, py: Python<'py>, sections: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        tensor_split_dir(py, &self.t, 'h', sections)
    }

    fn vsplit<'py>(&self, py: Python<'py>, sections: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        tensor_split_dir(py, &self.t, 'v', sections)
    }

    fn dsplit<'py>(&self, py: Python<'py>, sections: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        tensor_split_dir(py, &self.t, 'd', sections)
    }

    #[pyo3(signature = (*sizes))]
    fn repeat(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.repeat(&shape_args(sizes)?))
    }

    #[pyo3(signature = (*dims))]
    fn tile(&self, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.tile(&shape_args(dims)?))
    }

    #[pyo3(name = "repeat_interleave", signature = (repeats, dim=None, *, output_size=None))]
    fn repeat_interleave_method(&self, repeats: &Bound<'_, PyAny>, dim: Option<i64>, output_size: Option<i64>) -> PyResult<PyTensor> {
        wrap(self.t.repeat_interleave(&repeats_arg(repeats)?, dim, output_size))
    }

    #[pyo3(signature = (*args, dims=None))]
    fn flip(&self, args: &Bound<'_, PyTuple>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        wrap(self.t.flip(&dims_args(args, dims)?))
    }

    fn fliplr(&self) -> PyResult<PyTensor> {
        wrap(self.t.fliplr())
    }

    fn flipud(&self) -> PyResult<PyTensor> {
        wrap(self.t.flipud())
    }

    #[pyo3(signature = (shifts, dims=None))]
    fn roll(&self, shifts: &Bound<'_, PyAny>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dims = match dims {
            Some(d) if !d.is_none() => int_list(d)?,
            _ => Vec::new(),
        };
        wrap(self.t.roll(&int_list(shifts)?, &dims))
    }

    #[pyo3(signature = (k=1, dims=None))]
    fn rot90(&self, k: i64, dims: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let dims = match dims {
            Some(d) => int_list(d)?,
            None => vec![0, 1],
        };
        wrap(self.t.rot90(k, &dims))
    }

    #[pyo3(signature = (diagonal=0))]
    fn tril(&self, diagonal: i64) -> PyResult<PyTensor> {
        wrap(self.t.triangle(diagonal, false))
    }

    #[pyo3(signature = (diagonal=0))]
    fn triu(&self, diagonal: i64) -> PyResult<PyTensor> {
        wrap(self.t.triangle(diagonal, true))
    }

    #[pyo3(signature = (diagonal=0))]
    fn tril_<'py>(slf: &Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[], |t| t.triangle(diagonal, false).py())
    }

    #[pyo3(signature = (diagonal=0))]
    fn triu_<'py>(slf: &Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        assign_inplace(slf, &[], |t| t.triangle(diagonal, true).py())
    }

    #[pyo3(signature = (diagonal=0))]
    fn diag(&self, diagonal: i64) -> PyResult<PyTensor> {
        wrap(self.t.diag(diagonal))
    }

    #[pyo3(signature = (offset=0, dim1=-2, dim2=-1))]
    fn diag_embed(&self, offset: i64, dim1: i64, dim2: i64) -> PyResult<PyTensor> {
        wrap(self.t.diag_embed(offset, dim1, dim2))
    }

    #[pyo3(signature = (offset=0))]
    fn diagflat(&self, offset: i64) -> PyResult<PyTensor> {
        wrap(self.t.diagflat(offset))
    }

    /// `broadcast_to(shape)`: `expand` with NumPy's name.
    #[pyo3(signature = (*size))]
    fn broadcast_to(&self, size: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        wrap(self.t.expand(&shape_args(size)?))
    }
}

/// `hsplit`/`vsplit`/`dsplit` as a tuple.
fn tensor_split_dir<'py>(py: Python<'py>, t: &Tensor, which: char, sections: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    tensor_tuple(py, t.directional_split(which, &split_spec(sections)?).py()?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(concat, m)?)?;
    m.add_function(wrap_pyfunction!(concatenate, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(hstack, m)?)?;
    m.add_function(wrap_pyfunction!(vstack, m)?)?;
    m.add_function(wrap_pyfunction!(row_stack, m)?)?;
    m.add_function(wrap_pyfunction!(dstack, m)?)?;
    m.add_function(wrap_pyfunction!(column_stack, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_1d, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_2d, m)?)?;
    m.add_function(wrap_pyfunction!(atleast_3d, m)?)?;
    m.add_function(wrap_pyfunction!(block_diag, m)?)?;
    m.add_function(wrap_pyfunction!(cartesian_prod, m)?)?;
    m.add_function(wrap_pyfunction!(meshgrid, m)?)?;
    m.add_function(wrap_pyfunction!(broadcast_tensors, m)?)?;
    m.add_function(wrap_pyfunction!(broadcast_shapes, m)?)?;
    m.add_function(wrap_pyfunction!(repeat_interleave, m)?)?;
    Ok(())
}
