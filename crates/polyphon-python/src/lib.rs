//! `polyphon._native`: the Rust half of the Python package. The Python half
//! (`python/polyphon/__init__.py`) checks and converts arguments, builds structured arrays
//! and documents the functions; here each function copies its input out of numpy, releases
//! the GIL while polyphon computes, and maps errors to `OSError` (files) or `ValueError`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use polyphon::notes::Note;
use polyphon::{Classifier, Separator, SpectrumKindChoice, SpectrumOptions, Transcriber};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

/// `OSError` where an I/O error caused `error` (a missing or unreadable file), else
/// `ValueError`; the message is polyphon's one line.
fn python_error(error: polyphon::Error) -> PyErr {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = cause {
        if current.is::<std::io::Error>() {
            return PyOSError::new_err(error.to_string());
        }
        cause = current.source();
    }
    PyValueError::new_err(error.to_string())
}

/// Models loaded once per process and name, shared by every call (they are read-only).
fn cached<T: Send + Sync + 'static>(
    cache: &'static OnceLock<Mutex<HashMap<String, Arc<T>>>>,
    name: &str,
    load: impl FnOnce(&str) -> polyphon::Result<T>,
) -> PyResult<Arc<T>> {
    let map = cache.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(model) = map.get(name) {
        return Ok(model.clone());
    }
    let model = Arc::new(load(name).map_err(python_error)?);
    map.insert(name.to_string(), model.clone());
    Ok(model)
}

fn transcriber(model: Option<&str>) -> PyResult<Arc<Transcriber>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Transcriber>>>> = OnceLock::new();
    let name = model.unwrap_or(polyphon::bundled::DEFAULT_TRANSCRIPTION);
    cached(&CACHE, name, Transcriber::from_name_or_path)
}

/// Notes as a flat `(n, 4)` row-major array: onset, offset, pitch, velocity.
fn note_rows<'py>(py: Python<'py>, notes: &[Note]) -> PyResult<Bound<'py, PyAny>> {
    let values: Vec<f64> = notes
        .iter()
        .flat_map(|n| [n.onset, n.offset, n.pitch, f64::from(n.velocity)])
        .collect();
    Ok(PyArray1::from_vec(py, values)
        .reshape([notes.len(), 4])?
        .into_any())
}

/// Notes from a `(n, 4)` array of onset, offset, pitch, velocity.
fn notes_of(rows: &PyReadonlyArray2<f64>) -> PyResult<Vec<Note>> {
    let array = rows.as_array();
    if array.ncols() != 4 {
        return Err(PyValueError::new_err("notes must have 4 columns"));
    }
    Ok(array
        .rows()
        .into_iter()
        .map(|row| Note {
            onset: row[0],
            offset: row[1],
            pitch: row[2],
            velocity: row[3].round().clamp(0.0, 127.0) as u8,
        })
        .collect())
}

#[pyfunction]
#[pyo3(signature = (samples, sample_rate, model=None))]
fn transcribe<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray1<f32>,
    sample_rate: u32,
    model: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let samples = samples.as_slice()?.to_vec();
    let transcriber = transcriber(model)?;
    let notes = py
        .detach(|| transcriber.transcribe(&samples, sample_rate))
        .map_err(python_error)?;
    note_rows(py, &notes)
}

#[pyfunction]
#[pyo3(signature = (path, model=None))]
fn transcribe_file<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    model: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let transcriber = transcriber(model)?;
    let notes = py
        .detach(|| transcriber.transcribe_file(&path))
        .map_err(python_error)?;
    note_rows(py, &notes)
}

#[pyfunction]
fn features<'py>(
    py: Python<'py>,
    samples: PyReadonlyArray1<f32>,
    sample_rate: u32,
    kind: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let kind = match kind {
        "logfilt" => SpectrumKindChoice::Logfilt,
        "mel" => SpectrumKindChoice::Mel,
        "stft" => SpectrumKindChoice::Stft,
        other => {
            let message = format!("kind {other:?}: expected \"logfilt\", \"mel\" or \"stft\"");
            return Err(PyValueError::new_err(message));
        }
    };
    let options = SpectrumOptions {
        kind,
        ..SpectrumOptions::default()
    };
    let spec = options.spec().map_err(python_error)?;
    let samples = samples.as_slice()?.to_vec();
    let matrix = py
        .detach(|| polyphon::features(&samples, sample_rate, &spec))
        .map_err(python_error)?;
    let shape = [matrix.num_frames, matrix.num_bins];
    Ok(PyArray1::from_vec(py, matrix.values)
        .reshape(shape)?
        .into_any())
}

#[pyfunction]
#[pyo3(signature = (channels, sample_rate, model=None))]
fn separate(
    py: Python<'_>,
    channels: PyReadonlyArray2<f32>,
    sample_rate: u32,
    model: Option<&str>,
) -> PyResult<Vec<(String, Vec<Vec<f32>>)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Separator>>>> = OnceLock::new();
    let name = model.unwrap_or(polyphon::bundled::DEFAULT_SEPARATION);
    let separator = cached(&CACHE, name, Separator::from_name_or_path)?;
    let channels: Vec<Vec<f32>> = channels
        .as_array()
        .rows()
        .into_iter()
        .map(|row| row.to_vec())
        .collect();
    let stems = py
        .detach(|| separator.separate(&channels, sample_rate))
        .map_err(python_error)?;
    Ok(separator.sources().iter().cloned().zip(stems).collect())
}

#[pyfunction]
#[pyo3(signature = (samples, sample_rate, model=None))]
fn classify(
    py: Python<'_>,
    samples: PyReadonlyArray1<f32>,
    sample_rate: u32,
    model: Option<&str>,
) -> PyResult<Vec<(String, f64)>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Classifier>>>> = OnceLock::new();
    let name = model.unwrap_or(polyphon::bundled::DEFAULT_INSTRUMENTS);
    let classifier = cached(&CACHE, name, Classifier::from_name_or_path)?;
    let samples = samples.as_slice()?.to_vec();
    let probabilities = py
        .detach(|| classifier.classify(&samples, sample_rate))
        .map_err(python_error)?;
    Ok(classifier
        .classes()
        .into_iter()
        .zip(probabilities)
        .collect())
}

/// mir_eval.transcription's scores and frame scores, as `eval transcription --json` gives
/// them (a JSON text the Python half reads).
#[pyfunction]
fn evaluate_transcription(
    reference: PyReadonlyArray2<f64>,
    estimate: PyReadonlyArray2<f64>,
) -> PyResult<String> {
    let (reference, estimate) = (notes_of(&reference)?, notes_of(&estimate)?);
    let report = polyphon::metrics::evaluate_transcription(&reference, &estimate)
        .map_err(|error| python_error(error.into()))?;
    Ok(report.to_json())
}

/// Writes notes as CSV (`.csv`) or MIDI (`.mid`, `.midi`), as `polyphon transcribe` does,
/// atomically.
#[pyfunction]
fn write_notes(path: std::path::PathBuf, notes: PyReadonlyArray2<f64>) -> PyResult<()> {
    let notes = notes_of(&notes)?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let written = match extension.to_ascii_lowercase().as_str() {
        "csv" => polyphon::notes::write_csv(&path, &notes),
        "mid" | "midi" => polyphon::notes::write_midi(&path, &notes, 0, "polyphon transcription"),
        _ => {
            let message = format!("{}: expected a .csv, .mid or .midi path", path.display());
            return Err(PyValueError::new_err(message));
        }
    };
    written.map_err(|error| python_error(error.into()))
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(transcribe, module)?)?;
    module.add_function(wrap_pyfunction!(transcribe_file, module)?)?;
    module.add_function(wrap_pyfunction!(features, module)?)?;
    module.add_function(wrap_pyfunction!(separate, module)?)?;
    module.add_function(wrap_pyfunction!(classify, module)?)?;
    module.add_function(wrap_pyfunction!(evaluate_transcription, module)?)?;
    module.add_function(wrap_pyfunction!(write_notes, module)?)?;
    Ok(())
}
