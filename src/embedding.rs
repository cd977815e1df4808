//! Embeddings: the encoder's output for one window, a finite f32 vector of a
//! dimension checked at construction.

/// A finite f32 vector of known dimension. Built only by `Embedding::new`, so a
/// value of this type never holds NaN/Inf and always has the dimension asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Checks `values.len() == dim` and that every value is finite.
    pub fn new(values: Vec<f32>, dim: usize) -> Result<Embedding, EmbeddingError> {
        if values.len() != dim {
            return Err(EmbeddingError::DimMismatch {
                expected: dim,
                got: values.len(),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(EmbeddingError::NonFinite {
                index,
                value: values[index],
            });
        }
        Ok(Embedding(values))
    }

    pub fn dim(&self) -> usize {
        self.0.len()
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.0
    }
}

/// The element-wise running mean of equally long vectors, summed in f64: a clip's
/// embedding from its windows' (`encode::dataset` offline, `enroll --clips` live), so
/// both give the same bits for the same windows in the same order.
#[derive(Debug, Clone)]
pub struct MeanEmbedding {
    sum: Vec<f64>,
    n: usize,
}

impl MeanEmbedding {
    pub fn new(dim: usize) -> MeanEmbedding {
        MeanEmbedding {
            sum: vec![0.0; dim],
            n: 0,
        }
    }

    /// Adds one vector (extra values past the dimension are ignored, missing ones count 0).
    pub fn add(&mut self, row: &[f32]) {
        for (s, v) in self.sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
        self.n += 1;
    }

    /// Vectors added so far.
    pub fn count(&self) -> usize {
        self.n
    }

    /// The mean, as a checked embedding (zeros before anything was added).
    pub fn embedding(self) -> Result<Embedding, EmbeddingError> {
        let (dim, n) = (self.sum.len(), self.n.max(1) as f64);
        Embedding::new(self.sum.into_iter().map(|s| (s / n) as f32).collect(), dim)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EmbeddingError {
    #[error("embedding dimension mismatch: expected {expected}, got {got}")]
    DimMismatch { expected: usize, got: usize },
    #[error("embedding value {index} is not finite ({value})")]
    NonFinite { index: usize, value: f32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_dimension_and_finiteness() {
        assert!(Embedding::new(vec![1.0, 2.0], 2).is_ok());
        assert_eq!(
            Embedding::new(vec![1.0], 2),
            Err(EmbeddingError::DimMismatch {
                expected: 2,
                got: 1
            })
        );
        assert!(matches!(
            Embedding::new(vec![1.0, f32::NAN], 2),
            Err(EmbeddingError::NonFinite { index: 1, .. })
        ));
        assert!(Embedding::new(vec![f32::INFINITY], 1).is_err());
    }
}
