//! Optimisers over one image tensor that never read the device themselves.
//!
//! Reading a value from a GPU must be awaited in the browser, and every read stalls the
//! queue. So an optimiser states which scalars it needs ([`PixelOptimizer::scalars`]), the
//! caller reads them together with the loss terms in one awaited read, and hands the values
//! to [`PixelOptimizer::step`]. Everything else stays on the device: one read per iteration.

use std::cmp::Ordering::Less;
use std::collections::VecDeque;

use burn::tensor::Tensor;

use crate::options::{Optimizer, StyleOptions};

/// Curvature below which an L-BFGS correction pair is skipped.
const MIN_CURVATURE: f32 = 1e-10;
const ADAM_BETAS: (f32, f32) = (0.9, 0.999);
const ADAM_EPSILON: f32 = 1e-8;

fn dot(a: &Tensor<4>, b: &Tensor<4>) -> Tensor<4> {
    (a.clone() * b.clone()).sum().reshape([1, 1, 1, 1])
}

/// An optimiser for the pixels of one scale.
///
/// Besides its own steps it can score a point it did not choose ([`propose`](Self::propose)):
/// the next evaluation is of that point, and the optimiser continues from whichever of the
/// two is better, its own course untouched when the proposal loses.
#[derive(Debug)]
pub struct PixelOptimizer {
    method: Method,
    /// The method as it was before a proposal, with the point it planned to evaluate next
    /// and the loss of the point it planned from: restored if the proposal scores worse.
    before_proposal: Option<(Method, Tensor<4>, f32)>,
    /// The loss of the last point evaluated.
    last_loss: f32,
    options: StyleOptions,
    size: (u32, u32),
}

#[derive(Debug)]
enum Method {
    Lbfgs(Box<Lbfgs>),
    Adam(Box<Adam>),
}

impl Method {
    fn new(options: &StyleOptions, (width, height): (u32, u32)) -> Self {
        match options.optimizer {
            Optimizer::Lbfgs => {
                let pairs = options.lbfgs_pairs(width, height);
                Self::Lbfgs(Box::new(Lbfgs::new(pairs as usize)))
            }
            Optimizer::Adam => Self::Adam(Box::new(Adam::new(options.learning_rate))),
        }
    }
}

impl PixelOptimizer {
    /// Fresh state for the optimiser `options` choose, with its settings, for a `width ×
    /// height` image (L-BFGS keeps [`StyleOptions::lbfgs_pairs`] pairs).
    pub fn new(options: &StyleOptions, width: u32, height: u32) -> Self {
        Self {
            method: Method::new(options, (width, height)),
            before_proposal: None,
            last_loss: f32::INFINITY,
            options: options.clone(),
            size: (width, height),
        }
    }

    /// Scalars (`[1]` tensors) the next [`step`](Self::step) needs read from the device.
    pub fn scalars(&mut self, x: &Tensor<4>, gradient: &Tensor<4>) -> Vec<Tensor<1>> {
        match &mut self.method {
            Method::Lbfgs(o) => o.scalars(x, gradient),
            Method::Adam(_) => Vec::new(),
        }
    }

    /// The next image, given the loss at `x` and the values of [`scalars`](Self::scalars).
    pub fn step(
        &mut self,
        x: Tensor<4>,
        gradient: Tensor<4>,
        loss: f32,
        values: &[f32],
    ) -> Tensor<4> {
        let next = match &mut self.method {
            Method::Lbfgs(o) => o.step(x, gradient, loss, values),
            Method::Adam(o) => o.step(x, gradient),
        };
        let proposal = self.before_proposal.take();
        self.last_loss = loss;
        match proposal {
            // The proposal scored worse than the point the method had planned from: back to
            // the method's own course, as if the proposal had never been made (a NaN is worse).
            Some((method, planned, against)) if loss.partial_cmp(&against) != Some(Less) => {
                self.method = method;
                self.last_loss = against;
                planned
            }
            _ => next,
        }
    }

    /// Makes `proposal` the next point to evaluate instead of `planned` (what
    /// [`step`](Self::step) returned). If it scores better than the last point evaluated, the
    /// optimisation continues from it afresh (no history); otherwise it continues with
    /// `planned`, its state as before.
    pub fn propose(&mut self, planned: Tensor<4>, proposal: Tensor<4>) -> Tensor<4> {
        let fresh = Method::new(&self.options, self.size);
        let method = std::mem::replace(&mut self.method, fresh);
        self.before_proposal = Some((method, planned, self.last_loss));
        proposal
    }
}

#[derive(Debug)]
struct Correction {
    s: Tensor<4>,
    y: Tensor<4>,
    rho: f32,
}

/// A point where the objective was evaluated.
#[derive(Debug, Clone)]
struct Evaluated {
    x: Tensor<4>,
    gradient: Tensor<4>,
    loss: f32,
    /// Largest gradient magnitude, `max |g|`.
    gradient_max: f32,
}

/// Largest change of one pixel (in the `[0, 1]` range) in one step.
const MAX_PIXEL_STEP: f32 = 0.25;
/// A step that raised the loss is retried this much shorter.
const STEP_BACK: f32 = 0.25;
/// A step that lowered it lets the next one grow by this much, up to L-BFGS's full step.
const STEP_GROWTH: f32 = 2.0;
/// Largest pixel change of a steepest-descent step (no curvature known yet).
const GRADIENT_STEP: f32 = 4.0 / 255.0;

/// Limited-memory BFGS (Nocedal 1980) made safe without a line search, which would need
/// extra evaluations and device reads. Each iteration evaluates one trial point:
///
/// - a trial whose loss is not above the last accepted one is accepted, and the step length
///   grows back towards 1;
/// - a trial whose loss rose is rejected: the next trial starts again from the accepted
///   point with the step length quartered (a backtracking line search spread over
///   iterations);
/// - either way, the trial's secant pair `(s, y)` is kept when its curvature `sᵀy` is
///   positive, so a failed step still teaches the curvature along its direction;
/// - with no pair yet, the step follows the gradient and moves the most-changed pixel by
///   `GRADIENT_STEP`; no pixel ever moves by more than `MAX_PIXEL_STEP` in one step.
#[derive(Debug)]
pub struct Lbfgs {
    history: usize,
    corrections: VecDeque<Correction>,
    /// Initial inverse-Hessian scale `sᵀy / yᵀy` of the newest pair.
    gamma: f32,
    /// Multiplier of the next step, in `(0, 1]`.
    step_length: f32,
    /// The last point whose loss did not rise: where the next step starts from.
    accepted: Option<Evaluated>,
    candidate: Option<(Tensor<4>, Tensor<4>)>,
}

impl Lbfgs {
    /// Keeps `history` correction pairs.
    pub fn new(history: usize) -> Self {
        Self {
            history,
            corrections: VecDeque::with_capacity(history),
            gamma: 1.0,
            step_length: 1.0,
            accepted: None,
            candidate: None,
        }
    }

    fn scalars(&mut self, x: &Tensor<4>, g: &Tensor<4>) -> Vec<Tensor<1>> {
        let mut scalars = vec![g.clone().abs().max()];
        if let Some(previous) = &self.accepted {
            let s = x.clone() - previous.x.clone();
            let y = g.clone() - previous.gradient.clone();
            scalars.push(dot(&y, &s).reshape([1]));
            scalars.push(dot(&y, &y).reshape([1]));
            self.candidate = Some((s, y));
        }
        scalars
    }

    fn step(&mut self, x: Tensor<4>, g: Tensor<4>, loss: f32, values: &[f32]) -> Tensor<4> {
        if let (Some((s, y)), [_, ys, yy, ..]) = (self.candidate.take(), values)
            && *ys > MIN_CURVATURE
        {
            if self.corrections.len() == self.history {
                self.corrections.pop_front();
            }
            self.corrections.push_back(Correction {
                s,
                y,
                rho: 1.0 / ys,
            });
            self.gamma = ys / yy;
        }
        let rose = self.accepted.as_ref().is_some_and(|a| loss > a.loss);
        if rose {
            self.step_length *= STEP_BACK;
        } else {
            self.step_length = (self.step_length * STEP_GROWTH).min(1.0);
            self.accepted = Some(Evaluated {
                x,
                gradient: g,
                loss,
                gradient_max: values[0],
            });
        }
        let from = self.accepted.as_ref().expect("a point was accepted");
        let direction = if self.corrections.is_empty() {
            let scale = GRADIENT_STEP / from.gradient_max.max(f32::MIN_POSITIVE);
            from.gradient.clone().mul_scalar(scale)
        } else {
            self.inverse_hessian_times(from.gradient.clone())
        };
        from.x.clone()
            - direction
                .mul_scalar(self.step_length)
                .clamp(-MAX_PIXEL_STEP, MAX_PIXEL_STEP)
    }

    /// Two-loop recursion: H·g, with every coefficient kept on the device.
    fn inverse_hessian_times(&self, g: Tensor<4>) -> Tensor<4> {
        let mut q = g;
        let mut alphas = Vec::with_capacity(self.corrections.len());
        for c in self.corrections.iter().rev() {
            let alpha = dot(&c.s, &q).mul_scalar(c.rho);
            q = q - c.y.clone() * alpha.clone();
            alphas.push(alpha);
        }
        let mut r = q.mul_scalar(self.gamma);
        for (c, alpha) in self.corrections.iter().zip(alphas.into_iter().rev()) {
            let beta = dot(&c.y, &r).mul_scalar(c.rho);
            r = r + c.s.clone() * (alpha - beta);
        }
        r
    }
}

/// Adam (Kingma & Ba 2015) on pixels in `[0, 1]`, clamped to that range after each step.
#[derive(Debug)]
pub struct Adam {
    learning_rate: f32,
    steps: i32,
    moments: Option<(Tensor<4>, Tensor<4>)>,
}

impl Adam {
    /// Adam with the given step size.
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            steps: 0,
            moments: None,
        }
    }

    fn step(&mut self, x: Tensor<4>, g: Tensor<4>) -> Tensor<4> {
        let (b1, b2) = ADAM_BETAS;
        self.steps += 1;
        let (m, v) = match self.moments.take() {
            None => (g.zeros_like(), g.zeros_like()),
            Some(moments) => moments,
        };
        let m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
        let v = v.mul_scalar(b2) + g.square().mul_scalar(1.0 - b2);
        let m_hat = m.clone().div_scalar(1.0 - b1.powi(self.steps));
        let v_hat = v.clone().div_scalar(1.0 - b2.powi(self.steps));
        self.moments = Some((m, v));
        let update = m_hat / v_hat.sqrt().add_scalar(ADAM_EPSILON);
        (x - update.mul_scalar(self.learning_rate)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{cpu, read};
    use burn::tensor::TensorData;

    const A: [f32; 4] = [1.0, 10.0, 100.0, 0.5];
    const C: [f32; 4] = [0.3, 0.7, 0.5, 0.9];

    fn tensor(values: &[f32]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values.to_vec(), [1, 1, 1, 4]), &cpu())
    }

    /// f(x) = ½ Σ aᵢ (xᵢ − cᵢ)², an ill-conditioned quadratic, and its gradient.
    fn quadratic(x: &Tensor<4>) -> (f32, Tensor<4>) {
        let diff = x.clone() - tensor(&C);
        let g = diff.clone() * tensor(&A);
        (read((diff * g.clone()).sum().mul_scalar(0.5))[0], g)
    }

    /// Evaluates `x` and steps, reading values the way the engine does; returns the loss at `x`.
    fn evaluate(opt: &mut PixelOptimizer, x: &mut Tensor<4>) -> f32 {
        let (loss, g) = quadratic(x);
        let values: Vec<f32> = opt.scalars(x, &g).into_iter().flat_map(read).collect();
        *x = opt.step(x.clone(), g, loss, &values);
        loss
    }

    /// Runs `iterations` evaluations from 0 and returns the best point evaluated (what the
    /// engine keeps) as its distance to the minimum, per coordinate.
    fn minimise(options: StyleOptions, iterations: usize) -> Vec<f32> {
        let mut opt = PixelOptimizer::new(&options, 4, 1);
        let mut x = tensor(&[0.0; 4]);
        let mut best = (f32::INFINITY, x.clone());
        for _ in 0..iterations {
            let at = x.clone();
            let loss = evaluate(&mut opt, &mut x);
            if loss <= best.0 {
                best = (loss, at);
            }
        }
        read(best.1)
            .iter()
            .zip(C)
            .map(|(x, c)| (x - c).abs())
            .collect()
    }

    #[test]
    fn lbfgs_solves_an_ill_conditioned_quadratic() {
        let errors = minimise(StyleOptions::default(), 25);
        assert!(errors.iter().all(|e| *e < 1e-3), "{errors:?}");
    }

    #[test]
    fn adam_approaches_the_minimum() {
        let adam = StyleOptions {
            optimizer: Optimizer::Adam,
            learning_rate: 0.05,
            ..Default::default()
        };
        let errors = minimise(adam, 400);
        assert!(errors.iter().all(|e| *e < 0.02), "{errors:?}");
    }

    /// A proposal that scores worse costs one evaluation and nothing else: the points the
    /// optimiser evaluates afterwards are those it would have evaluated without it. One that
    /// scores better is where it continues from.
    #[test]
    fn a_proposal_is_taken_only_when_it_scores_better() {
        let adam = StyleOptions {
            optimizer: Optimizer::Adam,
            learning_rate: 0.05,
            ..Default::default()
        };
        for options in [StyleOptions::default(), adam] {
            let course = |proposal: Option<[f32; 4]>| {
                let mut opt = PixelOptimizer::new(&options, 4, 1);
                let mut x = tensor(&[0.0; 4]);
                let mut losses = Vec::new();
                for i in 0..8 {
                    if let (3, Some(p)) = (i, proposal) {
                        x = opt.propose(x, tensor(&p));
                        let proposed = evaluate(&mut opt, &mut x);
                        assert_eq!(proposed, quadratic(&tensor(&p)).0);
                    }
                    losses.push(evaluate(&mut opt, &mut x));
                }
                losses
            };
            let plain = course(None);
            let worse = course(Some([5.0, -5.0, 5.0, -5.0]));
            assert_eq!(plain, worse, "{:?}", options.optimizer);
            // The minimum itself: every later point stays there (its gradient is zero).
            let better = course(Some(C));
            assert_eq!(better[..3], plain[..3]);
            assert!(better[3..].iter().all(|&l| l < 1e-9), "{better:?}");
        }
    }
}
