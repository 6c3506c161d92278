//! Note lists as Standard MIDI Files.
//!
//! **One pairing rule**, pretty_midi's (which is how mir_eval users load MIDI): per track,
//! channel and key, a note-off (or a note-on with velocity 0) ends every open note of that key
//! that began at an earlier tick; if there is none, notes begun at that same tick are dropped
//! (zero length). Notes still open at the end of their track are dropped. Tempo changes of all
//! tracks form one map (120 BPM until the first; the later of two at one tick wins).

use std::collections::HashMap;
use std::path::Path;

use midly::num::{u15, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::{sort_notes, AtomicFile, CoreError, Note, Result};

/// MIDI channel 10 (index 9) is General MIDI percussion: hits, not pitched notes.
const PERCUSSION_CHANNEL: u8 = 9;

/// Reads every note of a MIDI file (formats 0 and 1), percussion included, as
/// pretty_midi lists them; sorted by onset, pitch, offset.
pub fn read_midi(path: impl AsRef<Path>) -> Result<Vec<Note>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(CoreError::io(path))?;
    parse_midi(&bytes, path)
}

/// [`read_midi`] of bytes in memory; `path` only names the source in errors.
pub fn parse_midi(bytes: &[u8], path: &Path) -> Result<Vec<Note>> {
    let mut notes: Vec<Note> = parse_tracks(bytes, path)?
        .into_iter()
        .flatten()
        .map(|(_, note)| note)
        .collect();
    sort_notes(&mut notes);
    Ok(notes)
}

/// The pitched notes (percussion left out) of each track that has any, in track order, each
/// sorted as [`read_midi`]'s: the parts (voices) of a score written one track per part, as
/// music21 writes them. A file without pitched notes is an error.
pub fn read_midi_parts(path: impl AsRef<Path>) -> Result<Vec<Vec<Note>>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(CoreError::io(path))?;
    let parts: Vec<Vec<Note>> = parse_tracks(&bytes, path)?
        .into_iter()
        .map(|track| {
            let mut notes: Vec<Note> = track
                .into_iter()
                .filter(|&(channel, _)| channel != PERCUSSION_CHANNEL)
                .map(|(_, note)| note)
                .collect();
            sort_notes(&mut notes);
            notes
        })
        .filter(|notes| !notes.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(midi_error(path, "contains no pitched notes".into()));
    }
    Ok(parts)
}

fn midi_error(path: &Path, detail: String) -> CoreError {
    CoreError::Midi {
        path: path.to_path_buf(),
        detail,
    }
}

/// Every track's notes with their channels, paired by the module's rule.
fn parse_tracks(bytes: &[u8], path: &Path) -> Result<Vec<Vec<(u8, Note)>>> {
    let smf = Smf::parse(bytes).map_err(|e| midi_error(path, e.to_string()))?;
    if smf.header.format == Format::Sequential {
        return Err(midi_error(
            path,
            "format 2 (sequential tracks) is not supported".into(),
        ));
    }
    let clock = TempoMap::new(&smf).map_err(|detail| midi_error(path, detail))?;
    let tracks: Vec<Vec<(u8, Note)>> = smf
        .tracks
        .iter()
        .map(|track| track_notes(track, &clock))
        .collect();
    // Delta times sum to hours with a few bytes; the note check bounds what follows.
    for (track, (_, note)) in tracks
        .iter()
        .enumerate()
        .flat_map(|(index, notes)| notes.iter().map(move |note| (index, note)))
    {
        note.check()
            .map_err(|detail| midi_error(path, format!("track {track}: {detail}")))?;
    }
    Ok(tracks)
}

/// The notes of one track, paired as pretty_midi does.
fn track_notes(track: &[TrackEvent], clock: &TempoMap) -> Vec<(u8, Note)> {
    // (channel, key) -> open notes as (start tick, velocity).
    let mut open: HashMap<(u8, u8), Vec<(u64, u8)>> = HashMap::new();
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
        let channel = channel.as_int();
        let slot = open.entry((channel, key)).or_default();
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
            let note = Note::new(
                clock.seconds(start),
                clock.seconds(tick),
                key,
                start_velocity,
            );
            notes.push((channel, note));
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

/// Converts absolute ticks to seconds.
struct TempoMap {
    /// `(start tick, seconds at start, seconds per tick)`, ascending by tick.
    segments: Vec<(u64, f64, f64)>,
}

impl TempoMap {
    const DEFAULT_MICROS_PER_BEAT: u32 = 500_000;

    fn new(smf: &Smf) -> std::result::Result<Self, String> {
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

/// Ticks per quarter note of the MIDI files written here; with a tempo of one quarter note per
/// second a tick is exactly one millisecond.
const WRITE_TICKS_PER_BEAT: u16 = 1000;
const WRITE_MICROSECONDS_PER_BEAT: u32 = 1_000_000;

/// Writes notes as a single-track MIDI file (1 tick = 1 ms), atomically, each on its nearest
/// key.
///
/// `program` is written as a program change on channel 1 so the file plays with the same
/// General MIDI instrument it was rendered with; `name` becomes the track name.
pub fn write_midi(path: impl AsRef<Path>, notes: &[Note], program: u8, name: &str) -> Result<()> {
    let path = path.as_ref();
    let mut events: Vec<(u64, u8, TrackEventKind<'_>)> = Vec::with_capacity(2 * notes.len());
    for note in notes {
        let on = (note.onset * 1000.0).round() as u64;
        let off = ((note.offset * 1000.0).round() as u64).max(on + 1);
        let key = u7::new(note.key());
        let on_message = MidiMessage::NoteOn {
            key,
            vel: u7::new(note.velocity.clamp(1, 127)),
        };
        let off_message = MidiMessage::NoteOff {
            key,
            vel: u7::new(0),
        };
        // At equal times, note-offs sort before note-ons so a repeated key re-sounds.
        events.push((on, 1, midi_event(on_message)));
        events.push((off, 0, midi_event(off_message)));
    }
    events.sort_by_key(|&(tick, order, _)| (tick, order));

    let mut track = vec![
        meta_event(MetaMessage::TrackName(name.as_bytes())),
        meta_event(MetaMessage::Tempo(WRITE_MICROSECONDS_PER_BEAT.into())),
        TrackEvent {
            delta: u28::new(0),
            kind: midi_event(MidiMessage::ProgramChange {
                program: u7::new(program.min(127)),
            }),
        },
    ];
    let mut last_tick = 0u64;
    for (tick, _, kind) in events {
        let delta = u28::new((tick - last_tick).min(u28::max_value().as_int() as u64) as u32);
        track.push(TrackEvent { delta, kind });
        last_tick = tick;
    }
    track.push(meta_event(MetaMessage::EndOfTrack));

    let header = Header::new(
        Format::SingleTrack,
        Timing::Metrical(u15::new(WRITE_TICKS_PER_BEAT)),
    );
    let mut smf = Smf::new(header);
    smf.tracks.push(track);
    let mut file = AtomicFile::create(path)?;
    smf.write_std(&mut file).map_err(CoreError::io(path))?;
    file.commit()?;
    Ok(())
}

fn midi_event(message: MidiMessage) -> TrackEventKind<'static> {
    TrackEventKind::Midi {
        channel: u4::new(0),
        message,
    }
}

fn meta_event(message: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MIDI file from `(delta ticks, event)` tracks.
    fn midi_bytes(timing: Timing, tracks: Vec<Vec<(u32, TrackEventKind<'static>)>>) -> Vec<u8> {
        let mut smf = Smf::new(Header::new(Format::Parallel, timing));
        for events in tracks {
            let mut track: Vec<TrackEvent> = events
                .into_iter()
                .map(|(delta, kind)| TrackEvent {
                    delta: delta.into(),
                    kind,
                })
                .collect();
            track.push(meta_event(MetaMessage::EndOfTrack));
            smf.tracks.push(track);
        }
        let mut bytes = Vec::new();
        smf.write_std(&mut bytes).unwrap();
        bytes
    }

    fn on_channel(channel: u8, key: u8, vel: u8) -> TrackEventKind<'static> {
        TrackEventKind::Midi {
            channel: channel.into(),
            message: MidiMessage::NoteOn {
                key: key.into(),
                vel: vel.into(),
            },
        }
    }

    fn on(key: u8, vel: u8) -> TrackEventKind<'static> {
        on_channel(0, key, vel)
    }

    fn off(key: u8) -> TrackEventKind<'static> {
        midi_event(MidiMessage::NoteOff {
            key: key.into(),
            vel: 0.into(),
        })
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

    fn parse(bytes: &[u8]) -> Vec<Note> {
        parse_midi(bytes, Path::new("t.mid")).unwrap()
    }

    #[test]
    fn the_tempo_map_of_any_track_converts_ticks_to_seconds() {
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
        assert_eq!(
            spans(&parse(&bytes)),
            vec![(0.5, 2.0, 60.0, 90), (2.0, 2.5, 62.0, 80)]
        );
    }

    #[test]
    fn notes_past_the_limit_are_refused_before_anything_grows_with_them() {
        // Four maximal delta times at 120 BPM and 1 tick per beat: about 2.1 million hours.
        let max = u28::max_value().as_int();
        let events = vec![(max, on(60, 100)), (max, off(60))];
        let bytes = midi_bytes(Timing::Metrical(1.into()), vec![events]);
        let error = parse_midi(&bytes, Path::new("far.mid")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("far.mid"), "{message}");
        assert!(message.contains("track 0: offset"), "{message}");
        assert!(message.contains("30000 s"), "{message}");
    }

    #[test]
    fn pairing_follows_pretty_midi() {
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
        assert_eq!(
            spans(&parse(&bytes)),
            vec![
                (0.0, 0.5, 60.0, 100),
                (0.25, 0.5, 60.0, 50),
                (0.75, 1.0, 65.0, 20),
                (1.0, 1.25, 65.0, 21)
            ]
        );
    }

    #[test]
    fn timecode_timing_counts_ticks_per_second() {
        // 25 fps × 40 subframes = 1000 ticks per second.
        let events = vec![(500, on(70, 64)), (250, off(70))];
        let bytes = midi_bytes(Timing::Timecode(midly::Fps::Fps25, 40), vec![events]);
        assert_eq!(spans(&parse(&bytes)), vec![(0.5, 0.75, 70.0, 64)]);
    }

    #[test]
    fn parts_are_the_tracks_with_pitched_notes_in_track_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parts.mid");
        let drums = vec![(0, on_channel(9, 36, 100)), (100, on_channel(9, 36, 0))];
        let tracks = vec![
            vec![(480, on(72, 90)), (480, off(72))],
            vec![],
            drums,
            vec![(0, on(48, 90)), (960, off(48))],
        ];
        std::fs::write(&path, midi_bytes(Timing::Metrical(480.into()), tracks)).unwrap();
        let keys = |notes: &[Note]| notes.iter().map(Note::key).collect::<Vec<_>>();
        let parts = read_midi_parts(&path).unwrap();
        assert_eq!(
            parts.iter().map(|p| keys(p)).collect::<Vec<_>>(),
            [[72], [48]]
        );
        // All tracks together, by onset, percussion included.
        assert_eq!(keys(&read_midi(&path).unwrap()), [36, 48, 72]);
        let only_drums = midi_bytes(
            Timing::Metrical(480.into()),
            vec![vec![
                (0, on_channel(9, 36, 100)),
                (100, on_channel(9, 36, 0)),
            ]],
        );
        std::fs::write(&path, only_drums).unwrap();
        let error = read_midi_parts(&path).unwrap_err().to_string();
        assert!(error.contains("no pitched notes"), "{error}");
    }

    #[test]
    fn written_files_read_back_to_the_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.mid");
        let notes = vec![
            Note::new(0.0, 1.0, 60, 100),
            Note::new(1.0, 1.25, 60, 30),
            Note::new(0.5, 2.0, 67, 64),
        ];
        write_midi(&path, &notes, 0, "test").unwrap();
        let back = read_midi(&path).unwrap();
        let mut expected = notes.clone();
        sort_notes(&mut expected);
        assert_eq!(back.len(), 3);
        for (a, b) in back.iter().zip(&expected) {
            assert!((a.onset - b.onset).abs() < 1e-9 && (a.offset - b.offset).abs() < 1e-9);
            assert_eq!((a.pitch, a.velocity), (b.pitch, b.velocity));
        }
    }

    #[test]
    fn garbage_and_truncated_files_are_clear_errors() {
        let error = parse_midi(b"MThd nonsense", Path::new("bad.mid")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("bad.mid: not a readable MIDI file"));
        let events = vec![
            (0, on(60, 90)),
            (480, off(60)),
            (0, on(64, 90)),
            (480, off(64)),
        ];
        let bytes = midi_bytes(Timing::Metrical(480.into()), vec![events]);
        assert_eq!(parse(&bytes).len(), 2);
        let error = parse_midi(&bytes[..bytes.len() - 6], Path::new("cut.mid")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("cut.mid: not a readable MIDI file"));
    }
}
