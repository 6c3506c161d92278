//! Note lists as CSV: one note a row, `onset,offset,pitch,velocity` (seconds, MIDI number,
//! MIDI velocity).

use std::io::Write;
use std::path::Path;

use crate::{AtomicFile, CoreError, Note, Result};

pub const CSV_HEADER: &str = "onset,offset,pitch,velocity";

/// Writes `onset,offset,pitch,velocity` rows under a header (seconds with microsecond
/// precision; whole pitches without a fraction), atomically.
pub fn write_csv(path: impl AsRef<Path>, notes: &[Note]) -> Result<()> {
    let path = path.as_ref();
    let mut text = String::with_capacity(32 * (notes.len() + 1));
    text.push_str(CSV_HEADER);
    text.push('\n');
    for n in notes {
        text.push_str(&format!(
            "{:.6},{:.6},{},{}\n",
            n.onset, n.offset, n.pitch, n.velocity
        ));
    }
    let mut file = AtomicFile::create(path)?;
    file.write_all(text.as_bytes())
        .map_err(CoreError::io(path))?;
    file.commit()?;
    Ok(())
}

/// Reads a CSV note list (see [`parse_csv`]).
pub fn read_csv(path: impl AsRef<Path>) -> Result<Vec<Note>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(CoreError::io(path))?;
    let text = String::from_utf8(bytes).map_err(|e| CoreError::Csv {
        path: path.to_path_buf(),
        line: line_of_byte(e.as_bytes(), e.utf8_error().valid_up_to()),
        detail: "not UTF-8 text".into(),
    })?;
    parse_csv(&text, path)
}

fn line_of_byte(bytes: &[u8], index: usize) -> usize {
    1 + bytes[..index].iter().filter(|&&b| b == b'\n').count()
}

/// Parses CSV rows `onset,offset,pitch,velocity`. The first row may be a header (any row
/// whose first field is not a number); blank lines and lines starting with `#` are skipped;
/// fields after the fourth are ignored (e.g. Basic Pitch's pitch bends); every note must pass
/// [`Note::check`]. `path` only names the source in errors, which carry the 1-based line.
pub fn parse_csv(text: &str, path: &Path) -> Result<Vec<Note>> {
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
        let note = parse_row(line).map_err(|detail| CoreError::Csv {
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

fn parse_row(line: &str) -> std::result::Result<Note, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() < 4 {
        return Err(format!(
            "expected 4 fields {CSV_HEADER}, found {}",
            fields.len()
        ));
    }
    let velocity = parse_field(fields[3], "velocity")?;
    if !(0.0..=127.0).contains(&velocity) {
        return Err(format!("velocity {velocity} outside 0..=127"));
    }
    let note = Note {
        onset: parse_field(fields[0], "onset")?,
        offset: parse_field(fields[1], "offset")?,
        pitch: parse_field(fields[2], "pitch")?,
        velocity: velocity.round() as u8,
    };
    note.check()?;
    Ok(note)
}

fn parse_field(text: &str, name: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(format!("{name} {text:?} is not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Note>> {
        parse_csv(text, Path::new("notes.csv"))
    }

    #[test]
    fn with_and_without_header_and_fractional_pitches() {
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
    fn errors_name_file_and_line() {
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
        let loud = csv("0,1,60,128").unwrap_err().to_string();
        assert!(loud.contains("velocity 128"), "{loud}");
    }

    #[test]
    fn round_trips_through_a_file_and_leaves_whole_pitches_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.csv");
        let notes = vec![Note::new(0.25, 1.5, 60, 100), Note::new(0.5, 0.75, 72, 1)];
        write_csv(&path, &notes).unwrap();
        assert_eq!(read_csv(&path).unwrap(), notes);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "onset,offset,pitch,velocity\n0.250000,1.500000,60,100\n0.500000,0.750000,72,1\n"
        );
        std::fs::write(&path, b"onset,offset\n\xff\xfe").unwrap();
        let message = read_csv(&path).unwrap_err().to_string();
        assert!(message.contains("n.csv, line 2: not UTF-8"), "{message}");
    }
}
