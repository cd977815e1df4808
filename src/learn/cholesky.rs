//! Symmetric positive-definite solves for the analytic head: packed lower-triangle storage,
//! a blocked Cholesky factorization and the matching triangular solves. The blocks keep nearly
//! all flops in `gemm`, which is what makes a P = 512 solve take about a millisecond.

use super::linalg::{dot_f64, gemm, Mat};

/// Row-major lower-triangle packing of a symmetric `n x n` matrix: row `i` holds columns `0..=i`,
/// so unpacking into a row-major matrix is one contiguous copy per row.
pub fn packed_len(n: usize) -> usize {
    n * (n + 1) / 2
}

/// Offset of row `i` in the packed lower triangle.
pub fn packed_row(i: usize) -> usize {
    i * (i + 1) / 2
}

/// Copies a packed lower triangle into the lower triangle of a row-major `n x n` matrix (the
/// strict upper triangle is zero: `cholesky` never reads it).
pub fn unpack_lower(packed: &[f64], n: usize) -> Vec<f64> {
    let mut full = vec![0.0; n * n];
    for i in 0..n {
        full[i * n..i * n + i + 1].copy_from_slice(&packed[packed_row(i)..packed_row(i) + i + 1]);
    }
    full
}

const BLOCK: usize = 64;

/// `gram += H^T H` on the packed lower triangle, for `H` the `rows x p` row-major `h`: one
/// f64 gemm per 64-column block, each computing only the block's columns up to the diagonal.
pub fn add_gram(gram: &mut [f64], h: &[f64], rows: usize, p: usize) {
    let hm = Mat::new(h, rows, p);
    let mut block = Vec::new();
    for j0 in (0..p).step_by(BLOCK) {
        let j1 = (j0 + BLOCK).min(p);
        block.clear();
        block.resize((j1 - j0) * j1, 0.0);
        gemm(
            1.0,
            hm.cols(j0, j1).t(),
            hm.cols(0, j1),
            0.0,
            &mut block,
            j1,
        );
        for j in j0..j1 {
            let src = &block[(j - j0) * j1..(j - j0) * j1 + j + 1];
            let dst = &mut gram[packed_row(j)..packed_row(j) + j + 1];
            dst.iter_mut().zip(src).for_each(|(g, v)| *g += v);
        }
    }
}

/// In-place Cholesky `a = L L^T` of a symmetric positive-definite row-major `n x n` matrix of
/// which only the lower triangle is read; on success the lower triangle holds `L`.
/// Right-looking and blocked so that nearly all flops run in `gemm`: the panel below each
/// diagonal block is `A21 inv(L11)^T`, the trailing update touches only lower blocks.
/// `Err(i)` names the first pivot that was not positive.
pub fn cholesky(a: &mut [f64], n: usize) -> Result<(), usize> {
    assert_eq!(a.len(), n * n, "cholesky: matrix size");
    let (mut panel, mut solved) = (Vec::new(), Vec::new());
    for k0 in (0..n).step_by(BLOCK) {
        let k1 = (k0 + BLOCK).min(n);
        factor_diagonal_block(a, n, k0, k1)?;
        if k1 == n {
            break;
        }
        let (rows, b) = (n - k1, k1 - k0);
        let inv = lower_inverse(a, n, k0, k1);
        panel.clear();
        (k1..n).for_each(|i| panel.extend_from_slice(&a[i * n + k0..i * n + k1]));
        solved.clear();
        solved.resize(rows * b, 0.0);
        gemm(
            1.0,
            Mat::new(&panel, rows, b),
            Mat::new(&inv, b, b).t(),
            0.0,
            &mut solved,
            b,
        );
        for (r, i) in (k1..n).enumerate() {
            a[i * n + k0..i * n + k1].copy_from_slice(&solved[r * b..(r + 1) * b]);
        }
        let l21 = Mat::new(&solved, rows, b);
        for r0 in (0..rows).step_by(BLOCK) {
            let r1 = (r0 + BLOCK).min(rows);
            let lhs = Mat {
                data: &solved[r0 * b..],
                rows: r1 - r0,
                ..l21
            };
            let rhs = Mat { rows: r1, ..l21 }.t();
            gemm(-1.0, lhs, rhs, 1.0, &mut a[(k1 + r0) * n + k1..], n);
        }
    }
    Ok(())
}

fn factor_diagonal_block(a: &mut [f64], n: usize, k0: usize, k1: usize) -> Result<(), usize> {
    for j in k0..k1 {
        let d = a[j * n + j] - dot_f64(&a[j * n + k0..j * n + j], &a[j * n + k0..j * n + j]);
        if d <= 0.0 || !d.is_finite() {
            return Err(j);
        }
        let ljj = d.sqrt();
        a[j * n + j] = ljj;
        for i in j + 1..k1 {
            let s = dot_f64(&a[i * n + k0..i * n + j], &a[j * n + k0..j * n + j]);
            a[i * n + j] = (a[i * n + j] - s) / ljj;
        }
    }
    Ok(())
}

/// The inverse of the diagonal block `L[k0..k1, k0..k1]` (lower triangular, `b x b`), by
/// forward substitution on the identity. Its condition number is the square root of the block's.
fn lower_inverse(a: &[f64], n: usize, k0: usize, k1: usize) -> Vec<f64> {
    let b = k1 - k0;
    let mut inv = vec![0.0; b * b];
    for c in 0..b {
        for r in c..b {
            let row = &a[(k0 + r) * n + k0..];
            let s: f64 = (c..r).map(|k| row[k] * inv[k * b + c]).sum();
            let e = if r == c { 1.0 } else { 0.0 };
            inv[r * b + c] = (e - s) / row[r];
        }
    }
    inv
}

/// Solves `L L^T X = B` in place (`b` is `n x m` row-major) given the factor from `cholesky`.
/// Blocked like the factorization: off-diagonal blocks are one `gemm` each.
pub fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64], m: usize) {
    assert_eq!(b.len(), n * m, "cholesky_solve: right-hand side size");
    let lm = Mat::new(l, n, n);
    for k0 in (0..n).step_by(BLOCK) {
        let k1 = (k0 + BLOCK).min(n);
        let (done, rest) = b.split_at_mut(k0 * m);
        let lhs = Mat {
            data: &l[k0 * n..],
            rows: k1 - k0,
            ..lm
        }
        .cols(0, k0);
        gemm(-1.0, lhs, Mat::new(done, k0, m), 1.0, rest, m);
        for i in k0..k1 {
            let (before, row) = rest.split_at_mut((i - k0) * m);
            for j in k0..i {
                let lij = l[i * n + j];
                row[..m]
                    .iter_mut()
                    .zip(&before[(j - k0) * m..(j - k0 + 1) * m])
                    .for_each(|(r, y)| *r -= lij * y);
            }
            let inv = 1.0 / l[i * n + i];
            row[..m].iter_mut().for_each(|r| *r *= inv);
        }
    }
    let mut k1 = n;
    while k1 > 0 {
        let k0 = (k1 - 1) / BLOCK * BLOCK;
        let (head, tail) = b.split_at_mut(k1 * m);
        // L^T[k0..k1, k1..n] = (L[k1..n, k0..k1])^T
        let lt = Mat {
            data: &l[k1 * n..],
            rows: n - k1,
            ..lm
        }
        .cols(k0, k1)
        .t();
        gemm(
            -1.0,
            lt,
            Mat::new(tail, n - k1, m),
            1.0,
            &mut head[k0 * m..],
            m,
        );
        for i in (k0..k1).rev() {
            let (upto, after) = head.split_at_mut((i + 1) * m);
            let row = &mut upto[i * m..];
            for j in i + 1..k1 {
                let lji = l[j * n + i];
                row.iter_mut()
                    .zip(&after[(j - i - 1) * m..(j - i) * m])
                    .for_each(|(r, v)| *r -= lji * v);
            }
            let inv = 1.0 / l[i * n + i];
            row.iter_mut().for_each(|r| *r *= inv);
        }
        k1 = k0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::linalg::{gemm, Mat};

    fn spd(n: usize) -> Vec<f64> {
        let x: Vec<f64> = (0..n * n)
            .map(|i| ((i * 7919 % 101) as f64 / 50.0) - 1.0)
            .collect();
        let mut a = vec![0.0; n * n];
        gemm(
            1.0,
            Mat::new(&x, n, n),
            Mat::new(&x, n, n).t(),
            0.0,
            &mut a,
            n,
        );
        (0..n).for_each(|i| a[i * n + i] += 1.0);
        a
    }

    #[test]
    fn cholesky_solve_inverts_spd_matrices_across_block_sizes() {
        for n in [1, 5, 64, 65, 150, 200] {
            let a = spd(n);
            let x: Vec<f64> = (0..n * 3).map(|i| (i % 13) as f64 - 6.0).collect();
            let mut b = vec![0.0; n * 3];
            gemm(1.0, Mat::new(&a, n, n), Mat::new(&x, n, 3), 0.0, &mut b, 3);
            let mut l = a.clone();
            cholesky(&mut l, n).expect("spd");
            cholesky_solve(&l, n, &mut b, 3);
            let err = b
                .iter()
                .zip(&x)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-8, "n={n}: max error {err}");
        }
    }

    #[test]
    fn cholesky_reports_the_failing_pivot() {
        let mut a = vec![1.0, 2.0, 2.0, 1.0];
        assert_eq!(cholesky(&mut a, 2), Err(1));
    }

    #[test]
    fn packed_round_trip() {
        let n = 4;
        let packed: Vec<f64> = (0..packed_len(n)).map(|i| i as f64).collect();
        let full = unpack_lower(&packed, n);
        assert_eq!(&full[..4], &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&full[4..8], &[1.0, 2.0, 0.0, 0.0]);
        assert_eq!(&full[12..], &[6.0, 7.0, 8.0, 9.0]);
        assert_eq!(packed_row(3), 6);
    }
}
