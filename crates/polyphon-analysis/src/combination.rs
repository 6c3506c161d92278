//! A frame's note set, the "combination" of the entanglement analysis.

use std::fmt;
use std::str::FromStr;

/// The names of the twelve pitch classes, sharps only (as the paper writes them).
const PITCH_CLASSES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// How the empty combination (a silent frame) is written.
pub const SILENCE: &str = "(silence)";

/// A set of MIDI pitches 0..=127, one bit each.
///
/// Ordered by number of notes, then by the pitches from the lowest up, so sorting lists
/// silence first, then single notes low to high, then intervals, and so on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Combination(u128);

impl Combination {
    /// The empty set: a silent frame.
    pub const SILENCE: Combination = Combination(0);

    /// The set of the given MIDI pitches (repeats count once).
    ///
    /// # Panics
    /// If a pitch is above 127.
    pub fn from_pitches(pitches: impl IntoIterator<Item = u8>) -> Self {
        let mut combination = Self::SILENCE;
        for pitch in pitches {
            combination.insert(pitch);
        }
        combination
    }

    /// The set from its bit mask (bit `p` is MIDI pitch `p`).
    pub const fn from_bits(bits: u128) -> Self {
        Combination(bits)
    }

    pub const fn bits(self) -> u128 {
        self.0
    }

    /// Adds a pitch.
    ///
    /// # Panics
    /// If `pitch` is above 127.
    pub fn insert(&mut self, pitch: u8) {
        assert!(pitch < 128, "MIDI pitch {pitch} is above 127");
        self.0 |= 1u128 << pitch;
    }

    pub fn contains(self, pitch: u8) -> bool {
        pitch < 128 && self.0 & (1u128 << pitch) != 0
    }

    /// The number of notes, the combination's polyphony.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The notes in `self` that are not in `other`.
    pub fn without(self, other: Combination) -> Combination {
        Combination(self.0 & !other.0)
    }

    pub fn union(self, other: Combination) -> Combination {
        Combination(self.0 | other.0)
    }

    /// The pitches, lowest first.
    pub fn pitches(self) -> impl Iterator<Item = u8> {
        (0u8..128).filter(move |&p| self.contains(p))
    }

    /// The pitches as MIDI numbers separated by spaces, e.g. `55 57 60 62` (empty for silence).
    pub fn midi_numbers(self) -> String {
        let numbers: Vec<String> = self.pitches().map(|p| p.to_string()).collect();
        numbers.join(" ")
    }

    /// The note names, lowest first, e.g. `["G3", "A3", "C4", "D4"]`.
    pub fn note_names(self) -> Vec<String> {
        self.pitches().map(note_name).collect()
    }
}

/// The name of a MIDI pitch: 60 is `C4`, 61 `C#4`, 21 `A0`, 0 `C-1`.
pub fn note_name(pitch: u8) -> String {
    let octave = i32::from(pitch / 12) - 1;
    format!("{}{octave}", PITCH_CLASSES[usize::from(pitch % 12)])
}

/// The MIDI pitch of a note name as [`note_name`] writes it; flats (`Bb3`) are accepted too.
pub fn parse_note_name(name: &str) -> Option<u8> {
    let name = name.trim();
    let mut chars = name.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let base: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let rest = chars.as_str();
    let (shift, octave) = match rest.as_bytes().first() {
        Some(b'#') => (1, &rest[1..]),
        Some(b'b') => (-1, &rest[1..]),
        _ => (0, rest),
    };
    let octave: i32 = octave.parse().ok()?;
    let pitch = (octave + 1) * 12 + base + shift;
    u8::try_from(pitch).ok().filter(|&p| p < 128)
}

/// Note names joined by commas, lowest first (`G3,A3,C4,D4`); silence is `(silence)`.
impl fmt::Display for Combination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str(SILENCE);
        }
        f.write_str(&self.note_names().join(","))
    }
}

/// Why a text is not a combination.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a note name (expected e.g. C4, C#4, Bb3)")]
pub struct ParseCombinationError(pub String);

/// Parses what [`Display`](fmt::Display) writes: comma-separated note names, or `(silence)`.
impl FromStr for Combination {
    type Err = ParseCombinationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == SILENCE || text.is_empty() {
            return Ok(Self::SILENCE);
        }
        text.split(',')
            .map(|name| parse_note_name(name).ok_or_else(|| ParseCombinationError(name.into())))
            .collect::<Result<Vec<u8>, _>>()
            .map(Combination::from_pitches)
    }
}

impl Ord for Combination {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Fewer notes first; then the pitch lists compared lowest note first.
        self.len()
            .cmp(&other.len())
            .then_with(|| self.pitches().cmp(other.pitches()))
    }
}

impl PartialOrd for Combination {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_names_put_middle_c_in_octave_four_with_sharps() {
        assert_eq!(note_name(60), "C4");
        assert_eq!(note_name(61), "C#4");
        assert_eq!(note_name(69), "A4");
        assert_eq!(note_name(21), "A0");
        assert_eq!(note_name(108), "C8");
        assert_eq!(note_name(59), "B3");
        assert_eq!(note_name(0), "C-1");
        assert_eq!(note_name(127), "G9");
    }

    #[test]
    fn display_lists_notes_lowest_first() {
        let chord = Combination::from_pitches([62, 55, 60, 57, 60]);
        assert_eq!(chord.to_string(), "G3,A3,C4,D4");
        assert_eq!(chord.len(), 4);
        assert_eq!(chord.midi_numbers(), "55 57 60 62");
        assert_eq!(Combination::SILENCE.to_string(), "(silence)");
        assert_eq!(Combination::from_pitches([66]).to_string(), "F#4");
    }

    #[test]
    fn names_parse_back() {
        for bits in [
            0u128,
            1,
            1 << 127,
            (1 << 60) | (1 << 64) | (1 << 67),
            u128::MAX,
        ] {
            let combination = Combination::from_bits(bits);
            assert_eq!(combination.to_string().parse(), Ok(combination));
        }
        assert_eq!("Bb3, C#4".parse(), Ok(Combination::from_pitches([58, 61])));
        assert!("H4".parse::<Combination>().is_err());
        assert!("C".parse::<Combination>().is_err());
        assert!("G9,G#9".parse::<Combination>().is_err());
    }

    #[test]
    fn set_operations() {
        let reference = Combination::from_pitches([60, 64, 67]);
        let estimate = Combination::from_pitches([60, 67, 72]);
        assert_eq!(estimate.without(reference), Combination::from_pitches([72]));
        assert_eq!(reference.without(estimate), Combination::from_pitches([64]));
        assert_eq!(reference.union(estimate).len(), 4);
        assert!(reference.contains(64) && !reference.contains(65) && !reference.contains(200));
    }

    #[test]
    fn order_is_by_polyphony_then_pitches() {
        let mut list = [
            Combination::from_pitches([60, 64]),
            Combination::from_pitches([62]),
            Combination::SILENCE,
            Combination::from_pitches([48, 72]),
            Combination::from_pitches([40]),
        ];
        list.sort();
        let names: Vec<String> = list.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["(silence)", "E2", "D4", "C3,C5", "C4,E4"]);
    }
}
