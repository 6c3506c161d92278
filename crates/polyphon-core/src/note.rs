//! The note: what transcription produces, synthesis renders and the metrics compare.

/// The latest time, in seconds, a note read from a file may end at (8 h 20 min): the frame
/// grids that scores and analyses build grow with the last offset, so a stray huge time in a
/// note list would otherwise ask for gigabytes. mir_eval has no such limit; its arrays do.
pub const MAX_NOTE_SECONDS: f64 = 30_000.0;

/// One sounding note, times in seconds from the start of the audio.
///
/// `pitch` is a MIDI number (60 = C4, middle C). It is a float because note lists from other
/// systems may hold fractions (a pitch in Hz converted, a bent note), and the metrics compare
/// pitches in cents, as mir_eval does; everything polyphon renders or transcribes has whole
/// numbers, made with [`Note::new`] and read back with [`Note::key`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    pub onset: f64,
    pub offset: f64,
    pub pitch: f64,
    /// MIDI velocity, 0–127.
    pub velocity: u8,
}

impl Note {
    /// A note of the MIDI key `key`.
    pub fn new(onset: f64, offset: f64, key: u8, velocity: u8) -> Self {
        Self {
            onset,
            offset,
            pitch: f64::from(key),
            velocity,
        }
    }

    /// The nearest MIDI key (halves round up), clamped to 0–127.
    pub fn key(&self) -> u8 {
        quantise_pitch(self.pitch)
    }

    pub fn duration(&self) -> f64 {
        self.offset - self.onset
    }

    /// The checks every note read from a file must pass (a negative duration is the usual
    /// mistake); the message says which failed.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !(self.onset.is_finite() && self.offset.is_finite() && self.pitch.is_finite()) {
            return Err(format!("times and pitch must be finite numbers ({self:?})"));
        }
        if self.onset < 0.0 {
            return Err(format!("negative onset {} s", self.onset));
        }
        if self.offset < self.onset {
            return Err(format!(
                "negative duration: offset {} s is before onset {} s",
                self.offset, self.onset
            ));
        }
        if self.offset == self.onset {
            return Err(format!(
                "zero duration: offset equals onset ({} s)",
                self.onset
            ));
        }
        if self.offset > MAX_NOTE_SECONDS {
            return Err(format!(
                "offset {} s is past the {MAX_NOTE_SECONDS} s a note list may reach",
                self.offset
            ));
        }
        if !(0.0..=127.0).contains(&self.pitch) {
            return Err(format!(
                "pitch {} is not a MIDI number (0..=127)",
                self.pitch
            ));
        }
        if self.velocity > 127 {
            return Err(format!("velocity {} outside 0..=127", self.velocity));
        }
        Ok(())
    }
}

/// The nearest MIDI number (halves round up), clamped to 0–127.
pub fn quantise_pitch(midi: f64) -> u8 {
    midi.round().clamp(0.0, 127.0) as u8
}

/// The frequency in Hz of a MIDI number: `440 · 2^((m − 69) / 12)`.
pub fn midi_to_hz(midi: f64) -> f64 {
    440.0 * 2f64.powf((midi - 69.0) / 12.0)
}

/// The end of the last note, 0 for no notes.
pub fn notes_end(notes: &[Note]) -> f64 {
    notes.iter().map(|n| n.offset).fold(0.0, f64::max)
}

/// Sorts by onset, then pitch, then offset: the order every reader and decoder returns.
pub fn sort_notes(notes: &mut [Note]) {
    notes.sort_by(|a, b| {
        (a.onset, a.pitch, a.offset)
            .partial_cmp(&(b.onset, b.pitch, b.offset))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Makes a note list playable by one synthesizer channel, which a same-key overlap would break
/// (a note-off silences every voice of that key).
///
/// Sorts by onset then pitch, drops empty notes, merges unison doublings that start together
/// (keeping the louder velocity and the later end) and cuts a note where the next note of the
/// same pitch starts. The result is what gets rendered *and* what the labels say.
pub fn normalize_notes(notes: &[Note]) -> Vec<Note> {
    let mut sorted: Vec<Note> = notes
        .iter()
        .copied()
        .filter(|n| n.offset > n.onset)
        .collect();
    sorted.sort_by(|a, b| {
        (a.pitch, a.onset)
            .partial_cmp(&(b.pitch, b.onset))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out: Vec<Note> = Vec::with_capacity(sorted.len());
    for note in sorted {
        match out.last_mut() {
            Some(prev) if prev.pitch == note.pitch && prev.onset == note.onset => {
                prev.offset = prev.offset.max(note.offset);
                prev.velocity = prev.velocity.max(note.velocity);
            }
            Some(prev) if prev.pitch == note.pitch && note.onset < prev.offset => {
                prev.offset = note.onset;
                out.push(note);
            }
            _ => out.push(note),
        }
    }
    out.sort_by(|a, b| {
        (a.onset, a.pitch)
            .partial_cmp(&(b.onset, b.pitch))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_cuts_same_key_overlaps_and_merges_doublings() {
        let notes = [
            Note::new(0.0, 2.0, 60, 80),
            Note::new(1.0, 3.0, 60, 90),
            Note::new(1.0, 1.5, 60, 100),
            Note::new(0.5, 0.5, 64, 80),
        ];
        let out = normalize_notes(&notes);
        assert_eq!(
            out,
            vec![Note::new(0.0, 1.0, 60, 80), Note::new(1.0, 3.0, 60, 100)]
        );
    }

    #[test]
    fn keys_round_halves_up_and_stay_midi() {
        let key = |pitch| {
            Note {
                pitch,
                ..Note::new(0.0, 1.0, 0, 1)
            }
            .key()
        };
        assert_eq!(
            (key(64.5), key(64.49), key(-3.0), key(200.0)),
            (65, 64, 0, 127)
        );
        assert_eq!(midi_to_hz(69.0), 440.0);
    }

    #[test]
    fn checks_name_the_broken_rule() {
        let check = |onset, offset, pitch| {
            Note {
                onset,
                offset,
                pitch,
                velocity: 1,
            }
            .check()
            .unwrap_err()
        };
        assert!(check(1.0, 0.5, 60.0).starts_with("negative duration"));
        assert!(check(1.0, 1.0, 60.0).starts_with("zero duration"));
        assert!(check(-1.0, 1.0, 60.0).starts_with("negative onset"));
        assert!(check(0.0, 1.0, 128.0).contains("not a MIDI number"));
        assert!(check(0.0, f64::NAN, 60.0).contains("finite"));
        assert!(check(0.0, 30_000.5, 60.0).contains("past the 30000 s"));
        assert!(Note::new(0.0, 1.0, 60, 0).check().is_ok());
        assert!(Note::new(0.0, MAX_NOTE_SECONDS, 60, 0).check().is_ok());
    }
}
