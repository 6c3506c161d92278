//! Note events, their CSV and MIDI files, and the one rule that turns them into frame labels.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::Path;

use midly::num::{u15, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};
use polyphon_audio::AtomicFile;

use crate::{Result, SynthError};

/// One sounding note, times in seconds from the start of the audio file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    pub onset: f64,
    pub offset: f64,
    /// MIDI key number (60 = C4, middle C).
    pub pitch: u8,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
}

impl Note {
    pub fn new(onset: f64, offset: f64, pitch: u8, velocity: u8) -> Self {
        Self {
            onset,
            offset,
            pitch,
            velocity,
        }
    }

    pub fn duration(&self) -> f64 {
        self.offset - self.onset
    }

    fn check(&self) -> std::result::Result<(), String> {
        if !(self.onset.is_finite() && self.offset.is_finite() && self.onset >= 0.0) {
            return Err(format!("times must be finite and >= 0 ({self:?})"));
        }
        if self.offset <= self.onset {
            return Err(format!(
                "offset {} is not after onset {}",
                self.offset, self.onset
            ));
        }
        if self.pitch > 127 || !(1..=127).contains(&self.velocity) {
            return Err(format!(
                "pitch must be 0-127 and velocity 1-127 (got {}, {})",
                self.pitch, self.velocity
            ));
        }
        Ok(())
    }
}

/// The end of the last note, 0 for no notes.
pub fn notes_end(notes: &[Note]) -> f64 {
    notes.iter().map(|n| n.offset).fold(0.0, f64::max)
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

// ---------------------------------------------------------------------------------------------
// Frame labels
// ---------------------------------------------------------------------------------------------

/// A piano roll: which pitches sound in which frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameLabels {
    pub n_frames: usize,
    pub n_pitches: usize,
    pub lowest_pitch: u8,
    /// Row-major, `active[frame * n_pitches + (pitch - lowest_pitch)]`.
    pub active: Vec<bool>,
}

impl FrameLabels {
    pub fn is_active(&self, frame: usize, pitch: u8) -> bool {
        let Some(column) = (pitch as usize).checked_sub(self.lowest_pitch as usize) else {
            return false;
        };
        column < self.n_pitches && self.active[frame * self.n_pitches + column]
    }

    /// Number of pitches sounding in `frame`.
    pub fn polyphony(&self, frame: usize) -> usize {
        let row = &self.active[frame * self.n_pitches..(frame + 1) * self.n_pitches];
        row.iter().filter(|&&a| a).count()
    }
}

/// Derives frame labels from notes. This is the one rule every data set and loader uses:
///
/// **frame `k` (time `k / fps`) is active for a note when `onset <= k / fps < offset`.**
///
/// A frame is labelled by the instant it starts at, so a note shorter than a frame may label no
/// frame at all, and a note ending exactly on a frame boundary does not label that frame.
/// Pitches outside `lowest_pitch .. lowest_pitch + n_pitches` and frames beyond `n_frames` are
/// ignored.
pub fn frame_labels(
    notes: &[Note],
    fps: f64,
    n_frames: usize,
    n_pitches: usize,
    lowest_pitch: u8,
) -> FrameLabels {
    let mut active = vec![false; n_frames * n_pitches];
    for note in notes {
        let Some(column) = (note.pitch as usize).checked_sub(lowest_pitch as usize) else {
            continue;
        };
        if column >= n_pitches {
            continue;
        }
        let first = first_frame_at_or_after(note.onset, fps);
        let end = first_frame_at_or_after(note.offset, fps).min(n_frames);
        for frame in first..end {
            active[frame * n_pitches + column] = true;
        }
    }
    FrameLabels {
        n_frames,
        n_pitches,
        lowest_pitch,
        active,
    }
}

/// The smallest `k >= 0` with `k / fps >= time`, evaluated with the same division as the rule
/// so that boundary cases (onset exactly on a frame) agree with it.
fn first_frame_at_or_after(time: f64, fps: f64) -> usize {
    let mut k = (time * fps).ceil().max(0.0) as usize;
    while k > 0 && (k - 1) as f64 / fps >= time {
        k -= 1;
    }
    while (k as f64 / fps) < time {
        k += 1;
    }
    k
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

pub const CSV_HEADER: &str = "onset,offset,pitch,velocity";

/// Writes `onset,offset,pitch,velocity` lines (seconds with microsecond precision), atomically.
pub fn write_csv(path: &Path, notes: &[Note]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    let mut text = String::with_capacity(32 * (notes.len() + 1));
    text.push_str(CSV_HEADER);
    text.push('\n');
    for n in notes {
        text.push_str(&format!(
            "{:.6},{:.6},{},{}\n",
            n.onset, n.offset, n.pitch, n.velocity
        ));
    }
    file.write_all(text.as_bytes())
        .map_err(SynthError::io(path))?;
    file.commit()?;
    Ok(())
}

/// Reads a CSV note list; the header line is optional.
pub fn read_csv(path: &Path) -> Result<Vec<Note>> {
    let text = std::fs::read_to_string(path).map_err(SynthError::io(path))?;
    let mut notes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (index == 0 && line.starts_with("onset")) {
            continue;
        }
        let note = parse_csv_line(line).map_err(|detail| SynthError::Csv {
            path: path.to_path_buf(),
            line: index + 1,
            detail,
        })?;
        notes.push(note);
    }
    Ok(notes)
}

fn parse_csv_line(line: &str) -> std::result::Result<Note, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() != 4 {
        return Err(format!(
            "expected 4 fields ({CSV_HEADER}), found {}",
            fields.len()
        ));
    }
    let number = |i: usize| {
        fields[i]
            .parse::<f64>()
            .map_err(|_| format!("field {} ({:?}) is not a number", i + 1, fields[i]))
    };
    let integer = |i: usize| {
        fields[i]
            .parse::<u8>()
            .map_err(|_| format!("field {} ({:?}) is not an integer 0-255", i + 1, fields[i]))
    };
    let note = Note::new(number(0)?, number(1)?, integer(2)?, integer(3)?);
    note.check()?;
    Ok(note)
}

// ---------------------------------------------------------------------------------------------
// MIDI
// ---------------------------------------------------------------------------------------------

/// Ticks per quarter note of the MIDI files written here; with a tempo of one quarter note per
/// second a tick is exactly one millisecond.
const WRITE_TICKS_PER_BEAT: u16 = 1000;
const WRITE_MICROSECONDS_PER_BEAT: u32 = 1_000_000;

/// Writes notes as a single-track MIDI file (1 tick = 1 ms), atomically.
///
/// `program` is written as a program change on channel 1 so the file plays with the same
/// General MIDI instrument it was rendered with.
pub fn write_midi(path: &Path, notes: &[Note], program: u8, name: &str) -> Result<()> {
    let mut events: Vec<(u64, u8, TrackEventKind<'_>)> = Vec::with_capacity(2 * notes.len());
    for note in notes {
        let on = (note.onset * 1000.0).round() as u64;
        let off = ((note.offset * 1000.0).round() as u64).max(on + 1);
        let key = u7::new(note.pitch.min(127));
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
    smf.write_std(&mut file).map_err(SynthError::io(path))?;
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

/// MIDI channel 10 (index 9) is General MIDI percussion: not pitched notes, never read.
const PERCUSSION_CHANNEL: u8 = 9;

/// Reads the pitched notes of a MIDI file (formats 0 and 1), in seconds, all tracks together.
///
/// Tempo changes on any track apply to all tracks. A note-off (or note-on with velocity 0)
/// ends the earliest open note of its track, channel and key; a note never ended lasts to the
/// end of its track. Percussion (channel 10) and zero-length notes are left out. Program
/// changes, controllers and pitch bends are ignored: the renderer chooses the instrument.
pub fn read_midi(path: &Path) -> Result<Vec<Note>> {
    let mut notes: Vec<Note> = read_midi_parts(path)?.into_iter().flatten().collect();
    sort_notes(&mut notes);
    Ok(notes)
}

/// The notes of each track that has any, in track order, each sorted as [`read_midi`]'s:
/// the parts (voices) of a score written one track per part, as music21 writes them.
pub fn read_midi_parts(path: &Path) -> Result<Vec<Vec<Note>>> {
    let bytes = std::fs::read(path).map_err(SynthError::io(path))?;
    let midi_error = |detail: String| SynthError::Midi {
        path: path.to_path_buf(),
        detail,
    };
    let smf = Smf::parse(&bytes).map_err(|e| midi_error(e.to_string()))?;
    if smf.header.format == Format::Sequential {
        return Err(midi_error(
            "format 2 (independent sequences) is not supported".into(),
        ));
    }
    let clock = TickClock::new(&smf).map_err(midi_error)?;
    let mut parts = Vec::new();
    for track in &smf.tracks {
        let mut notes = Vec::new();
        collect_track_notes(track, &clock, &mut notes);
        if !notes.is_empty() {
            sort_notes(&mut notes);
            parts.push(notes);
        }
    }
    if parts.is_empty() {
        return Err(midi_error("contains no pitched notes".into()));
    }
    Ok(parts)
}

/// By onset, then pitch.
pub fn sort_notes(notes: &mut [Note]) {
    notes.sort_by(|a, b| {
        (a.onset, a.pitch)
            .partial_cmp(&(b.onset, b.pitch))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

fn collect_track_notes(track: &[TrackEvent<'_>], clock: &TickClock, notes: &mut Vec<Note>) {
    let mut open: HashMap<(u8, u8), VecDeque<(u64, u8)>> = HashMap::new();
    let mut tick = 0u64;
    for event in track {
        tick += event.delta.as_int() as u64;
        let TrackEventKind::Midi { channel, message } = event.kind else {
            continue;
        };
        let channel = channel.as_int();
        if channel == PERCUSSION_CHANNEL {
            continue;
        }
        match message {
            MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                open.entry((channel, key.as_int()))
                    .or_default()
                    .push_back((tick, vel.as_int()));
            }
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                let started = open
                    .get_mut(&(channel, key.as_int()))
                    .and_then(VecDeque::pop_front);
                if let Some((start, velocity)) = started {
                    push_note(notes, clock, start, tick, key.as_int(), velocity);
                }
            }
            _ => {}
        }
    }
    for ((_, key), starts) in open {
        for (start, velocity) in starts {
            push_note(notes, clock, start, tick, key, velocity);
        }
    }
}

fn push_note(notes: &mut Vec<Note>, clock: &TickClock, start: u64, end: u64, key: u8, vel: u8) {
    let (onset, offset) = (clock.seconds(start), clock.seconds(end));
    if offset > onset {
        notes.push(Note::new(onset, offset, key, vel));
    }
}

/// Converts absolute ticks to seconds through the file's tempo map.
struct TickClock {
    /// Metrical files: tempo changes as (tick, seconds at that tick, seconds per tick after it).
    segments: Vec<(u64, f64, f64)>,
}

impl TickClock {
    fn new(smf: &Smf<'_>) -> std::result::Result<Self, String> {
        let ticks_per_beat = match smf.header.timing {
            Timing::Metrical(tpb) if tpb.as_int() > 0 => tpb.as_int() as f64,
            Timing::Metrical(_) => return Err("header gives 0 ticks per quarter note".into()),
            Timing::Timecode(fps, subframes) => {
                let per_second = fps.as_f32() as f64 * subframes.max(1) as f64;
                return Ok(Self {
                    segments: vec![(0, 0.0, 1.0 / per_second)],
                });
            }
        };
        // Later tempo events at the same tick win, whatever track they are on.
        let mut tempos: BTreeMap<u64, u32> = BTreeMap::new();
        for track in &smf.tracks {
            let mut tick = 0u64;
            for event in track {
                tick += event.delta.as_int() as u64;
                if let TrackEventKind::Meta(MetaMessage::Tempo(t)) = event.kind {
                    tempos.insert(tick, t.as_int().max(1));
                }
            }
        }
        let default_tempo = 500_000u32; // 120 quarter notes per minute, the MIDI default
        let mut segments = vec![(0u64, 0.0, default_tempo as f64 / 1e6 / ticks_per_beat)];
        for (tick, tempo) in tempos {
            let &(start, seconds, per_tick) = segments.last().expect("one segment");
            let at = seconds + (tick - start) as f64 * per_tick;
            let per_tick = tempo as f64 / 1e6 / ticks_per_beat;
            if tick == start {
                *segments.last_mut().expect("one segment") = (tick, at, per_tick);
            } else {
                segments.push((tick, at, per_tick));
            }
        }
        Ok(Self { segments })
    }

    fn seconds(&self, tick: u64) -> f64 {
        let index = self
            .segments
            .partition_point(|&(start, _, _)| start <= tick);
        let (start, seconds, per_tick) = self.segments[index.saturating_sub(1)];
        seconds + (tick - start) as f64 * per_tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rule_is_onset_inclusive_and_offset_exclusive() {
        // 100 fps: a note from 0.10 s to 0.13 s covers frames 10, 11, 12 — not 13.
        let labels = frame_labels(&[Note::new(0.10, 0.13, 60, 100)], 100.0, 20, 88, 21);
        let frames: Vec<usize> = (0..20).filter(|&k| labels.is_active(k, 60)).collect();
        assert_eq!(frames, vec![10, 11, 12]);
        // An onset just after a frame start labels from the next frame on.
        let labels = frame_labels(&[Note::new(0.1001, 0.1201, 60, 100)], 100.0, 20, 88, 21);
        let frames: Vec<usize> = (0..20).filter(|&k| labels.is_active(k, 60)).collect();
        assert_eq!(frames, vec![11, 12]);
    }

    #[test]
    fn frame_labels_ignore_pitches_and_frames_outside_the_roll() {
        let notes = [Note::new(0.0, 10.0, 20, 90), Note::new(0.05, 10.0, 21, 90)];
        let labels = frame_labels(&notes, 100.0, 8, 88, 21);
        assert_eq!(labels.active.len(), 8 * 88);
        assert_eq!(
            (0..8).map(|k| labels.polyphony(k)).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 1, 1, 1]
        );
    }

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
    fn csv_round_trips_and_bad_lines_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.csv");
        let notes = vec![Note::new(0.25, 1.5, 60, 100), Note::new(0.5, 0.75, 72, 1)];
        write_csv(&path, &notes).unwrap();
        assert_eq!(read_csv(&path).unwrap(), notes);

        std::fs::write(&path, "onset,offset,pitch,velocity\n0.1,0.05,60,100\n").unwrap();
        let message = read_csv(&path).unwrap_err().to_string();
        assert!(message.contains("n.csv:2"), "{message}");
    }

    #[test]
    fn midi_round_trips_to_the_millisecond() {
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
        expected.sort_by(|a, b| a.onset.partial_cmp(&b.onset).unwrap());
        assert_eq!(back.len(), 3);
        for (a, b) in back.iter().zip(&expected) {
            assert!((a.onset - b.onset).abs() < 1e-9 && (a.offset - b.offset).abs() < 1e-9);
            assert_eq!((a.pitch, a.velocity), (b.pitch, b.velocity));
        }
    }

    fn event(delta: u32, kind: TrackEventKind<'static>) -> TrackEvent<'static> {
        TrackEvent {
            delta: u28::new(delta),
            kind,
        }
    }

    /// One note of `key`, `start` ticks after the track's start, lasting `length` ticks.
    fn note_track(key: u8, start: u32, length: u32) -> Vec<TrackEvent<'static>> {
        let note = |vel| {
            midi_event(MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(vel),
            })
        };
        vec![
            event(start, note(90)),
            event(length, note(0)),
            event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
        ]
    }

    /// A format-1 file at 480 ticks per beat whose first track holds only `tempo_track`.
    fn save_parallel(
        tempo_track: Vec<TrackEvent<'static>>,
        parts: Vec<Vec<TrackEvent<'static>>>,
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let header = Header::new(Format::Parallel, Timing::Metrical(u15::new(480)));
        let mut smf = Smf::new(header);
        smf.tracks.push(tempo_track);
        smf.tracks.extend(parts);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mid");
        smf.save(&path).unwrap();
        (dir, path)
    }

    #[test]
    fn tempo_changes_are_followed() {
        // Beat 1 at 120 bpm (0.5 s), then 60 bpm (1 s per beat).
        let tempo = vec![
            event(
                480,
                TrackEventKind::Meta(MetaMessage::Tempo(1_000_000.into())),
            ),
            event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
        ];
        let (_dir, path) = save_parallel(tempo, vec![note_track(60, 240, 480)]);
        let notes = read_midi(&path).unwrap();
        assert_eq!(notes.len(), 1);
        assert!((notes[0].onset - 0.25).abs() < 1e-12);
        assert!((notes[0].offset - 1.0).abs() < 1e-12, "{:?}", notes[0]);
    }

    #[test]
    fn parts_are_the_tracks_with_notes_in_track_order() {
        let tempo = vec![event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack))];
        let empty = vec![event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack))];
        let tracks = vec![note_track(72, 480, 480), empty, note_track(48, 0, 960)];
        let (_dir, path) = save_parallel(tempo, tracks);
        let parts = read_midi_parts(&path).unwrap();
        let pitches: Vec<Vec<u8>> = parts
            .iter()
            .map(|p| p.iter().map(|n| n.pitch).collect())
            .collect();
        assert_eq!(pitches, vec![vec![72], vec![48]]);
        // All tracks together, by onset.
        let all: Vec<u8> = read_midi(&path).unwrap().iter().map(|n| n.pitch).collect();
        assert_eq!(all, vec![48, 72]);
    }

    #[test]
    fn a_truncated_midi_file_is_an_error_not_its_first_part() {
        let tempo = vec![event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack))];
        let tracks = vec![note_track(72, 0, 480), note_track(48, 480, 960)];
        let (_dir, path) = save_parallel(tempo, tracks);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 6]).unwrap();
        let message = read_midi_parts(&path).unwrap_err().to_string();
        assert!(message.contains("t.mid"), "{message}");
    }

    #[test]
    fn garbage_midi_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.mid");
        std::fs::write(&path, b"MThd this is not midi").unwrap();
        let message = read_midi(&path).unwrap_err().to_string();
        assert!(
            message.contains("bad.mid") && message.contains("not a readable MIDI"),
            "{message}"
        );
    }
}
