//! The ConvNet on ONNX Runtime, loaded at run time from a `libonnxruntime.so` the user already
//! has (for example the one inside the `onnxruntime` wheel from PyPI): nothing is downloaded
//! or linked when polyphon is built.
//!
//! burn cannot export ONNX, so the graph is built in memory from the model's weights with
//! ONNX Runtime's model editor: the per-window network of [`ConvNet::forward`] in inference
//! mode, batch norm folded into the convolutions and the hidden layer, ending in the sigmoid.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::editor::{Graph, Model, Node, Opset, ONNX_DOMAIN};
use ort::environment::Environment;
use ort::memory::Allocator;
use ort::operator::{Attribute, ToAttribute};
use ort::session::builder::SessionBuilder;
use ort::session::Session;
use ort::value::{
    Outlet, Shape, SymbolicDimensions, Tensor, TensorElementType, TensorRef, ValueType,
};

use super::native::conv_kernel;
use super::{ConvNet, CONTEXT_FRAMES, INPUT_BINS};
use crate::fold::{batch_norm_affine, values};
use crate::{ModelError, Result};

/// The environment variable naming the library, as the `ort` crate and ONNX Runtime's own
/// tools read it.
pub const LIBRARY_VARIABLE: &str = "ORT_DYLIB_PATH";

/// The oldest ONNX Runtime whose C API this engine uses.
pub const MINIMUM_VERSION: &str = "1.22";

/// The ConvNet as an ONNX Runtime session; one call at a time (a session runs on all cores).
pub struct OrtConvNet {
    session: Mutex<Session>,
    // The session is created in this environment and must not outlive it.
    _environment: Environment,
}

impl std::fmt::Debug for OrtConvNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtConvNet").finish_non_exhaustive()
    }
}

/// `$ORT_DYLIB_PATH`, else `libonnxruntime.so` from the system's library path.
pub fn default_library() -> PathBuf {
    std::env::var_os(LIBRARY_VARIABLE)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(library_file_name()), PathBuf::from)
}

fn library_file_name() -> &'static str {
    if cfg!(target_os = "windows") {
        "onnxruntime.dll"
    } else if cfg!(target_os = "macos") {
        "libonnxruntime.dylib"
    } else {
        "libonnxruntime.so"
    }
}

/// The process's one ONNX Runtime environment (the runtime allows no second), made on first
/// use from `library`.
fn environment(library: &Path) -> Result<Environment> {
    static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);
    let mut slot = ENVIRONMENT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    let environment = ort::init_from(library)
        .map_err(|error| ModelError::OrtLibrary {
            path: library.to_path_buf(),
            message: load_error_message(&error),
        })?
        .with_name("polyphon")
        .build()
        .map_err(ort_error)?;
    Ok(slot.insert(environment).clone())
}

/// Why the library did not load, with the loader's own reason (which `ort` keeps as the
/// error's source, behind a bare "dlopen failed").
fn load_error_message(error: &ort::LoadDynamicError) -> String {
    match error {
        ort::LoadDynamicError::Dlopen { error, .. } => {
            let reason = std::error::Error::source(error)
                .map_or(error.to_string(), |source| source.to_string());
            format!("cannot open it: {reason}")
        }
        other => other.to_string(),
    }
}

fn ort_error(error: impl std::fmt::Display) -> ModelError {
    ModelError::Ort(error.to_string())
}

impl OrtConvNet {
    /// Loads ONNX Runtime from `library` (once per process: a later call with another path
    /// keeps the first library) and builds a session for `net` that uses `threads` cores.
    pub fn new(net: &ConvNet, library: &Path, threads: usize) -> Result<Self> {
        let environment = environment(library)?;
        let builder = SessionBuilder::new(&environment)
            .map_err(ort_error)?
            .with_intra_threads(threads.max(1))
            .map_err(ort_error)?
            .with_inter_threads(1)
            .map_err(ort_error)?;
        let session = model(net)?.into_session(&builder).map_err(ort_error)?;
        Ok(Self {
            session: Mutex::new(session),
            _environment: environment,
        })
    }

    /// Probabilities `(windows, 88)` of `windows` context windows `(windows, 1, 5, 229)`.
    pub fn predict_windows(&self, input: &[f32], windows: usize) -> Result<Vec<f32>> {
        let shape = [windows, 1, CONTEXT_FRAMES, INPUT_BINS];
        let tensor = TensorRef::from_array_view((shape, input)).map_err(ort_error)?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| ModelError::Ort("a previous call panicked".into()))?;
        let outputs = session
            .run(ort::inputs!["windows" => tensor])
            .map_err(ort_error)?;
        let (_, probabilities) = outputs["probabilities"]
            .try_extract_tensor::<f32>()
            .map_err(ort_error)?;
        Ok(probabilities.to_vec())
    }
}

fn float_outlet(name: &str, shape: &[i64]) -> Outlet {
    let value_type = ValueType::Tensor {
        ty: TensorElementType::Float32,
        shape: Shape::new(shape.iter().copied()),
        dimension_symbols: SymbolicDimensions::empty(shape.len()),
    };
    Outlet::new(name, value_type)
}

/// The per-window network's graph with `net`'s weights, batch norm folded.
fn model(net: &ConvNet) -> Result<Model> {
    let mut graph = Graph::new().map_err(ort_error)?;
    let batch = -1;
    let window = [batch, 1, CONTEXT_FRAMES as i64, INPUT_BINS as i64];
    graph
        .set_inputs([float_outlet("windows", &window)])
        .map_err(ort_error)?;
    graph
        .set_outputs([float_outlet(
            "probabilities",
            &[batch, ConvNet::OUTPUTS as i64],
        )])
        .map_err(ort_error)?;
    let mut builder = GraphBuilder { graph: &mut graph };
    let mut x = "windows".to_string();
    for (index, (layer, pads)) in [(&net.conv1, 1), (&net.conv2, 0), (&net.conv3, 0)]
        .into_iter()
        .enumerate()
    {
        let (kernel, out, inputs, shift) = conv_kernel(layer)?;
        let name = format!("conv{}", index + 1);
        builder.initializer(&format!("{name}.w"), &[out, inputs, 3, 3], kernel)?;
        builder.initializer(&format!("{name}.b"), &[out], shift)?;
        let attributes = vec![
            attribute("pads", vec![pads; 4])?,
            attribute("kernel_shape", vec![3i64, 3])?,
        ];
        let inputs = [x.clone(), format!("{name}.w"), format!("{name}.b")];
        x = builder.node("Conv", &name, &inputs, attributes)?;
        x = builder.node("Relu", &format!("{name}.relu"), &[x], vec![])?;
        if index > 0 {
            let pool = vec![
                attribute("kernel_shape", vec![1i64, 2])?,
                attribute("strides", vec![1i64, 2])?,
            ];
            x = builder.node("MaxPool", &format!("{name}.pool"), &[x], pool)?;
        }
    }
    x = builder.node("Flatten", "flatten", &[x], vec![attribute("axis", 1i64)?])?;
    let (scale, shift) = batch_norm_affine(&net.hidden_bn)?;
    let mut hidden = values(net.hidden.weight.val())?;
    for row in hidden.chunks_exact_mut(scale.len()) {
        row.iter_mut().zip(&scale).for_each(|(w, s)| *w *= s);
    }
    let flat = hidden.len() / scale.len();
    builder.initializer("hidden.w", &[flat, scale.len()], hidden)?;
    builder.initializer("hidden.b", &[shift.len()], shift)?;
    let inputs = [x, "hidden.w".into(), "hidden.b".into()];
    x = builder.node("Gemm", "hidden", &inputs, vec![])?;
    x = builder.node("Relu", "hidden.relu", &[x], vec![])?;
    let output = values(net.output.weight.val())?;
    let bias = match &net.output.bias {
        Some(bias) => values(bias.val())?,
        None => vec![0.0; ConvNet::OUTPUTS],
    };
    builder.initializer("output.w", &[output.len() / bias.len(), bias.len()], output)?;
    builder.initializer("output.b", &[bias.len()], bias)?;
    let inputs = [x, "output.w".into(), "output.b".into()];
    x = builder.node("Gemm", "output", &inputs, vec![])?;
    graph
        .add_node(node(
            "Sigmoid",
            "sigmoid",
            &[x],
            &["probabilities".into()],
            vec![],
        )?)
        .map_err(ort_error)?;
    // ONNX Runtime's optimiser fuses nodes into its own operators (Gemm + Relu into FusedGemm, convolutions
    // into blocked-layout ones),
    // which the model must import.
    let opsets = [
        Opset::new(ONNX_DOMAIN, 17).map_err(ort_error)?,
        Opset::new("com.microsoft", 1).map_err(ort_error)?,
        Opset::new("com.microsoft.nchwc", 1).map_err(ort_error)?,
    ];
    let mut model = Model::new(opsets).map_err(ort_error)?;
    model.set_graph(graph).map_err(ort_error)?;
    Ok(model)
}

fn attribute(name: &str, value: impl ToAttribute) -> Result<Attribute> {
    Attribute::new(name, value).map_err(ort_error)
}

fn node(
    operator: &str,
    name: &str,
    inputs: &[String],
    outputs: &[String],
    attributes: Vec<Attribute>,
) -> Result<Node> {
    Node::new(operator, ONNX_DOMAIN, name, inputs, outputs, attributes).map_err(ort_error)
}

/// Adds nodes whose one output is named after the node, and initialisers.
struct GraphBuilder<'a> {
    graph: &'a mut Graph,
}

impl GraphBuilder<'_> {
    fn node(
        &mut self,
        operator: &str,
        name: &str,
        inputs: &[String],
        attributes: Vec<Attribute>,
    ) -> Result<String> {
        let output = format!("{name}.out");
        let node = node(
            operator,
            name,
            inputs,
            std::slice::from_ref(&output),
            attributes,
        )?;
        self.graph.add_node(node).map_err(ort_error)?;
        Ok(output)
    }

    fn initializer(&mut self, name: &str, shape: &[usize], values: Vec<f32>) -> Result<()> {
        let shape: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let mut tensor = Tensor::<f32>::new(&Allocator::default(), shape).map_err(ort_error)?;
        tensor.extract_tensor_mut().1.copy_from_slice(&values);
        self.graph
            .add_initializer(name, tensor, false)
            .map_err(ort_error)
    }
}
