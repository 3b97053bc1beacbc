//! Pooling windows on CUDA tensors (pool.cu): window maxima with their indices, window means
//! and the means' adjoint, over the same `Windows` description the CPU kernels read. The
//! per-axis tables (and, for the adjoint, their inverses) are built on the host and uploaded.

use super::dispatch::{address, index_of, launch, threads_for, upload_slice};
use super::kernels::suffix;
use crate::cpu::pool::{divisors, Windows};
use crate::dtype::DType;
use crate::error::Result;
use crate::tensor::Tensor;

/// pool.cu's `PoolGeometry`: sizes and steps per dim, and where each table starts.
#[repr(C)]
#[derive(Default)]
struct PoolGeometry {
    out: [i64; 3],
    input: [i64; 3],
    step: [i64; 3],
    first: [i64; 3],
    end: [i64; 3],
    inv_start: [i64; 3],
    inv_list: [i64; 3],
}

// SAFETY: plain `#[repr(C)]` data matching the CUDA struct.
unsafe impl cudarc::driver::DeviceRepr for PoolGeometry {}

/// The geometry of `w` and its int64 table: per dim the windows' first and end positions,
/// then per input position the (ascending) outputs whose windows read it, as CSR.
fn tables(w: &Windows) -> (PoolGeometry, Vec<i64>) {
    let (axes, input) = (w.axes3(), w.input3());
    let mut g = PoolGeometry::default();
    let mut table = Vec::new();
    for (d, axis) in axes.iter().enumerate() {
        g.out[d] = axis.len() as i64;
        g.input[d] = input[d] as i64;
        g.step[d] = axis.step as i64;
        g.first[d] = table.len() as i64;
        table.extend(axis.first.iter().map(|&v| v as i64));
        g.end[d] = table.len() as i64;
        table.extend(axis.end.iter().map(|&v| v as i64));
        let mut readers = vec![Vec::new(); input[d]];
        for o in 0..axis.len() {
            let mut at = axis.first[o];
            while at < axis.end[o] {
                readers[at].push(o as i64);
                at += axis.step;
            }
        }
        g.inv_start[d] = table.len() as i64;
        let mut start = 0;
        table.push(0);
        for r in &readers {
            start += r.len() as i64;
            table.push(start);
        }
        g.inv_list[d] = table.len() as i64;
        table.extend(readers.into_iter().flatten());
    }
    (g, table)
}

/// `t`'s leading (plane) dims followed by `spatial`, and the number of planes.
fn planes(t: &Tensor, nd: usize, spatial: &[usize]) -> (Vec<usize>, usize) {
    let lead = &t.shape()[..t.ndim() - nd];
    let mut shape = lead.to_vec();
    shape.extend_from_slice(spatial);
    (shape, lead.iter().product())
}

/// `cpu::pool::window_max` of a CUDA tensor: the window maxima and their flat indices.
pub fn window_max(x: &Tensor, w: &Windows) -> Result<(Tensor, Tensor)> {
    let (shape, count) = planes(x, w.nd, &w.output());
    let values = Tensor::uninit_on(&shape, x.dtype(), x.device())?;
    let indices = Tensor::uninit_on(&shape, DType::I64, x.device())?;
    if values.numel() == 0 {
        return Ok((values, indices));
    }
    let x = x.contiguous()?;
    let (g, table) = tables(w);
    let table = upload_slice(&table, x.device())?;
    let (p, s, v, i, t) = (count as i64, address(&x, x.offset()), address(&values, 0), address(&indices, 0), address(&table, 0));
    launch!(index_of(&x)?, format!("pool_max_{}", suffix(x.dtype())), threads_for(values.numel()); &p, &s, &v, &i, &t, &g)?;
    Ok((values, indices))
}

/// `cpu::pool::window_mean` of a CUDA tensor, or with `adjoint` its `window_mean_adjoint`.
pub fn window_mean(x: &Tensor, w: &Windows, adjoint: bool) -> Result<Tensor> {
    let spatial = if adjoint { w.input.clone() } else { w.output() };
    let (shape, count) = planes(x, w.nd, &spatial);
    let out = Tensor::uninit_on(&shape, x.dtype(), x.device())?;
    if out.numel() == 0 {
        return Ok(out);
    }
    let x = x.contiguous()?;
    let (g, table) = tables(w);
    let (table, div) = (upload_slice(&table, x.device())?, upload_slice(&divisors(w), x.device())?);
    let (p, s, o, t, d) = (count as i64, address(&x, x.offset()), address(&out, 0), address(&table, 0), address(&div, 0));
    let name = format!("pool_{}_{}", if adjoint { "mean_adjoint" } else { "mean" }, suffix(x.dtype()));
    launch!(index_of(&x)?, name, threads_for(out.numel()); &p, &s, &o, &t, &d, &g)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::pool::Axis;

    #[test]
    fn inverse_tables_list_the_outputs_reading_each_position() {
        // 5 positions, windows [0, 3) and [2, 5) with step 1; a unit axis for the other dims.
        let axis = Axis { first: vec![0, 2], end: vec![3, 5], step: 1, count: vec![3.0, 3.0] };
        let w = Windows { nd: 1, input: vec![5], axes: vec![axis], divisor: None };
        let (g, t) = tables(&w);
        let (start, list) = (g.inv_start[2] as usize, g.inv_list[2] as usize);
        let readers = |at: usize| t[list + t[start + at] as usize..list + t[start + at + 1] as usize].to_vec();
        assert_eq!(readers(0), vec![0]);
        assert_eq!(readers(2), vec![0, 1]);
        assert_eq!(readers(4), vec![1]);
        assert_eq!((g.out, g.input), ([1, 1, 2], [1, 1, 5]));
        assert_eq!(&t[g.first[2] as usize..g.first[2] as usize + 2], &[0, 2]);
        assert_eq!(&t[g.end[2] as usize..g.end[2] as usize + 2], &[3, 5]);
    }
}
