//! Reading note lists: CSV `onset,offset,pitch,velocity` and Standard MIDI Files.
//!
//! Times are in seconds, pitches are MIDI numbers (fractions allowed in CSV).

use std::path::{Path, PathBuf};

use midly::{MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

/// One note: onset and offset in seconds, pitch as a MIDI number, MIDI velocity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    pub onset: f64,
    pub offset: f64,
    pub pitch: f64,
    pub velocity: u8,
}

/// Why a note list could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {detail}")]
    Csv {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{path}: not a readable MIDI file ({detail})")]
    Midi { path: PathBuf, detail: String },
    #[error("{path}: unknown note list format (expected a .csv, .mid or .midi file)")]
    UnknownFormat { path: PathBuf },
}

/// Reads a note list, choosing the format by extension: `.csv`, or `.mid`/`.midi`.
pub fn read_notes(path: &Path) -> Result<Vec<Note>, NotesError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => read_csv(path),
        Some("mid" | "midi") => read_midi(path),
        _ => Err(NotesError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, NotesError> {
    std::fs::read(path).map_err(|source| NotesError::Io {
        path: path.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Reads a CSV note list (see [`parse_csv`]).
pub fn read_csv(path: &Path) -> Result<Vec<Note>, NotesError> {
    let bytes = read_bytes(path)?;
    let text = String::from_utf8(bytes).map_err(|e| NotesError::Csv {
        path: path.to_path_buf(),
        line: text_line_of_byte(e.as_bytes(), e.utf8_error().valid_up_to()),
        detail: "not UTF-8 text".into(),
    })?;
    parse_csv(&text, path)
}

fn text_line_of_byte(bytes: &[u8], index: usize) -> usize {
    1 + bytes[..index].iter().filter(|&&b| b == b'\n').count()
}

/// Parses CSV rows `onset,offset,pitch,velocity`. The first row may be a header (any row
/// whose first field is not a number); blank lines and lines starting with `#` are skipped;
/// fields after the fourth are ignored (e.g. Basic Pitch's pitch bends). `path` only names the
/// source in errors, which carry the 1-based line number.
pub fn parse_csv(text: &str, path: &Path) -> Result<Vec<Note>, NotesError> {
    let mut notes = Vec::new();
    let mut seen_content = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let is_header = !seen_content && !starts_with_number(line);
        seen_content = true;
        if is_header {
            continue;
        }
        let note = parse_csv_row(line).map_err(|detail| NotesError::Csv {
            path: path.to_path_buf(),
            line: index + 1,
            detail,
        })?;
        notes.push(note);
    }
    Ok(notes)
}

fn starts_with_number(line: &str) -> bool {
    let first = line.split(',').next().unwrap_or("").trim();
    first.parse::<f64>().is_ok()
}

fn parse_csv_row(line: &str) -> Result<Note, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() < 4 {
        return Err(format!(
            "expected 4 fields onset,offset,pitch,velocity, found {}",
            fields.len()
        ));
    }
    let onset = parse_field(fields[0], "onset")?;
    let offset = parse_field(fields[1], "offset")?;
    let pitch = parse_field(fields[2], "pitch")?;
    let velocity = parse_field(fields[3], "velocity")?;
    let note = Note {
        onset,
        offset,
        pitch,
        velocity: checked_velocity(velocity)?,
    };
    check_note(&note)?;
    Ok(note)
}

fn parse_field(text: &str, name: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(format!("{name} {text:?} is not a finite number")),
    }
}

fn checked_velocity(value: f64) -> Result<u8, String> {
    if (0.0..=127.0).contains(&value) {
        Ok(value.round() as u8)
    } else {
        Err(format!("velocity {value} outside 0..=127"))
    }
}

/// The checks every note from a file must pass; negative durations are the usual mistake.
fn check_note(note: &Note) -> Result<(), String> {
    if note.onset < 0.0 {
        return Err(format!("negative onset {} s", note.onset));
    }
    if note.offset < note.onset {
        return Err(format!(
            "negative duration: offset {} s is before onset {} s",
            note.offset, note.onset
        ));
    }
    if note.offset == note.onset {
        return Err(format!(
            "zero duration: offset equals onset ({} s)",
            note.onset
        ));
    }
    if !(0.0..=127.0).contains(&note.pitch) {
        return Err(format!(
            "pitch {} is not a MIDI number (0..=127)",
            note.pitch
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// MIDI

/// Reads a Standard MIDI File (see [`parse_midi`]).
pub fn read_midi(path: &Path) -> Result<Vec<Note>, NotesError> {
    let bytes = read_bytes(path)?;
    parse_midi(&bytes, path)
}

/// The notes of a Standard MIDI File (format 0 or 1), in seconds through its tempo map.
///
/// Pairing follows pretty_midi, as mir_eval users load MIDI: per track, channel and key,
/// a note-off (or note-on with velocity 0) ends every open note of that key that began at an
/// earlier tick (if there is none, notes begun at that same tick are dropped); notes still
/// open at the end of their track are dropped. Tempo changes of all
/// tracks form one map (120 BPM until the first). Notes come out sorted by onset, then pitch,
/// then offset. `path` only names the source in errors.
pub fn parse_midi(bytes: &[u8], path: &Path) -> Result<Vec<Note>, NotesError> {
    let midi_error = |detail: String| NotesError::Midi {
        path: path.to_path_buf(),
        detail,
    };
    let smf = Smf::parse(bytes).map_err(|e| midi_error(e.to_string()))?;
    if smf.header.format == midly::Format::Sequential {
        return Err(midi_error(
            "format 2 (sequential tracks) is not supported".into(),
        ));
    }
    let clock = TempoMap::new(&smf).map_err(midi_error)?;
    let mut notes: Vec<Note> = smf
        .tracks
        .iter()
        .flat_map(|track| track_notes(track, &clock))
        .collect();
    notes.sort_by(|a, b| {
        (a.onset, a.pitch, a.offset)
            .partial_cmp(&(b.onset, b.pitch, b.offset))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(notes)
}

/// Converts absolute ticks to seconds.
struct TempoMap {
    /// `(start tick, seconds at start, seconds per tick)`, ascending by tick.
    segments: Vec<(u64, f64, f64)>,
}

impl TempoMap {
    const DEFAULT_MICROS_PER_BEAT: u32 = 500_000;

    fn new(smf: &Smf) -> Result<Self, String> {
        match smf.header.timing {
            Timing::Metrical(ticks_per_beat) => {
                let ticks_per_beat = f64::from(ticks_per_beat.as_int());
                if ticks_per_beat == 0.0 {
                    return Err("header gives 0 ticks per beat".into());
                }
                Ok(Self::metrical(ticks_per_beat, tempo_changes(smf)))
            }
            Timing::Timecode(fps, subframes) => {
                let ticks_per_second = f64::from(fps.as_f32()) * f64::from(subframes);
                if ticks_per_second == 0.0 {
                    return Err("header gives 0 subframes per frame".into());
                }
                Ok(TempoMap {
                    segments: vec![(0, 0.0, 1.0 / ticks_per_second)],
                })
            }
        }
    }

    fn metrical(ticks_per_beat: f64, changes: Vec<(u64, u32)>) -> Self {
        let seconds_per_tick = |micros: u32| f64::from(micros) * 1e-6 / ticks_per_beat;
        let mut segments = vec![(0, 0.0, seconds_per_tick(Self::DEFAULT_MICROS_PER_BEAT))];
        for (tick, micros) in changes {
            let seconds = Self::seconds_in(&segments, tick);
            if segments.last().is_some_and(|s| s.0 == tick) {
                segments.pop();
            }
            segments.push((tick, seconds, seconds_per_tick(micros)));
        }
        TempoMap { segments }
    }

    fn seconds(&self, tick: u64) -> f64 {
        Self::seconds_in(&self.segments, tick)
    }

    fn seconds_in(segments: &[(u64, f64, f64)], tick: u64) -> f64 {
        let index = segments.partition_point(|s| s.0 <= tick).saturating_sub(1);
        let (start, seconds, per_tick) = segments[index];
        seconds + (tick - start) as f64 * per_tick
    }
}

/// All tempo events as `(absolute tick, microseconds per beat)`, by tick, file order within.
fn tempo_changes(smf: &Smf) -> Vec<(u64, u32)> {
    let mut changes = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            if let TrackEventKind::Meta(MetaMessage::Tempo(micros)) = event.kind {
                changes.push((tick, micros.as_int()));
            }
        }
    }
    changes.sort_by_key(|&(tick, _)| tick);
    changes
}

/// The notes of one track, paired as pretty_midi does.
fn track_notes(track: &[midly::TrackEvent], clock: &TempoMap) -> Vec<Note> {
    // (channel, key) -> open notes as (start tick, velocity).
    let mut open: std::collections::HashMap<(u8, u8), Vec<(u64, u8)>> = Default::default();
    let mut notes = Vec::new();
    let mut tick = 0u64;
    for event in track {
        tick += u64::from(event.delta.as_int());
        let TrackEventKind::Midi { channel, message } = event.kind else {
            continue;
        };
        let (key, velocity, is_on) = match message {
            MidiMessage::NoteOn { key, vel } => (key.as_int(), vel.as_int(), vel.as_int() > 0),
            MidiMessage::NoteOff { key, vel } => (key.as_int(), vel.as_int(), false),
            _ => continue,
        };
        let slot = open.entry((channel.as_int(), key)).or_default();
        if is_on {
            slot.push((tick, velocity));
            continue;
        }
        let closed_before = notes.len();
        // A note that began on this very tick stays open (a note-off/note-on pair at one tick
        // ends the old note, not the new one)...
        slot.retain(|&(start, start_velocity)| {
            if start == tick {
                return true;
            }
            notes.push(Note {
                onset: clock.seconds(start),
                offset: clock.seconds(tick),
                pitch: f64::from(key),
                velocity: start_velocity,
            });
            false
        });
        // ...but only if this note-off closed another one; otherwise pretty_midi forgets the
        // key, dropping a zero-length note.
        if notes.len() == closed_before {
            slot.clear();
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Note>, NotesError> {
        parse_csv(text, Path::new("notes.csv"))
    }

    #[test]
    fn csv_with_and_without_header() {
        let with =
            csv("onset,offset,pitch,velocity\n0.5,1.0,60,100\n\n1.0,1.25,64.5,80\n").unwrap();
        let without = csv("0.5,1.0,60,100\r\n1.0,1.25,64.5,80").unwrap();
        assert_eq!(with, without);
        assert_eq!(
            with[1],
            Note {
                onset: 1.0,
                offset: 1.25,
                pitch: 64.5,
                velocity: 80
            }
        );
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let message = csv("onset,offset,pitch,velocity\n0.5,1.0,60,100\n0.5,x,60,100\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("notes.csv, line 3"), "{message}");
        assert!(message.contains("offset"), "{message}");
        let negative = csv("1.0,0.5,60,100").unwrap_err().to_string();
        assert!(negative.contains("line 1: negative duration"), "{negative}");
        let short = csv("0,1,60").unwrap_err().to_string();
        assert!(short.contains("expected 4 fields"), "{short}");
        let header_later = csv("0,1,60,1\nonset,offset,pitch,velocity").unwrap_err();
        assert!(header_later.to_string().contains("line 2"));
    }

    /// A MIDI file from `(delta ticks, event)` tracks.
    fn midi_bytes(timing: Timing, tracks: Vec<Vec<(u32, TrackEventKind<'static>)>>) -> Vec<u8> {
        let mut smf = Smf::new(midly::Header::new(midly::Format::Parallel, timing));
        for events in tracks {
            let mut track: Vec<midly::TrackEvent> = events
                .into_iter()
                .map(|(delta, kind)| midly::TrackEvent {
                    delta: delta.into(),
                    kind,
                })
                .collect();
            track.push(midly::TrackEvent {
                delta: 0.into(),
                kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
            });
            smf.tracks.push(track);
        }
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes).unwrap();
        bytes
    }

    fn on(key: u8, vel: u8) -> TrackEventKind<'static> {
        TrackEventKind::Midi {
            channel: 0.into(),
            message: MidiMessage::NoteOn {
                key: key.into(),
                vel: vel.into(),
            },
        }
    }

    fn off(key: u8) -> TrackEventKind<'static> {
        TrackEventKind::Midi {
            channel: 0.into(),
            message: MidiMessage::NoteOff {
                key: key.into(),
                vel: 0.into(),
            },
        }
    }

    fn tempo(micros_per_beat: u32) -> TrackEventKind<'static> {
        TrackEventKind::Meta(MetaMessage::Tempo(micros_per_beat.into()))
    }

    fn spans(notes: &[Note]) -> Vec<(f64, f64, f64, u8)> {
        notes
            .iter()
            .map(|n| (n.onset, n.offset, n.pitch, n.velocity))
            .collect()
    }

    #[test]
    fn midi_tempo_map_from_any_track_converts_ticks_to_seconds() {
        // 100 ticks per beat: 5 ms a tick at 120 BPM, then 10 ms from tick 200 (60 BPM, set in
        // the conductor track).
        let conductor = vec![(200, tempo(1_000_000))];
        let notes = vec![
            (100, on(60, 90)),
            (200, off(60)),
            (0, on(62, 80)),
            (50, on(62, 0)),
        ];
        let bytes = midi_bytes(Timing::Metrical(100.into()), vec![conductor, notes]);
        let read = parse_midi(&bytes, Path::new("t.mid")).unwrap();
        assert_eq!(
            spans(&read),
            vec![(0.5, 2.0, 60.0, 90), (2.0, 2.5, 62.0, 80)]
        );
    }

    #[test]
    fn midi_pairing_follows_pretty_midi() {
        let events = vec![
            // Two overlapping notes of one key: the first note-off ends both.
            (0, on(60, 100)),
            (100, on(60, 50)),
            (100, off(60)),
            // A note-off at the note's own tick drops it (zero length); the next is spurious.
            (0, on(64, 70)),
            (0, off(64)),
            (100, off(64)),
            // Note-off and a new note-on at one tick: the old note ends, the new one goes on.
            (0, on(65, 20)),
            (100, on(65, 21)),
            (0, off(65)),
            (100, off(65)),
            // Never closed: dropped.
            (0, on(67, 30)),
        ];
        let bytes = midi_bytes(Timing::Metrical(200.into()), vec![events]);
        let read = parse_midi(&bytes, Path::new("p.mid")).unwrap();
        assert_eq!(
            spans(&read),
            vec![
                (0.0, 0.5, 60.0, 100),
                (0.25, 0.5, 60.0, 50),
                (0.75, 1.0, 65.0, 20),
                (1.0, 1.25, 65.0, 21)
            ]
        );
    }

    #[test]
    fn midi_timecode_timing_counts_ticks_per_second() {
        // 25 fps × 40 subframes = 1000 ticks per second.
        let events = vec![(500, on(70, 64)), (250, off(70))];
        let bytes = midi_bytes(Timing::Timecode(midly::Fps::Fps25, 40), vec![events]);
        let read = parse_midi(&bytes, Path::new("tc.mid")).unwrap();
        assert_eq!(spans(&read), vec![(0.5, 0.75, 70.0, 64)]);
    }

    #[test]
    fn midi_garbage_is_a_clear_error() {
        let error = parse_midi(b"MThd nonsense", Path::new("bad.mid")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("bad.mid: not a readable MIDI file"));
    }

    #[test]
    fn a_truncated_midi_file_is_an_error_not_its_first_part() {
        let events = vec![
            (0, on(60, 90)),
            (480, off(60)),
            (0, on(64, 90)),
            (480, off(64)),
        ];
        let bytes = midi_bytes(Timing::Metrical(480.into()), vec![events]);
        assert_eq!(parse_midi(&bytes, Path::new("whole.mid")).unwrap().len(), 2);
        let error = parse_midi(&bytes[..bytes.len() - 6], Path::new("cut.mid")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("cut.mid: not a readable MIDI file"));
    }

    #[test]
    fn unknown_extension_is_refused() {
        let error = read_notes(Path::new("notes.txt")).unwrap_err();
        assert!(matches!(error, NotesError::UnknownFormat { .. }));
    }
}
