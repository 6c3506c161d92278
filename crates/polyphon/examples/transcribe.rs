//! Transcribes an audio file to MIDI with the bundled model:
//!
//! ```sh
//! cargo run --release -p polyphon --example transcribe -- examples/maple_leaf_rag_timgm6mb.wav rag.mid
//! ```

fn main() -> polyphon::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let notes = polyphon::Transcriber::bundled()?.transcribe_file(&args[1])?;
    polyphon::notes::write_midi(&args[2], &notes, 0, "piano")?;
    println!("{} notes -> {}", notes.len(), args[2]);
    Ok(())
}
