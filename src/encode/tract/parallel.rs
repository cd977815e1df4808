//! Rows of a batch run on scoped threads: tract's own pool speeds up matrix
//! products only, so with more than one thread the encoder splits the work
//! itself (the windows of a batch, or the frames of a window), one
//! single-threaded plan per chunk, and joins the outputs in order. Each row is
//! computed by the same operators whatever chunk it lands in, so the outputs
//! do not depend on the split.

use crate::encode::EncodeError;
use std::ops::Range;
use tract_onnx::prelude::*;

/// `n` rows cut into `chunks` contiguous ranges whose sizes differ by at most one.
pub fn ranges(n: usize, chunks: usize) -> Vec<Range<usize>> {
    let chunks = chunks.clamp(1, n.max(1));
    let (base, extra) = (n / chunks, n % chunks);
    let mut start = 0;
    (0..chunks)
        .map(|i| {
            let len = base + usize::from(i < extra);
            start += len;
            start - len..start
        })
        .collect()
}

/// `n` frames cut into contiguous chunks whose sizes are powers of two of at
/// most `most` (rounded down to a power of two), and small enough that there
/// are at least `threads` chunks when there are that many frames, largest
/// first. tract needs one plan per chunk size and each plan holds its own
/// packed copy of the weights, so the sizes a stream can ask for (any count of
/// new frames, after drops too) take at most log2(`most`) + 1 plans.
pub fn frame_chunks(n: usize, threads: usize, most: usize) -> Vec<Range<usize>> {
    let share = (n / threads.max(1)).max(1);
    let cap = pow2_floor(most.max(1)).min(pow2_floor(share));
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < n {
        let len = pow2_floor((n - start).min(cap));
        chunks.push(start..start + len);
        start += len;
    }
    chunks
}

/// The largest power of two not above `n` (`n` >= 1).
fn pow2_floor(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

/// Runs `job(i)` for every `i` in `0..count`, `workers` at a time on scoped
/// threads (inline when one), and returns the results in order; the first
/// error wins.
pub fn run_all<T: Send>(
    count: usize,
    workers: usize,
    job: impl Fn(usize) -> Result<T, EncodeError> + Sync,
) -> Result<Vec<T>, EncodeError> {
    if workers <= 1 || count <= 1 {
        return (0..count).map(&job).collect();
    }
    let mut out = Vec::with_capacity(count);
    for wave in ranges(count, count.div_ceil(workers)) {
        let results: Vec<Result<T, EncodeError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave
                .clone()
                .map(|i| {
                    let job = &job;
                    scope.spawn(move || job(i))
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        for r in results {
            out.push(r?);
        }
    }
    Ok(out)
}

fn join<T>(
    handle: std::thread::ScopedJoinHandle<'_, Result<T, EncodeError>>,
) -> Result<T, EncodeError> {
    handle.join().unwrap_or_else(|_| {
        Err(EncodeError::Backend {
            backend: "tract",
            action: "run a chunk of the batch".into(),
            message: "its thread panicked".into(),
        })
    })
}

/// A plan run on one chunk: the input tensors, then the outputs as plain f32 vectors.
pub fn run_plan(
    plan: &Arc<TypedRunnableModel>,
    inputs: TVec<TValue>,
    what: &str,
) -> Result<Vec<Vec<f32>>, EncodeError> {
    let outputs = plan
        .run(inputs)
        .map_err(|e| super::enabled::backend_error(what, e))?;
    outputs
        .iter()
        .map(|value| {
            let view = value.to_plain_array_view::<f32>().map_err(|e| {
                super::enabled::backend_error(format!("read the outputs of {what}"), e)
            })?;
            Ok(view.iter().copied().collect())
        })
        .collect()
}

/// Concatenates per-chunk outputs (each a list of output tensors) output by output.
pub fn concat(chunks: Vec<Vec<Vec<f32>>>) -> Vec<Vec<f32>> {
    let mut joined: Vec<Vec<f32>> = Vec::new();
    for chunk in chunks {
        if joined.is_empty() {
            joined = vec![Vec::new(); chunk.len()];
        }
        for (all, part) in joined.iter_mut().zip(chunk) {
            all.extend(part);
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_row_once_in_near_equal_chunks() {
        for n in 0..20 {
            for chunks in 1..6 {
                let r = ranges(n, chunks);
                let covered: Vec<usize> = r.iter().flat_map(|r| r.clone()).collect();
                assert_eq!(covered, (0..n).collect::<Vec<_>>());
                let lens: Vec<usize> = r.iter().map(|r| r.len()).collect();
                let (lo, hi) = (lens.iter().min(), lens.iter().max());
                assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1), "{lens:?}");
            }
        }
    }

    #[test]
    fn frame_chunks_cover_every_frame_once_in_few_sizes() {
        for most in 1..10 {
            for threads in 1..4 {
                let mut sizes = std::collections::BTreeSet::new();
                for n in 0..40 {
                    let r = frame_chunks(n, threads, most);
                    let covered: Vec<usize> = r.iter().flat_map(|r| r.clone()).collect();
                    assert_eq!(covered, (0..n).collect::<Vec<_>>());
                    for len in r.iter().map(|r| r.len()) {
                        assert!(len.is_power_of_two() && len <= most, "{n} {most}: {r:?}");
                        sizes.insert(len);
                    }
                    if n >= threads {
                        assert!(r.len() >= threads, "{n} frames, {threads} threads: {r:?}");
                    }
                }
                let plans = pow2_floor(most).trailing_zeros() as usize + 1;
                assert!(sizes.len() <= plans, "{most}: {sizes:?}");
            }
        }
        assert_eq!(frame_chunks(8, 1, 4), [0..4, 4..8]);
        assert_eq!(frame_chunks(7, 1, 4), [0..4, 4..6, 6..7]);
        assert_eq!(frame_chunks(8, 2, 8), [0..4, 4..8]);
        assert_eq!(frame_chunks(2, 2, 4), [0..1, 1..2]);
    }

    #[test]
    fn run_all_keeps_the_order_and_reports_the_first_error() {
        let squares = run_all(7, 3, |i| Ok(i * i)).unwrap();
        assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36]);
        let failing = run_all(5, 2, |i| {
            if i == 3 {
                Err(EncodeError::Options(format!("job {i}")))
            } else {
                Ok(i)
            }
        });
        assert!(failing.unwrap_err().to_string().contains("job 3"));
    }
}
