//! ONNX models run by tract: pure Rust, nothing to install; optimised for one fixed
//! input shape.

use tract_onnx::prelude::*;

use super::tensor::InputTensor;

type Plan = SimplePlan<TypedFact, Box<dyn TypedOp>, Graph<TypedFact, Box<dyn TypedOp>>>;

/// A model optimised for a 1x3xHxW input.
pub struct TractModel {
    plan: Plan,
}

impl TractModel {
    /// Prepares `proto` for a 1x3x`height`x`width` input.
    pub fn load(
        proto: &tract_onnx::pb::ModelProto,
        height: usize,
        width: usize,
    ) -> TractResult<Self> {
        let plan = tract_onnx::onnx()
            .model_for_proto_model(proto)?
            .with_input_fact(0, f32::fact([1, 3, height, width]).into())?
            .into_optimized()?
            .into_runnable()?;
        Ok(TractModel { plan })
    }

    /// The shape of the first output, where the model fixes it.
    pub fn output_shape(&self) -> Option<Vec<usize>> {
        let fact = self.plan.model().output_fact(0).ok()?;
        fact.shape.as_concrete().map(|s| s.to_vec())
    }

    /// Runs the model on `input`: its first output, flattened.
    pub fn run(&self, input: &InputTensor) -> Result<Vec<f32>, String> {
        let tensor = Tensor::from_shape(&input.shape, &input.data).map_err(|e| e.to_string())?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| format!("{e:#}"))?;
        let view = outputs[0]
            .to_array_view::<f32>()
            .map_err(|e| format!("the output is not f32: {e}"))?;
        Ok(view.iter().copied().collect())
    }
}
