//! What happens to a command's outputs when it is interrupted.

/// Makes SIGINT, SIGTERM and SIGHUP remove every temporary output of the process (the
/// hidden `.NAME.partial-PID` and `.staged-PID.NAME` files) before it exits with the usual
/// status, 128 + the signal's number. Without it, a signal ends the process without running
/// destructors, and the temporary files stay. Outputs already under their final names are
/// complete and stay.
///
/// Call it once, early in `main`; the `polyphon` command does. Does nothing off Unix.
pub fn remove_temporary_files_on_termination() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        std::thread::Builder::new()
            .name("termination".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    polyphon_core::remove_temporary_files_and_exit(128 + signal);
                }
            })?;
    }
    Ok(())
}
