//! Outputs: CSV tables, provenance (metadata.json) and figures (PNG and SVG).

pub mod lock;
pub mod plots;
pub mod run;
pub mod tables;

/// 64-bit FNV-1a of `bytes`: a stable hash (the same on every machine and Rust version), used
/// for case identities and the file manifests of `metadata.json`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
