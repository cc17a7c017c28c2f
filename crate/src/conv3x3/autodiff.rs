//! The backward pass of [`Conv3x3Ops::conv3x3`]: the input gradient is the same kernel run on
//! the output gradient with the flipped weights.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::tensor::FloatDType;

use super::Conv3x3Ops;

impl<B: Conv3x3Ops, C: CheckpointStrategy> Conv3x3Ops for Autodiff<B, C> {
    fn conv3x3(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        flipped: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Conv3x3Backward;

        impl<B: Conv3x3Ops> Backward<B, 1> for Conv3x3Backward {
            /// The output when a ReLU followed (its mask), the flipped and the forward weight.
            type State = (Option<FloatTensor<B>>, FloatTensor<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let (output, flipped, weight) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    let grad = match output {
                        Some(output) => B::relu_backward(output, grad),
                        None => grad,
                    };
                    let in_channels = flipped.shape()[1];
                    let dtype = FloatDType::from(flipped.dtype());
                    let zero = B::float_zeros([in_channels].into(), &grad.device(), dtype);
                    B::conv3x3(grad, flipped, weight, zero, false)
                });
            }
        }

        let forward = |input| {
            B::conv3x3(
                input,
                weight.primitive().clone(),
                flipped.primitive().clone(),
                bias.primitive().clone(),
                relu,
            )
        };
        match Conv3x3Backward
            .prepare::<C>([input.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let output = forward(input.into_primitive());
                let mask = relu.then(|| output.clone());
                let state = (
                    mask,
                    flipped.primitive().clone(),
                    weight.primitive().clone(),
                );
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(input.into_primitive())),
        }
    }
}
