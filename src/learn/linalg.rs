//! Dense kernels for the learner: dot/axpy/normalization and matrix products (via
//! `matrixmultiply`, which picks AVX2/FMA kernels at run time); `cholesky.rs` builds on them.
//!
//! Matrices are row-major slices described by a `Mat` view (rows, cols, row and column strides),
//! so a transpose is a stride swap, not a copy. Every view is bounds-checked before the one
//! `unsafe` call into `matrixmultiply`, which is the only unsafe code in the learner.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, MulAssign};

/// A read-only strided view of a row-major buffer.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A dense row-major `rows x cols` matrix.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Mat<'a, T> {
        Mat {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Mat<'a, T> {
        Mat {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Columns `from..to` (every row).
    pub fn cols(self, from: usize, to: usize) -> Mat<'a, T> {
        assert!(
            from <= to && to <= self.cols,
            "column range {from}..{to} of {}",
            self.cols
        );
        let data = if self.rows == 0 || from == to {
            &self.data[..0]
        } else {
            &self.data[from * self.col_stride..]
        };
        Mat {
            data,
            cols: to - from,
            ..self
        }
    }

    /// Panics (a programming error, never input-driven) if the view reaches past its buffer.
    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "matrix view reaches {last} of {}",
                self.data.len()
            );
        }
    }
}

fn check_product<T>(a: &Mat<T>, b: &Mat<T>, c_len: usize, c_stride: usize) {
    a.check();
    b.check();
    assert_eq!(a.cols, b.rows, "inner dimensions");
    assert!(c_stride >= b.cols, "output stride");
    if a.rows > 0 && b.cols > 0 {
        assert!(
            (a.rows - 1) * c_stride + b.cols <= c_len,
            "output too small"
        );
    }
}

/// The element types the kernels run in (f32 for the heads, f64 for the ridge statistics): the
/// arithmetic the generic kernels need and the `matrixmultiply` routine for the type.
pub trait Real:
    Copy + Default + Add<Output = Self> + Mul<Output = Self> + AddAssign + MulAssign + Sum
{
    /// `matrixmultiply::sgemm` or `dgemm`.
    const GEMM: GemmKernel<Self>;
}

/// The signature `matrixmultiply`'s `sgemm` and `dgemm` share.
pub type GemmKernel<T> = unsafe fn(
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

impl Real for f32 {
    const GEMM: GemmKernel<f32> = matrixmultiply::sgemm;
}

impl Real for f64 {
    const GEMM: GemmKernel<f64> = matrixmultiply::dgemm;
}

/// `c = alpha * a * b + beta * c`, `c` row-major with row stride `c_stride`.
pub fn gemm<T: Real>(alpha: T, a: Mat<T>, b: Mat<T>, beta: T, c: &mut [T], c_stride: usize) {
    check_product(&a, &b, c.len(), c_stride);
    if a.rows == 0 || b.cols == 0 {
        return;
    }
    if a.cols == 0 {
        (0..a.rows).for_each(|i| {
            c[i * c_stride..i * c_stride + b.cols]
                .iter_mut()
                .for_each(|v| *v *= beta)
        });
        return;
    }
    // SAFETY: `check_product` proved every index the kernel touches lies inside its slice,
    // and `c` is a unique borrow that cannot alias `a` or `b`.
    unsafe {
        (T::GEMM)(
            a.rows,
            a.cols,
            b.cols,
            alpha,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            c_stride as isize,
            1,
        );
    }
}

/// Dot product over `LANES` independent accumulators so the compiler vectorizes it. The lane
/// count fixes the order of the additions, hence the last bits of the result.
fn dot_lanes<T: Real, const LANES: usize>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::default(); LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: T = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| *x * *y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    acc.into_iter().sum::<T>() + tail
}

/// Dot product in f32 (8 lanes: one 256-bit register).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes::<f32, 8>(a, b)
}

/// Dot product in f64 (4 lanes: one 256-bit register).
pub fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    dot_lanes::<f64, 4>(a, b)
}

/// `y += alpha * x`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Euclidean norm, accumulated in f64.
pub fn norm(x: &[f32]) -> f32 {
    x.iter()
        .map(|v| f64::from(*v) * f64::from(*v))
        .sum::<f64>()
        .sqrt() as f32
}

/// Writes `x / |x|` into `out`; a zero vector stays zero (it has no direction).
pub fn normalize_into(x: &[f32], out: &mut [f32]) {
    let n = norm(x);
    let inv = if n > 0.0 { 1.0 / n } else { 0.0 };
    for (o, v) in out.iter_mut().zip(x) {
        *o = v * inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_products_and_dot() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
        let mut c = [0.0f32; 4];
        gemm(
            1.0,
            Mat::new(&a, 2, 3),
            Mat::new(&a, 2, 3).t(),
            0.0,
            &mut c,
            2,
        );
        assert_eq!(c, [14.0, 32.0, 32.0, 77.0]);
        let mut d = [0.0f32; 2];
        gemm(
            1.0,
            Mat::new(&a, 2, 3).cols(1, 3),
            Mat::new(&[1.0, 1.0], 2, 1),
            0.0,
            &mut d,
            1,
        );
        assert_eq!(d, [5.0, 11.0]);
        let mut e = [2.0f64; 2];
        gemm(
            1.0,
            Mat::new(&[0.0; 0], 2, 0),
            Mat::new(&[0.0; 0], 0, 1),
            0.5,
            &mut e,
            1,
        );
        assert_eq!(e, [1.0, 1.0]);
        assert_eq!(dot(&[1.0; 19], &[2.0; 19]), 38.0);
    }
}
