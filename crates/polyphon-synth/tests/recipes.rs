//! End-to-end checks of the recipes on tiny sets, with a real SoundFont.
//!
//! The SoundFont comes from `$POLYPHON_SOUNDFONT` or Debian's FluidR3
//! (`apt-get install fluid-soundfont-gm`, done by `.ci/setup`); without one these tests say so
//! and pass.

use std::path::{Path, PathBuf};

use polyphon_audio::{read_mono, Downmix};
use polyphon_core::manifest::{read_manifest, ManifestEntry, Split};
use polyphon_core::{frame_labels, read_csv, write_midi, Note};
use polyphon_synth::recipes::ensembles::{run_ensembles, EnsemblesOptions};
use polyphon_synth::recipes::fluid::{run_fluid, FluidOptions};
use polyphon_synth::recipes::mixtures::{run_mixtures, MixturesOptions};
use polyphon_synth::recipes::notes::{default_families, run_notes, Family, NotesOptions};
use polyphon_synth::recipes::phrases::{run_phrases, PhrasesOptions};
use polyphon_synth::recipes::pieces::{run_pieces, PiecesOptions};
use polyphon_synth::soundfont::default_soundfont_path;

fn soundfont() -> Option<PathBuf> {
    let path = default_soundfont_path();
    if path.is_none() {
        eprintln!("no SoundFont (set POLYPHON_SOUNDFONT or install fluid-soundfont-gm); skipping");
    }
    path
}

/// A FLUID set over three pitches: 3 notes and 3 intervals, one velocity and duration.
fn tiny_fluid(soundfont: PathBuf, out: &Path, seed: u64) -> FluidOptions {
    let mut options = FluidOptions::new(soundfont, out.to_path_buf());
    options.lowest_pitch = 59;
    options.highest_pitch = 61;
    options.velocities = vec![100];
    options.durations = vec![0.3];
    options.lead_in = 0.237; // deliberately off the 10 ms frame grid
    options.render.tail_seconds = 0.3;
    options.seed = seed;
    options
}

#[test]
fn rendered_onsets_match_the_labels() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let options = tiny_fluid(sf, dir.path(), 0);
    let report = run_fluid(&options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let entries = read_manifest(&dir.path().join("fluid-combi.jsonl")).unwrap();
    assert_eq!(entries.len(), 6);
    for entry in entries {
        let audio = read_mono(dir.path().join(&entry.file), None, Downmix::Mean).unwrap();
        let notes = read_csv(dir.path().join(&entry.labels_csv)).unwrap();
        let rate = audio.sample_rate as f64;
        let onset_sample = (notes[0].onset * rate).round() as i64;

        // Sample-exact: nothing sounds before the onset's 64-sample block boundary.
        let first_sound = audio.samples.iter().position(|s| *s != 0.0).unwrap() as i64;
        assert!(
            (first_sound - onset_sample).abs() <= 32,
            "{}: first sample at {first_sound}, label at {onset_sample}",
            entry.file
        );

        // Energy onset (first 10 ms frame within 30 dB of the loudest) vs the label's first
        // frame, at 100 fps.
        let hop = (rate / 100.0) as usize;
        let energies: Vec<f32> = audio
            .samples
            .chunks(hop)
            .map(|c| c.iter().map(|s| s * s).sum())
            .collect();
        let loudest = energies.iter().cloned().fold(0.0, f32::max);
        let energy_frame = energies.iter().position(|&e| e > loudest * 1e-3).unwrap();
        let labels = frame_labels(&notes, 100.0, energies.len(), 128, 0);
        let label_frame = (0..energies.len())
            .find(|&k| labels.polyphony(k) > 0)
            .unwrap();
        assert!(
            energy_frame.abs_diff(label_frame) <= 1,
            "{}: energy from frame {energy_frame}, labels from {label_frame}",
            entry.file
        );
    }
}

#[test]
fn fluid_splits_intervals_and_notes_both_ways() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut options = tiny_fluid(sf, dir.path(), 0);
    options.velocities = vec![70, 100];
    run_fluid(&options).unwrap();
    let combi = read_manifest(&dir.path().join("fluid-combi.jsonl")).unwrap();
    let isol = read_manifest(&dir.path().join("fluid-isol.jsonl")).unwrap();
    for entry in &combi {
        let interval = entry.file.contains("interval_");
        assert_eq!(interval, entry.split != Split::Test, "{}", entry.file);
    }
    for entry in &isol {
        let interval = entry.file.contains("interval_");
        assert_eq!(interval, entry.split == Split::Test, "{}", entry.file);
    }
    // Validation holds out one whole variant (here one of the two velocities): every
    // training combination is validated, on a rendering it was not trained on.
    for manifest in [&combi, &isol] {
        let pitches = |e: &&ManifestEntry| e.file.split("_v").next().unwrap().to_string();
        let variant = |e: &&ManifestEntry| e.file.split("_v").nth(1).unwrap().to_string();
        let of = |split: Split| manifest.iter().filter(move |e| e.split == split);
        let mut train: Vec<String> = of(Split::Train).map(|e| pitches(&e)).collect();
        let mut valid: Vec<String> = of(Split::Valid).map(|e| pitches(&e)).collect();
        train.sort();
        valid.sort();
        assert_eq!(train, valid);
        let valid_variants: std::collections::BTreeSet<String> =
            of(Split::Valid).map(|e| variant(&e)).collect();
        assert_eq!(valid_variants.len(), 1, "{valid_variants:?}");
    }
}

#[test]
fn rerun_skips_finished_files_and_redoes_missing_ones() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let options = tiny_fluid(sf, dir.path(), 3);
    let first = run_fluid(&options).unwrap();
    assert_eq!((first.rendered_files, first.reused_files), (6, 0));
    let manifest = std::fs::read(dir.path().join("fluid-isol.jsonl")).unwrap();

    // As if a run had been killed after writing one example's labels but not its audio.
    // Its half-written audio is still there under the temporary name of a dead process.
    std::fs::remove_file(dir.path().join("audio/note_060_v100_d0.30.wav")).unwrap();
    let stale = dir
        .path()
        .join("audio/.note_060_v100_d0.30.wav.partial-4294967295");
    std::fs::write(&stale, b"RIFF half").unwrap();
    let second = run_fluid(&options).unwrap();
    assert_eq!((second.rendered_files, second.reused_files), (1, 5));
    assert_eq!(second.stale_removed, 1);
    assert!(!stale.exists());
    assert_eq!(
        std::fs::read(dir.path().join("fluid-isol.jsonl")).unwrap(),
        manifest
    );
}

#[test]
fn manifest_is_deterministic_for_a_seed() {
    let Some(sf) = soundfont() else { return };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut options = tiny_fluid(sf.clone(), a.path(), 11);
    // Two variants: validation holds out one of them, chosen by the seed.
    options.velocities = vec![70, 100];
    run_fluid(&options).unwrap();
    run_fluid(&FluidOptions {
        out_dir: b.path().to_path_buf(),
        ..options.clone()
    })
    .unwrap();
    let read = |d: &Path| std::fs::read(d.join("fluid-combi.jsonl")).unwrap();
    assert_eq!(read(a.path()), read(b.path()));
    // Some other seed holds out the other variant (rerunning in place only rewrites the
    // manifests: the audio is there).
    let differs = (12..20).any(|seed| {
        run_fluid(&FluidOptions {
            out_dir: b.path().to_path_buf(),
            seed,
            ..options.clone()
        })
        .unwrap();
        read(a.path()) != read(b.path())
    });
    assert!(differs, "no seed in 12..20 changed the split");
}

#[test]
fn bad_soundfont_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let options = FluidOptions::new("/no/such/Piano.sf2".into(), dir.path().to_path_buf());
    let message = run_fluid(&options).unwrap_err().to_string();
    assert!(message.contains("/no/such/Piano.sf2"), "{message}");
}

#[test]
fn missing_preset_is_named() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut options = tiny_fluid(sf, dir.path(), 0);
    options.bank = 77;
    let message = run_fluid(&options).unwrap_err().to_string();
    assert!(message.contains("bank 77, program 0"), "{message}");
}

#[test]
fn pieces_split_by_synthesizer_and_skip_a_bad_piece() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let midi = dir.path().join("midi");
    std::fs::create_dir(&midi).unwrap();
    let chord = [Note::new(0.1, 0.6, 60, 90), Note::new(0.1, 0.6, 64, 90)];
    write_midi(midi.join("a.mid"), &chord, 0, "a").unwrap();
    write_midi(midi.join("b.mid"), &[Note::new(0.0, 0.4, 48, 70)], 0, "b").unwrap();
    std::fs::write(midi.join("broken.mid"), b"MThd\0\0\0\x06garbage").unwrap();
    // Three names for one SoundFont stand for three synthesizers.
    let fonts: Vec<PathBuf> = ["One", "Two", "Three"]
        .iter()
        .map(|name| {
            let link = dir.path().join(format!("{name}.sf2"));
            std::os::unix::fs::symlink(&sf, &link).unwrap();
            link
        })
        .collect();
    let mut options = PiecesOptions::new(midi, fonts, dir.path().join("out"));
    options.programs = vec![0];
    options.variation_grands = false;
    options.render.tail_seconds = 0.2;
    let report = run_pieces(&options).unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(report.failures[0].contains("broken.mid"));
    let entries = read_manifest(&dir.path().join("out/pieces.jsonl")).unwrap();
    assert_eq!(entries.len(), 6);
    for entry in &entries {
        let expected = match entry.synthesizer.split(':').next().unwrap() {
            "One" => Split::Train,
            "Two" => Split::Valid,
            _ => Split::Test,
        };
        assert_eq!(entry.split, expected, "{}", entry.file);
    }
}

/// The default families named, with their full ranges.
fn only_families(names: &[&str]) -> Vec<Family> {
    default_families()
        .into_iter()
        .filter(|f| names.contains(&f.name))
        .collect()
}

/// Notes of `families` at their reference pitch only, one velocity, 0.75 s each.
fn tiny_notes(soundfont: PathBuf, out: &Path, families: &[&str]) -> NotesOptions {
    let mut options = NotesOptions::new(vec![soundfont], out.to_path_buf());
    options.families = only_families(families)
        .into_iter()
        .map(|mut f| {
            f.lowest_pitch = f.reference_pitch;
            f.highest_pitch = f.reference_pitch;
            f
        })
        .collect();
    options.velocities = vec![100];
    options.held_seconds = 0.5;
    options.total_seconds = 0.75;
    options
}

#[test]
fn notes_and_mixtures_keep_instruments_apart() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let notes_dir = dir.path().join("notes");
    let options = tiny_notes(sf, &notes_dir, &["bass", "flute"]);
    let report = run_notes(&options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let notes = read_manifest(&notes_dir.join("notes.jsonl")).unwrap();
    assert_eq!(notes.len(), 16); // 8 bass + 8 flute programs, one note each
    assert!(notes.iter().all(|e| (e.duration - 0.75).abs() < 1e-9));
    let meta = std::fs::read_to_string(notes_dir.join("nsynth-train/examples.json")).unwrap();
    assert!(meta.contains("\"instrument_family_str\": \"bass\""));
    for split in [Split::Valid, Split::Test] {
        assert_eq!(notes.iter().filter(|e| e.split == split).count(), 2); // one per family
    }

    let mut mix_options = MixturesOptions::new(notes_dir, dir.path().join("mix"));
    mix_options.count = 10;
    mix_options.pairs = 10;
    let report = run_mixtures(&mix_options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let mixes = read_manifest(&dir.path().join("mix/mixtures.jsonl")).unwrap();
    assert_eq!(mixes.len(), 20);
    for mix in &mixes {
        let members: Vec<&ManifestEntry> = mix
            .instruments
            .iter()
            .map(|name| notes.iter().find(|n| &n.instruments[0] == name).unwrap())
            .collect();
        assert!(members.iter().all(|m| m.split == mix.split), "{}", mix.file);
        assert_eq!(mix.stems.len(), mix.instruments.len());
        if mix.file.contains("/pair-") {
            assert_eq!(mix.families, vec!["bass", "flute"]);
        }
        assert_stems_add_up(&dir.path().join("mix"), mix);
    }
}

#[test]
fn variations_join_their_bank_0_presets_split_and_leave_the_rest_unchanged() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let plain = tiny_notes(sf.clone(), &dir.path().join("plain"), &["guitar", "organ"]);
    let mut varied = tiny_notes(sf, &dir.path().join("varied"), &["guitar", "organ"]);
    varied.variations = true;
    for options in [&plain, &varied] {
        let report = run_notes(options).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    }
    let read = |o: &NotesOptions| read_manifest(&o.out_dir.join("notes.jsonl")).unwrap();
    let (plain, varied) = (read(&plain), read(&varied));
    let bank = |e: &ManifestEntry| e.synthesizer.split(':').nth(1).unwrap().to_string();
    let (bank_0, variations): (Vec<_>, Vec<_>) = varied.iter().partition(|e| bank(e) == "000");
    // The bank-0 instruments keep their names, files and splits.
    assert_eq!(bank_0.len(), plain.len());
    for (a, b) in bank_0.iter().zip(&plain) {
        assert_eq!(
            (&a.file, a.split, &a.instruments),
            (&b.file, b.split, &b.instruments)
        );
    }
    // FluidR3 has 10 guitar and organ variations in banks 8 and 16, none beyond.
    assert!(
        (1..=10).contains(&variations.len()),
        "{} variations",
        variations.len()
    );
    assert!(variations
        .iter()
        .all(|e| ["008", "016"].contains(&bank(e).as_str())));
    assert!(
        variations
            .iter()
            .any(|e| e.synthesizer.ends_with(":008:024")),
        "the Ukulele is missing"
    );
    for variation in &variations {
        let program = variation.synthesizer.rsplit(':').next().unwrap();
        let base = plain
            .iter()
            .find(|e| e.synthesizer.ends_with(&format!(":000:{program}")))
            .unwrap();
        assert_eq!(variation.split, base.split, "{}", variation.synthesizer);
        assert_eq!(variation.families, base.families);
        assert!(!plain.iter().any(|e| e.instruments == variation.instruments));
    }
}

/// The stems of a mixture add up to its mix (to 16-bit rounding).
fn assert_stems_add_up(root: &Path, mix: &ManifestEntry) {
    let total = read_mono(root.join(&mix.file), None, Downmix::Mean)
        .unwrap()
        .samples;
    let mut sum = vec![0.0f32; total.len()];
    for stem in &mix.stems {
        let audio = read_mono(root.join(stem), None, Downmix::Mean)
            .unwrap()
            .samples;
        assert_eq!(audio.len(), total.len(), "{stem}");
        sum.iter_mut().zip(audio).for_each(|(s, a)| *s += a);
    }
    let worst = sum
        .iter()
        .zip(&total)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        worst < 1e-3,
        "{}: stems differ from mix by {worst}",
        mix.file
    );
}

#[test]
fn phrases_are_played_by_the_notes_sets_instruments_in_the_same_splits() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let families = ["bass", "keyboard"];
    run_notes(&tiny_notes(
        sf.clone(),
        &dir.path().join("notes"),
        &families,
    ))
    .unwrap();
    let mut options = PhrasesOptions::new(vec![sf], dir.path().join("phrases"));
    options.notes.families = only_families(&families);
    options.phrases_per_instrument = 2;
    options.seconds = 1.5;
    let report = run_phrases(&options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let phrases = read_manifest(&dir.path().join("phrases/phrases.jsonl")).unwrap();
    assert_eq!(phrases.len(), 2 * 16); // 8 bass + 8 keyboard programs, two phrases each
    let note_set = read_manifest(&dir.path().join("notes/notes.jsonl")).unwrap();
    for phrase in &phrases {
        let note = note_set
            .iter()
            .find(|n| n.instruments == phrase.instruments)
            .unwrap();
        assert_eq!(
            (note.split, &note.synthesizer, &note.families),
            (phrase.split, &phrase.synthesizer, &phrase.families)
        );
        assert!((phrase.duration - 1.5).abs() < 1e-9);
        // The labels are the notes played, and a phrase plays more than one.
        let root = dir.path().join("phrases");
        let played = read_csv(root.join(&phrase.labels_csv)).unwrap();
        assert!(played.len() >= 2, "{}", phrase.file);
        assert!(played.iter().all(|n| n.offset <= 1.5));
    }
    // A rerun renders nothing again and writes the same manifest.
    let again = run_phrases(&options).unwrap();
    assert_eq!(again.failures.len(), 0);
    let manifest = dir.path().join("phrases/phrases.jsonl");
    assert_eq!(read_manifest(&manifest).unwrap(), phrases);

    // Mixtures take a phrases manifest as well as a notes folder.
    let mut mix_options = MixturesOptions::new(manifest, dir.path().join("mix"));
    mix_options.count = 10;
    mix_options.pairs = 0;
    let report = run_mixtures(&mix_options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let mixes = read_manifest(&dir.path().join("mix/mixtures.jsonl")).unwrap();
    assert_eq!(mixes.len(), 10);
    for mix in &mixes {
        for name in &mix.instruments {
            let member = phrases.iter().find(|p| &p.instruments[0] == name).unwrap();
            assert_eq!(member.split, mix.split, "{}", mix.file);
        }
    }
}

#[test]
fn mixtures_of_an_empty_manifest_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("phrases.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = dir.path().join("mix");
    let error = run_mixtures(&MixturesOptions::new(empty, out.clone())).unwrap_err();
    assert!(error.to_string().contains("no notes to mix"), "{error}");
    assert!(!out.exists());
}

/// A format-1 MIDI file of two voices, a quarter note each at 120 bpm for `beats` beats: an
/// upper line from C5 and a lower one from C3, each track one voice as music21 writes them.
fn two_voice_midi(path: &Path, beats: u32, first_pitch: u8) {
    use midly::num::{u15, u28, u4, u7};
    use midly::{
        Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind,
    };
    let event = |delta: u32, kind| TrackEvent {
        delta: u28::new(delta),
        kind,
    };
    let end = || event(0, TrackEventKind::Meta(MetaMessage::EndOfTrack));
    let voice = |low: u8| {
        let mut track = Vec::new();
        for beat in 0..beats {
            let key = u7::new(low + (beat % 5) as u8);
            let note = |vel| TrackEventKind::Midi {
                channel: u4::new(0),
                message: MidiMessage::NoteOn {
                    key,
                    vel: u7::new(vel),
                },
            };
            track.push(event(0, note(90)));
            track.push(event(480, note(0)));
        }
        track.push(end());
        track
    };
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(480)),
    ));
    smf.tracks.push(vec![end()]);
    smf.tracks.push(voice(first_pitch + 24));
    smf.tracks.push(voice(first_pitch));
    smf.save(path).unwrap();
}

/// `dir/midi` with three two-voice pieces of 8 beats, a semitone apart: one per split.
fn three_two_voice_pieces(dir: &Path) -> PathBuf {
    let midi = dir.join("midi");
    std::fs::create_dir_all(&midi).unwrap();
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        two_voice_midi(&midi.join(format!("{name}.mid")), 8, 48 + k as u8);
    }
    midi
}

#[test]
fn ensembles_play_pieces_by_the_notes_sets_instruments_split_by_piece_and_instrument() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let families = ["bass", "flute"];
    run_notes(&tiny_notes(
        sf.clone(),
        &dir.path().join("notes"),
        &families,
    ))
    .unwrap();
    let midi = three_two_voice_pieces(dir.path());
    std::fs::write(midi.join("broken.mid"), b"not midi").unwrap();
    let out = dir.path().join("ens");
    let mut options = EnsemblesOptions::new(vec![sf], midi, out.clone());
    options.notes.families = only_families(&families);
    options.count = 20;
    options.seconds = 1.5;
    let report = run_ensembles(&options).unwrap();
    // The broken file is named and left out; everything else renders.
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(report.failures[0].contains("broken.mid"));
    let ensembles = read_manifest(&out.join("ensembles.jsonl")).unwrap();
    assert_eq!(ensembles.len(), 20);
    let notes = read_manifest(&dir.path().join("notes/notes.jsonl")).unwrap();
    let mut piece_splits = std::collections::BTreeMap::new();
    for entry in &ensembles {
        // Each voice by an instrument of the notes set's same split, families distinct.
        for (name, family) in entry.instruments.iter().zip(&entry.families) {
            let note = notes.iter().find(|n| &n.instruments[0] == name).unwrap();
            assert_eq!((note.split, &note.families[0]), (entry.split, family));
        }
        assert!((1..=2).contains(&entry.families.len()));
        assert!(entry.families.len() < 2 || entry.families[0] != entry.families[1]);
        // A piece belongs to one split.
        let piece = entry
            .source
            .as_deref()
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            *piece_splits.entry(piece).or_insert(entry.split),
            entry.split
        );
        assert!((entry.duration - 1.5).abs() < 1e-9);
        let labels = read_csv(out.join(&entry.labels_csv)).unwrap();
        assert!(!labels.is_empty());
        for note in &labels {
            assert!(note.onset >= 0.0 && note.offset <= 1.5 + 1e-9, "{note:?}");
            let in_some_range = default_families().iter().any(|f| {
                entry.families.iter().any(|g| g == f.name)
                    && (f.lowest_pitch..=f.highest_pitch).contains(&note.key())
            });
            assert!(in_some_range, "{}: {note:?}", entry.file);
        }
        assert_stems_add_up(&out, entry);
    }
    assert_eq!(piece_splits.len(), 3);
    // A rerun renders nothing and writes the same manifest.
    let again = run_ensembles(&options).unwrap();
    assert_eq!(again.rendered_files, 0);
    assert_eq!(
        read_manifest(&out.join("ensembles.jsonl")).unwrap(),
        ensembles
    );
}

#[test]
fn chord_families_may_play_several_voices_as_one_stem() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let midi = three_two_voice_pieces(dir.path());
    let out = dir.path().join("ens");
    let mut options = EnsemblesOptions::new(vec![sf], midi, out.clone());
    options.notes.families = only_families(&["bass", "keyboard"]);
    options.count = 20;
    options.seconds = 1.5;
    options.chord_voices = 1.0;
    let report = run_ensembles(&options).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let ensembles = read_manifest(&out.join("ensembles.jsonl")).unwrap();
    let mut keyboard_chords = 0;
    for entry in &ensembles {
        // One stem per instrument, never two of one family.
        assert_eq!(entry.stems.len(), entry.families.len());
        assert!(entry.families.len() < 2 || entry.families[0] != entry.families[1]);
        let labels = read_csv(out.join(&entry.labels_csv)).unwrap();
        let chords = labels.iter().any(|a| {
            labels
                .iter()
                .any(|b| b.pitch != a.pitch && b.onset == a.onset)
        });
        if entry.families == ["keyboard"] && chords {
            keyboard_chords += 1;
        }
        // The bass alone plays one voice: never two notes at once.
        if entry.families == ["bass"] {
            assert!(!chords, "{}", entry.file);
        }
        assert_stems_add_up(&out, entry);
    }
    // A keyboard alone takes both voices of the piece whenever it is drawn alone.
    assert!(keyboard_chords > 0, "{ensembles:?}");
}
