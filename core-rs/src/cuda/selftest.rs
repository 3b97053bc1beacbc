//! An end-to-end check of the kernel path on a real GPU, before tensors live there: compile,
//! load, launch with the by-value `Shape`/`Strides` structs, read back, compare with the CPU.
//! It covers what no machine without a GPU can check: the struct layout seen by the device,
//! f16/bf16 rounding, strided indexing and the two-pass reduction.

use cudarc::driver::{CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits};
use half::{bf16, f16};

use super::launch_layout::{KernelShape, KernelStrides};
use super::{device, driver_error, guarded, loader};
use crate::error::Result;
use crate::{bail, err};

const BLOCK: u32 = 256;

/// Runs every check on device `index`; returns the names of the checks, or the first failure.
pub fn self_test(index: usize) -> Result<Vec<&'static str>> {
    let ctx = device::context(index)?;
    let stream = ctx.default_stream();
    let t = Tester { index, stream };
    guarded("self test", || {
        let mut passed = Vec::new();
        let checks: [(&'static str, fn(&Tester) -> Result<()>); 7] = [
            ("fill_i64 strided", Tester::fill_strided),
            ("binary_add_f32 contiguous", Tester::add_f32),
            ("binary_add_bf16 bit-exact", Tester::add_bf16),
            ("unary_exp_f16 within 1 ulp", Tester::exp_f16),
            ("copy_f32_i64 transposed", Tester::copy_transposed),
            ("reduce_sum_f32 two passes", Tester::sum_two_passes),
            ("reduce_max_i32 rows", Tester::max_rows),
        ];
        for (name, check) in checks {
            check(&t).map_err(|e| err!(Runtime, "CUDA self test '{name}' failed: {}", e.message))?;
            passed.push(name);
        }
        Ok(passed)
    })
}

struct Tester {
    index: usize,
    stream: std::sync::Arc<CudaStream>,
}

fn elementwise_config(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(BLOCK as usize).clamp(1, 1024) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 }
}

fn contiguous<const N: usize>(n: usize) -> Result<(KernelShape, KernelStrides<N>)> {
    Ok((KernelShape::new(&[n])?, KernelStrides::new([&[1usize][..]; N])?))
}

impl Tester {
    fn upload<T: DeviceRepr>(&self, host: &[T]) -> Result<CudaSlice<T>> {
        self.stream.clone_htod(host).map_err(driver_error)
    }

    fn zeros<T: DeviceRepr + ValidAsZeroBits>(&self, n: usize) -> Result<CudaSlice<T>> {
        self.stream.alloc_zeros(n).map_err(driver_error)
    }

    fn download<T: DeviceRepr + Default + Clone>(&self, dev: &CudaSlice<T>) -> Result<Vec<T>> {
        self.stream.clone_dtoh(dev).map_err(driver_error)
    }

    /// `out = op(a, b)` through `binary_<op>_<dtype>` on contiguous 1-D inputs.
    fn binary<T: DeviceRepr + ValidAsZeroBits + Default + Clone>(&self, kernel: &str, a: &[T], b: &[T]) -> Result<Vec<T>> {
        let n = a.len();
        let f = loader::kernel(self.index, kernel)?;
        let (da, db, mut out) = (self.upload(a)?, self.upload(b)?, self.zeros::<T>(n)?);
        let (shape, strides) = contiguous::<3>(n)?;
        let (len, is_contiguous) = (n as i64, 1i32);
        let mut launch = self.stream.launch_builder(&f);
        launch.arg(&len).arg(&shape).arg(&strides).arg(&is_contiguous).arg(&mut out).arg(&da).arg(&db);
        // SAFETY: the arguments match the kernel's parameters (see kernels/mod.rs) and every
        // buffer holds n elements.
        unsafe { launch.launch(elementwise_config(n)) }.map_err(driver_error)?;
        self.download(&out)
    }

    fn fill_strided(&self) -> Result<()> {
        let f = loader::kernel(self.index, "fill_i64")?;
        let mut out = self.zeros::<i64>(10)?;
        // Every other element of 10: shape [5], stride 2.
        let (shape, strides) = (KernelShape::new(&[5])?, KernelStrides::<1>::new([&[2]])?);
        let (len, is_contiguous, value) = (5i64, 0i32, -7i64);
        let mut launch = self.stream.launch_builder(&f);
        launch.arg(&len).arg(&shape).arg(&strides).arg(&is_contiguous).arg(&mut out).arg(&value);
        // SAFETY: fill_i64(i64, Shape, Strides<1>, int, i64*, i64); the view stays in 10 elements.
        unsafe { launch.launch(elementwise_config(5)) }.map_err(driver_error)?;
        let got = self.download(&out)?;
        let expected: Vec<i64> = (0..10).map(|i| if i % 2 == 0 { -7 } else { 0 }).collect();
        expect_eq(&got, &expected)
    }

    fn add_f32(&self) -> Result<()> {
        let a: Vec<f32> = (0..5000).map(|i| i as f32).collect();
        let b: Vec<f32> = a.iter().map(|x| x * 0.5).collect();
        let expected: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        expect_eq(&self.binary("binary_add_f32", &a, &b)?, &expected)
    }

    fn add_bf16(&self) -> Result<()> {
        let a: Vec<u16> = (0..4096).map(|i| bf16::from_f32(i as f32 * 0.37 - 700.0).to_bits()).collect();
        let b: Vec<u16> = (0..4096).map(|i| bf16::from_f32((i as f32).sin() * 3.1).to_bits()).collect();
        // PyTorch's bf16 add: both to f32, add, round to nearest even.
        let expected: Vec<u16> =
            a.iter().zip(&b).map(|(&x, &y)| bf16::from_f32(bf16::from_bits(x).to_f32() + bf16::from_bits(y).to_f32()).to_bits()).collect();
        expect_eq(&self.binary("binary_add_bf16", &a, &b)?, &expected)
    }

    fn exp_f16(&self) -> Result<()> {
        let f = loader::kernel(self.index, "unary_exp_f16")?;
        let x: Vec<u16> = (0..2048).map(|i| f16::from_f32(i as f32 / 128.0 - 8.0).to_bits()).collect();
        let (dx, mut out) = (self.upload(&x)?, self.zeros::<u16>(x.len())?);
        let (shape, strides) = contiguous::<2>(x.len())?;
        let (len, is_contiguous) = (x.len() as i64, 1i32);
        let mut launch = self.stream.launch_builder(&f);
        launch.arg(&len).arg(&shape).arg(&strides).arg(&is_contiguous).arg(&mut out).arg(&dx);
        // SAFETY: unary_exp_f16(i64, Shape, Strides<2>, int, f16*, const f16*), n elements each.
        unsafe { launch.launch(elementwise_config(x.len())) }.map_err(driver_error)?;
        let got = self.download(&out)?;
        for (i, (&g, &xi)) in got.iter().zip(&x).enumerate() {
            let want = f16::from_f32(f16::from_bits(xi).to_f32().exp()).to_bits();
            if (g as i32 - want as i32).abs() > 1 {
                bail!(Runtime, "element {i}: got bits {g:#06x}, expected {want:#06x}");
            }
        }
        Ok(())
    }

    fn copy_transposed(&self) -> Result<()> {
        let f = loader::kernel(self.index, "copy_f32_i64")?;
        // src is 3x4 row-major; dst is its 4x3 transpose, converted to int64 (truncation).
        let src: Vec<f32> = (0..12).map(|i| i as f32 * 1.5 - 6.2).collect();
        let (dsrc, mut out) = (self.upload(&src)?, self.zeros::<i64>(12)?);
        let shape = KernelShape::new(&[4, 3])?;
        let strides = KernelStrides::<2>::new([&[3, 1], &[1, 4]])?;
        let (len, is_contiguous) = (12i64, 0i32);
        let mut launch = self.stream.launch_builder(&f);
        launch.arg(&len).arg(&shape).arg(&strides).arg(&is_contiguous).arg(&mut out).arg(&dsrc);
        // SAFETY: copy_f32_i64(i64, Shape, Strides<2>, int, i64*, const float*); offsets < 12.
        unsafe { launch.launch(elementwise_config(12)) }.map_err(driver_error)?;
        let expected: Vec<i64> = (0..4).flat_map(|i| (0..3).map(move |j| (i, j))).map(|(i, j)| src[j * 4 + i] as i64).collect();
        expect_eq(&self.download(&out)?, &expected)
    }

    /// `reduce_<op>_<dtype>` over `rows` x `cols` with `blocks` column blocks per row.
    fn reduce<S: DeviceRepr, A: DeviceRepr + ValidAsZeroBits + Default + Clone>(
        &self,
        kernel: &str,
        input: &CudaSlice<S>,
        rows: usize,
        cols: usize,
        blocks: u32,
    ) -> Result<CudaSlice<A>> {
        let f = loader::kernel(self.index, kernel)?;
        let mut out = self.zeros::<A>(rows * blocks as usize)?;
        let (r, c) = (rows as i64, cols as i64);
        let (kept, kept_strides, reduced, reduced_strides) = super::dispatch::dense_rows(rows, cols)?;
        let mut launch = self.stream.launch_builder(&f);
        launch.arg(&r).arg(&c).arg(&kept).arg(&kept_strides).arg(&reduced).arg(&reduced_strides).arg(input).arg(&mut out);
        let config = LaunchConfig { grid_dim: (blocks, rows.min(65535) as u32, 1), block_dim: (BLOCK, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: reduce_*(i64 rows, i64 cols, Shape, Strides<1>, Shape, Strides<1>, const S*, A*);
        // out holds rows * blocks partials.
        unsafe { launch.launch(config) }.map_err(driver_error)?;
        Ok(out)
    }

    fn sum_two_passes(&self) -> Result<()> {
        let n = 1 << 20;
        let ones = self.upload(&vec![1.0f32; n])?;
        let partials = self.reduce::<f32, f32>("reduce_sum_f32", &ones, 1, n, 64)?;
        let total = self.reduce::<f32, f32>("reduce_sum_f32", &partials, 1, 64, 1)?;
        expect_eq(&self.download(&total)?, &[n as f32])
    }

    fn max_rows(&self) -> Result<()> {
        let (rows, cols) = (5, 1000);
        let x: Vec<i32> = (0..rows * cols).map(|i| ((i * 7919) % 2003) as i32 - 1000).collect();
        let dx = self.upload(&x)?;
        let out = self.reduce::<i32, i32>("reduce_max_i32", &dx, rows, cols, 1)?;
        let expected: Vec<i32> = x.chunks(cols).map(|row| *row.iter().max().unwrap_or(&i32::MIN)).collect();
        expect_eq(&self.download(&out)?, &expected)
    }
}

fn expect_eq<T: PartialEq + std::fmt::Debug>(got: &[T], expected: &[T]) -> Result<()> {
    if got.len() != expected.len() {
        bail!(Runtime, "got {} elements, expected {}", got.len(), expected.len());
    }
    if let Some(i) = got.iter().zip(expected).position(|(g, e)| g != e) {
        bail!(Runtime, "element {i}: got {:?}, expected {:?}", got[i], expected[i]);
    }
    Ok(())
}
