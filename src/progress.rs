//! Progress bars, with text lines in their place when there is no terminal.

use indicatif::{ProgressBar, ProgressStyle};
use polyphon::train::Progress;

/// A bar over the frames of a file; its length is set once the file's header tells it.
pub fn frames_bar() -> ProgressBar {
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} frames, {eta} left")
        .expect("a valid template");
    ProgressBar::new(0).with_style(style)
}

/// A training run's progress: a bar over each epoch's batches with the smoothed loss, a
/// line when the data is loaded and one per finished epoch (`epoch_line` says what is in
/// it). Without a terminal the bar is hidden and a line is printed every tenth of an epoch.
pub struct TrainingBar {
    bar: ProgressBar,
    smoothed: Option<f32>,
}

impl TrainingBar {
    pub fn new() -> Self {
        let style = ProgressStyle::with_template(
            "epoch {prefix} {bar:30} {pos}/{len} batches, loss {msg}, {eta} left",
        )
        .expect("a valid template");
        Self {
            bar: ProgressBar::new(0).with_style(style),
            smoothed: None,
        }
    }

    /// Shows `progress`; a finished epoch is printed as `epoch_line` makes it.
    pub fn show<L>(&mut self, progress: Progress<L>, epoch_line: impl Fn(&L) -> String) {
        match progress {
            Progress::Loaded { train, valid } => self
                .bar
                .suspend(|| println!("train: {train}, valid: {valid}")),
            Progress::EpochStart { epoch, batches } => {
                self.bar.set_prefix(epoch.to_string());
                self.bar.set_length(batches as u64);
                self.bar.reset();
            }
            Progress::Batch { loss } => {
                let smoothed = self.smoothed.map_or(loss, |s| 0.95 * s + 0.05 * loss);
                self.smoothed = Some(smoothed);
                self.bar.set_message(format!("{smoothed:.4}"));
                self.bar.inc(1);
                self.print_hidden(smoothed);
            }
            // Printed through the bar so it stays visible without a terminal too.
            Progress::EpochEnd(log) => self.bar.suspend(|| println!("{}", epoch_line(log))),
        }
    }

    /// Clears the bar; the next [`show`](Self::show) starts a new one.
    pub fn finish(&mut self) {
        self.bar.finish_and_clear();
        *self = Self::new();
    }

    fn print_hidden(&self, loss: f32) {
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        if self.bar.is_hidden() && total >= 10 && done % (total / 10) == 0 {
            println!(
                "epoch {}: {done}/{total} batches, loss {loss:.4}, {:.0} s elapsed",
                self.bar.prefix(),
                self.bar.elapsed().as_secs_f64()
            );
        }
    }
}

/// What a batch command prints as each input ends: its line or "skipped" on stdout, its
/// error on stderr.
pub fn report(input: &std::path::Path, outcome: &polyphon::batch::Outcome) {
    use polyphon::batch::Outcome;
    match outcome {
        Outcome::Done(line) => println!("{line}"),
        Outcome::Skipped => println!("{}: skipped, its outputs exist", input.display()),
        Outcome::Failed(error) => eprintln!("error: {error}"),
    }
}
