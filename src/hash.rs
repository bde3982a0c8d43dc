//! Stable hashes for provenance: the same bytes give the same hash on every machine and Rust
//! version (unlike `std::hash`), so they can be written to disk and compared later.

/// 64-bit FNV-1a of `bytes`: case identities, the file manifests of `metadata.json` and the
/// digests of tabulated potentials.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
