//! SHA-256 checksums of saved models and checkpoints, checked before they are loaded: a few
//! changed bytes in a weight file would otherwise load and give wrong answers silently.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{CoreError, Result};

/// The SHA-256 of `bytes`, as 64 lowercase hexadecimal digits (what `sha256sum` prints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An error naming `path` where the SHA-256 of `bytes` is not `expected`.
pub fn verify_sha256(bytes: &[u8], expected: &str, path: &Path) -> Result<()> {
    let found = sha256_hex(bytes);
    if found.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(CoreError::Checksum {
        path: path.to_path_buf(),
        expected: expected.to_string(),
        found,
    })
}

/// Reads `path` and checks it as [`verify_sha256`] does; returns its bytes.
pub fn read_verified(path: &Path, expected: &str) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(CoreError::io(path))?;
    verify_sha256(&bytes, expected, path)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_equal_sha256sum_and_a_changed_byte_is_named() {
        // `printf abc | sha256sum`
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        assert!(verify_sha256(b"abc", &abc.to_uppercase(), Path::new("m.bpk")).is_ok());
        let error = verify_sha256(b"abd", abc, Path::new("m.bpk")).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("m.bpk: damaged"), "{message}");
        assert!(message.contains(abc), "{message}");
    }
}
