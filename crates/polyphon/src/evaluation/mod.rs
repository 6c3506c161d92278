//! Scores over whole data sets, for any system: a model of this library, or a folder of
//! another system's outputs. The metrics themselves are [`crate::metrics`]'.

pub mod entanglement;
pub mod instruments;
pub mod separation;
pub mod transcription;

/// `count` items spread evenly over `items` (all of them for 0), so that a subset still covers
/// every group of a split sorted by source.
pub fn spread<T: Clone>(items: &[T], count: usize) -> Vec<T> {
    if count == 0 || count >= items.len() {
        return items.to_vec();
    }
    (0..count)
        .map(|i| items[i * items.len() / count].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn spread_takes_evenly_and_all_for_zero() {
        let items: Vec<u32> = (0..10).collect();
        assert_eq!(super::spread(&items, 3), [0, 3, 6]);
        assert_eq!(super::spread(&items, 0).len(), 10);
        assert_eq!(super::spread(&items, 20).len(), 10);
    }
}
