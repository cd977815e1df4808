//! What the golden-file suites of the envelope-framed formats share: damaged copies of a
//! file, and the words with which the envelope names what failed.

/// Copies of `bytes` with one byte flipped (every `step`-th from `from`) and truncated at
/// `cuts`, each named for the failure message.
pub fn damaged(bytes: &[u8], from: usize, step: usize, cuts: &[usize]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = (from..bytes.len())
        .step_by(step)
        .map(|i| {
            let mut b = bytes.to_vec();
            b[i] ^= 0x41;
            (format!("byte {i} flipped"), b)
        })
        .collect();
    out.extend(
        cuts.iter()
            .map(|&n| (format!("cut to {n}"), bytes[..n].to_vec())),
    );
    out
}

/// Whether an error message says what about the frame failed.
pub fn names_the_failure(message: &str) -> bool {
    ["checksum mismatch", "body length", "shorter than", "magic"]
        .iter()
        .any(|k| message.contains(k))
}
