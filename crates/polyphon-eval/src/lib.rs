//! Metrics for polyphon: transcription metrics that equal mir_eval 0.8.2's, source-separation
//! metrics that equal museval 0.4.1's (BSS Eval v4), and note list reading.
//!
//! Laid out like mir_eval, one module per task:
//! * [`transcription`]: note-level precision, recall, F-measure and average overlap ratio
//!   (`mir_eval.transcription.precision_recall_f1_overlap`).
//! * [`multipitch`]: frame-level precision, recall and accuracy (`mir_eval.multipitch`), plus
//!   F1 derived from them.
//! * [`matching`]: mir_eval's maximum bipartite matching (Hopcroft–Karp), not a greedy one.
//! * [`validate`]: mir_eval's input checks, run before every metric.
//! * [`separation`]: SDR, ISR, SIR and SAR as museval's BSS Eval v4 computes them (1 s
//!   frames, distortion filters over the whole signal, median over frames), and SI-SDR;
//!   with museval's input checks (`separation::validate_separation`).
//!
//! and for polyphon's command line:
//! * [`frames`]: notes (polyphon-core's [`Note`]) to per-frame pitch sets at 100 frames per
//!   second, by polyphon-core's label rule.
//! * [`evaluate`]: the three score groups of `polyphon eval transcription`.
//!
//! Equality with mir_eval and museval is checked against fixtures that they themselves
//! produced (`tools/make_eval_fixtures.py`, `tools/make_separation_fixtures.py`).

pub mod evaluate;
pub mod frames;
pub mod matching;
pub mod multipitch;
pub mod separation;
pub mod transcription;
pub mod validate;

pub use evaluate::{evaluate_transcription, FrameScores, NotePrf, TranscriptionReport};
pub use polyphon_core::Note;
pub use separation::{evaluate_separation, SeparationError, SeparationScores};
pub use validate::ValidationError;
