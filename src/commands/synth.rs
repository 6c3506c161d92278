//! `polyphon synth`: render training data sets from SoundFonts.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use polyphon::synth::levels::{levels_table, DEFAULT_TARGET_DBFS};
use polyphon::synth::recipes::ensembles::{run_ensembles, EnsemblesOptions};
use polyphon::synth::recipes::fluid::{run_fluid, FluidOptions};
use polyphon::synth::recipes::mixtures::{run_mixtures, MixturesOptions};
use polyphon::synth::recipes::notes::{families_named, run_notes, NotesOptions};
use polyphon::synth::recipes::phrases::{run_phrases, PhrasesOptions};
use polyphon::synth::recipes::pieces::{run_pieces, PiecesOptions};
use polyphon::synth::recipes::RecipeReport;
use polyphon::synth::render::RenderSettings;
use polyphon::synth::soundfont::{installed_soundfonts, DEBIAN_FLUID_R3, DEBIAN_SF2_DIR};

/// Render data sets from SoundFonts (rustysynth): FLUID, MAPS-like pieces, NSynth-like notes,
/// phrases and ensembles (real scores' voices) by the same instruments, mixtures.
///
/// Every audio file comes with a CSV note list (onset,offset,pitch,velocity in seconds) and a
/// MIDI file; a JSON-lines manifest lists each file with its split, synthesizer and labels.
/// Outputs are written to temporary names and renamed, so a rerun skips finished files and
/// redoes half-written ones. Frame labels are derived from the CSV at load time: frame k is
/// active for a note when onset <= k/fps < offset.
#[derive(Args, Debug)]
pub struct SynthArgs {
    #[command(subcommand)]
    pub recipe: Recipe,
    /// Worker threads [default: all cores].
    #[arg(long, global = true)]
    pub jobs: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum Recipe {
    Fluid(FluidArgs),
    Pieces(PiecesArgs),
    Notes(NotesArgs),
    Phrases(PhrasesArgs),
    Ensembles(EnsemblesArgs),
    Mixtures(MixturesArgs),
    Levels(LevelsArgs),
}

/// FLUID-COMBI and FLUID-ISOL: piano notes MIDI 49-71, all 253 two-note intervals with
/// synchronous onset and offset plus the 23 isolated notes, at several velocities and
/// durations.
///
/// Writes audio/*.wav|csv|mid and two manifests: fluid-combi.jsonl (train/valid = intervals,
/// test = isolated notes) and fluid-isol.jsonl (train/valid = isolated, test = intervals).
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth fluid --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 --out data/fluid")]
pub struct FluidArgs {
    /// SF2 file [default: Debian's FluidR3_GM.sf2].
    #[arg(long)]
    pub soundfont: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the train/valid split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Lowest and highest MIDI pitch.
    #[arg(long, default_value_t = 49)]
    pub lowest: u8,
    #[arg(long, default_value_t = 71)]
    pub highest: u8,
    /// Velocities of every event.
    #[arg(long, value_delimiter = ',', default_value = "40,70,100,127")]
    pub velocities: Vec<u8>,
    /// Note durations in seconds.
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2")]
    pub durations: Vec<f64>,
    /// Fraction of the velocity × duration variants held out for validation (the same for every combination).
    #[arg(long, default_value_t = 0.1)]
    pub valid_fraction: f64,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// MAPS-like pieces: every MIDI piece rendered by every piano preset of every SoundFont, split
/// by synthesizer.
///
/// Synthesizers are GM programs --programs of bank 0 (and program 0 of other banks) per
/// SoundFont, presets sounding identically counted once, each level-matched. The grand piano of
/// the LAST SoundFont is the test set, that of the second-last the validation set (their other
/// presets are left out: they share samples); all presets of the others train. MIDI pieces
/// come from tools/music21_to_midi.py. Unreadable pieces are reported and skipped.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth pieces --midi data/music21-midi --out data/pieces \\
    --soundfonts /usr/share/sounds/sf2/FluidR3_GM.sf2,/usr/share/sounds/sf2/MuseScore_General_Full.sf2,\\
/usr/share/sounds/sf2/OPL-3_FM_128M.sf2,/usr/share/sounds/sf2/sf_GMbank.sf2,/usr/share/sounds/sf2/TimGM6mb.sf2")]
pub struct PiecesArgs {
    /// Folder of .mid files.
    #[arg(long)]
    pub midi: PathBuf,
    /// SF2 files, comma-separated, in split order: train..., valid, test.
    #[arg(long, value_delimiter = ',', required = true)]
    pub soundfonts: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// GM piano programs taken from bank 0 of each training SoundFont.
    #[arg(long, value_delimiter = ',', default_value = "0,1,2,3")]
    pub programs: Vec<u8>,
    /// Leave out program 0 of banks other than 0 (variation grands).
    #[arg(long)]
    pub no_variations: bool,
    /// Render only the first N pieces (by file name).
    #[arg(long)]
    pub max_pieces: Option<usize>,
    #[command(flatten)]
    pub level: LevelArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// NSynth-like single notes: 4 s at 16 kHz (held 3 s, then released), pitches and velocities
/// swept, GM keyboard, organ, bass, guitar, flute and vocal programs of every SoundFont.
///
/// Writes nsynth-<split>/audio/<note_str>.wav|csv|mid, nsynth-<split>/examples.json with
/// NSynth's field names, and notes.jsonl. Splits are by instrument (seeded per family).
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth notes --velocities 50,100,127 --pitch-step 3 --out data/notes
  polyphon synth notes --velocities 50,100,127 --pitch-step 3 --variations --out data/notes-variations
  polyphon synth notes --soundfonts /usr/share/sounds/sf2/FluidR3_GM.sf2 --families bass,flute --out data/bass-flute")]
pub struct NotesArgs {
    #[command(flatten)]
    pub set: InstrumentSetArgs,
    #[arg(long, value_delimiter = ',', default_value = "25,50,75,100,127")]
    pub velocities: Vec<u8>,
    /// Render every N-th pitch of each family's range.
    #[arg(long, default_value_t = 1)]
    pub pitch_step: u8,
}

/// Musical phrases by the notes set's instruments: melodies, and for keyboard, guitar, organ
/// and vocal also chords and arpeggios, seeded, 4 s at 16 kHz.
///
/// The same instruments, levels and split by instrument as `polyphon synth notes` with the
/// same SoundFonts and seed, so a model trained on both never hears a test instrument.
/// Writes phrases-<split>/audio/<instrument>-p<k>.wav|csv|mid and phrases.jsonl.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth phrases --out data/phrases --per-instrument 20
  polyphon synth phrases --soundfonts /usr/share/sounds/sf2/FluidR3_GM.sf2 --families keyboard --out data/piano-phrases")]
pub struct PhrasesArgs {
    #[command(flatten)]
    pub set: InstrumentSetArgs,
    /// Phrases rendered per instrument.
    #[arg(long, default_value_t = 20)]
    pub per_instrument: usize,
    /// Length of each phrase in seconds.
    #[arg(long, default_value_t = 4.0)]
    pub seconds: f64,
}

/// Excerpts of real scores whose voices are played by instruments of different families:
/// 1-6 instruments play the sounding voices of one piece (keyboard, guitar, organ and vocal
/// may take several), each voice moved by octaves into its family's range, one stem per
/// instrument beside each mix, for multi-label recognition on music.
///
/// The same instruments, levels and split by instrument as `polyphon synth notes` with the
/// same SoundFonts and seed; the pieces are split too (same fractions), so a test ensemble is
/// an unheard piece by unheard instruments. Reads one track per voice (music21's MIDI files,
/// see tools/music21_to_midi.py). Writes ensembles/<split>/ens-<id>/mix.wav|csv|mid and
/// stem-<k>-<instrument>.wav, listed in ensembles.jsonl.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth ensembles --midi data/music21-midi --out data/ensembles --count 4000
  polyphon synth ensembles --midi data/music21-midi --out data/solos --count 4000 --max-parts 1 --chord-voices 0")]
pub struct EnsemblesArgs {
    #[command(flatten)]
    pub set: InstrumentSetArgs,
    /// Folder of MIDI files, one track per voice.
    #[arg(long)]
    pub midi: PathBuf,
    /// Number of ensembles (80% train, 10% valid, 10% test).
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Most instruments (each a different family) in one ensemble.
    #[arg(long, default_value_t = 6)]
    pub max_parts: usize,
    /// Probability that each sounding voice left over joins one of the chosen keyboard,
    /// guitar, organ or vocal instruments, which then plays several voices (0: one voice
    /// per instrument).
    #[arg(long, default_value_t = 0.5)]
    pub chord_voices: f64,
    /// Length of each excerpt in seconds.
    #[arg(long, default_value_t = 4.0)]
    pub seconds: f64,
}

/// The instruments of the notes and phrases sets.
#[derive(Args, Debug)]
pub struct InstrumentSetArgs {
    /// SF2 files, comma-separated [default: every SF2 in /usr/share/sounds/sf2].
    #[arg(long, value_delimiter = ',')]
    pub soundfonts: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the split by instrument.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Families to render (bass, flute, guitar, keyboard, organ, vocal).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bass,flute,guitar,keyboard,organ,vocal"
    )]
    pub families: Vec<String>,
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 16_000)]
    pub sr: u32,
    /// Render with reverb and chorus (NSynth notes are dry).
    #[arg(long)]
    pub effects: bool,
    /// Also use each family program's variation presets (banks 1-126, e.g. FluidR3's
    /// Ukulele at bank 8, program 24). Each joins the split of its bank-0 preset; the bank-0
    /// instruments keep their names and splits.
    #[arg(long)]
    pub variations: bool,
    #[command(flatten)]
    pub level: LevelArgs,
}

/// Mixtures of 1-6 instruments from a notes set, stems beside each mix, plus bass + flute
/// pairs. Each mixture draws from one split of the notes set.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth mixtures --notes data/notes --out data/mixtures --count 2000 --pairs 1000
  polyphon synth mixtures --notes data/phrases/phrases.jsonl --out data/phrase-mixtures --count 1000 --pairs 0")]
pub struct MixturesArgs {
    /// Folder written by `polyphon synth notes`, or a manifest of single-instrument files
    /// such as `polyphon synth phrases`'s phrases.jsonl.
    #[arg(long)]
    pub notes: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of mixtures (80% train, 10% valid, 10% test).
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Most instruments in one mixture.
    #[arg(long, default_value_t = 6)]
    pub max_instruments: usize,
    /// Number of bass + flute pairs.
    #[arg(long, default_value_t = 500)]
    pub pairs: usize,
}

/// Print the level of each piano preset (GM programs 0-7): RMS of middle C at velocity 100,
/// held 1 s, dry, 44.1 kHz; and whether louder velocities play louder (C2, C4, C6).
#[derive(Args, Debug)]
#[command(after_help = "Example:
  polyphon synth levels /usr/share/sounds/sf2/*.sf2")]
pub struct LevelsArgs {
    /// SF2 files.
    #[arg(required = true)]
    pub soundfonts: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Sample rate in Hz.
    #[arg(long, default_value_t = 44_100)]
    pub sr: u32,
    /// Seconds rendered after the last note-off (release and reverb).
    #[arg(long, default_value_t = 1.0)]
    pub tail: f64,
    /// No reverb or chorus.
    #[arg(long)]
    pub dry: bool,
}

impl RenderArgs {
    fn settings(&self) -> RenderSettings {
        RenderSettings {
            sample_rate: self.sr,
            tail_seconds: self.tail,
            effects: !self.dry,
        }
    }
}

#[derive(Args, Debug)]
pub struct LevelArgs {
    /// RMS level (dBFS) every instrument is scaled to, measured on one held note.
    #[arg(long, default_value_t = DEFAULT_TARGET_DBFS, allow_negative_numbers = true)]
    pub level: f64,
    /// Keep each SoundFont's own level instead.
    #[arg(long)]
    pub no_level_match: bool,
}

impl LevelArgs {
    fn target(&self) -> Option<f64> {
        (!self.no_level_match).then_some(self.level)
    }
}

pub fn run(args: SynthArgs) -> Result<()> {
    if let Some(jobs) = args.jobs {
        polyphon::synth::set_threads(jobs)?;
    }
    let report = match args.recipe {
        Recipe::Fluid(a) => run_fluid(&fluid_options(a))?,
        Recipe::Pieces(a) => run_pieces(&pieces_options(a))?,
        Recipe::Notes(a) => run_notes(&notes_options(a)?)?,
        Recipe::Phrases(a) => run_phrases(&phrases_options(a)?)?,
        Recipe::Ensembles(a) => run_ensembles(&ensembles_options(a)?)?,
        Recipe::Mixtures(a) => run_mixtures(&mixtures_options(a))?,
        Recipe::Levels(a) => return print_levels(&a.soundfonts),
    };
    print_report(&report);
    Ok(())
}

fn default_soundfont() -> PathBuf {
    PathBuf::from(DEBIAN_FLUID_R3)
}

fn fluid_options(a: FluidArgs) -> FluidOptions {
    let mut options = FluidOptions::new(a.soundfont.unwrap_or_else(default_soundfont), a.out);
    options.seed = a.seed;
    options.lowest_pitch = a.lowest;
    options.highest_pitch = a.highest;
    options.velocities = a.velocities;
    options.durations = a.durations;
    options.valid_fraction = a.valid_fraction;
    options.render = a.render.settings();
    options
}

fn pieces_options(a: PiecesArgs) -> PiecesOptions {
    let mut options = PiecesOptions::new(a.midi, a.soundfonts, a.out);
    options.programs = a.programs;
    options.variation_grands = !a.no_variations;
    options.max_pieces = a.max_pieces;
    options.level_target_dbfs = a.level.target();
    options.render = a.render.settings();
    options
}

fn notes_options(a: NotesArgs) -> Result<NotesOptions> {
    let mut options = instrument_set_options(a.set)?;
    options.velocities = a.velocities;
    options.pitch_step = a.pitch_step;
    Ok(options)
}

fn phrases_options(a: PhrasesArgs) -> Result<PhrasesOptions> {
    Ok(PhrasesOptions {
        notes: instrument_set_options(a.set)?,
        phrases_per_instrument: a.per_instrument,
        seconds: a.seconds,
    })
}

fn ensembles_options(a: EnsemblesArgs) -> Result<EnsemblesOptions> {
    Ok(EnsemblesOptions {
        notes: instrument_set_options(a.set)?,
        midi_dir: a.midi,
        count: a.count,
        seconds: a.seconds,
        max_parts: a.max_parts,
        chord_voices: a.chord_voices,
        split_shares: [0.8, 0.1, 0.1],
    })
}

fn instrument_set_options(a: InstrumentSetArgs) -> Result<NotesOptions> {
    let soundfonts = if a.soundfonts.is_empty() {
        installed_soundfonts(std::path::Path::new(DEBIAN_SF2_DIR))?
    } else {
        a.soundfonts
    };
    let mut options = NotesOptions::new(soundfonts, a.out);
    options.families = families_named(&a.families)?;
    options.seed = a.seed;
    options.render.sample_rate = a.sr;
    options.render.effects = a.effects;
    options.level_target_dbfs = a.level.target();
    options.variations = a.variations;
    Ok(options)
}

fn mixtures_options(a: MixturesArgs) -> MixturesOptions {
    let mut options = MixturesOptions::new(a.notes, a.out);
    options.seed = a.seed;
    options.count = a.count;
    options.max_instruments = a.max_instruments;
    options.pairs = a.pairs;
    options
}

fn print_report(report: &RecipeReport) {
    for line in &report.info {
        println!("{line}");
    }
    for failure in &report.failures {
        eprintln!("skipped: {failure}");
    }
    println!();
    print!("{report}");
}

fn print_levels(soundfonts: &[PathBuf]) -> Result<()> {
    print!(
        "{}",
        levels_table(soundfonts, |error| eprintln!("skipped: {error}"))?
    );
    Ok(())
}
