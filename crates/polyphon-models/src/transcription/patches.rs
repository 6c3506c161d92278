//! How the AUNet covers a file longer than one patch.
//!
//! Patches of [`PATCH_FRAMES`] (256) frames start every [`PATCH_HOP`] (128) frames; the file's
//! end is zero-padded to fill the last patch. Each frame's output is taken from the patch in
//! which it is most central: the middle 128 frames of every patch (frames 64..192), plus the
//! first 64 of the first patch and everything up to the end of the file in the last one. So
//! every frame away from the file's edges is predicted with at least 64 frames of context on
//! both sides, at the price of running the network on each frame twice.

use crate::transcription::PATCH_FRAMES;

/// Frames between the starts of consecutive patches.
pub const PATCH_HOP: usize = PATCH_FRAMES / 2;
const MARGIN: usize = (PATCH_FRAMES - PATCH_HOP) / 2;

/// One patch: where it starts in the file, and which of its frames' outputs are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    /// First frame of the patch in the file.
    pub start: usize,
    /// Kept outputs, as file frames `keep.0 .. keep.1`.
    pub keep: (usize, usize),
}

/// The patches covering `num_frames` frames, in order; their kept ranges tile `0..num_frames`.
pub fn patches(num_frames: usize) -> Vec<Patch> {
    if num_frames == 0 {
        return Vec::new();
    }
    let count = if num_frames <= PATCH_FRAMES {
        1
    } else {
        (num_frames - PATCH_FRAMES).div_ceil(PATCH_HOP) + 1
    };
    (0..count)
        .map(|k| {
            let start = k * PATCH_HOP;
            let first = if k == 0 { 0 } else { start + MARGIN };
            let last = if k + 1 == count {
                num_frames
            } else {
                start + MARGIN + PATCH_HOP
            };
            Patch {
                start,
                keep: (first, last),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_ranges_tile_the_file_inside_their_patches() {
        for n in [
            1, 2, 63, 64, 128, 255, 256, 257, 300, 383, 384, 385, 1000, 4096,
        ] {
            let patches = patches(n);
            let mut next = 0;
            for patch in &patches {
                assert_eq!(patch.keep.0, next, "n = {n}");
                assert!(patch.keep.0 < patch.keep.1);
                assert!(patch.start <= patch.keep.0);
                assert!(patch.keep.1 <= patch.start + PATCH_FRAMES);
                next = patch.keep.1;
            }
            assert_eq!(next, n);
            // The last patch is needed: the previous one would not reach the end.
            if patches.len() > 1 {
                assert!(patches[patches.len() - 2].start + PATCH_FRAMES < n);
            }
        }
        assert!(patches(0).is_empty());
    }

    #[test]
    fn interior_frames_have_64_frames_of_context() {
        let n = 2000;
        for patch in patches(n) {
            for frame in patch.keep.0..patch.keep.1 {
                let before = frame - patch.start;
                let after = patch.start + PATCH_FRAMES - 1 - frame;
                assert!(before >= MARGIN || frame < MARGIN);
                assert!(after >= MARGIN || frame + MARGIN >= n);
            }
        }
    }
}
