using System.Numerics.Tensors;

namespace MLNetRetrieval.MetricLearning.Optimization;

/// <summary>Updates parameters from their gradients, one step per batch.</summary>
/// <remarks>
/// Weight decay λ applies only to parameters with <see cref="TrainableParameter.ApplyWeightDecay"/>.
/// With <see cref="WeightDecayMode.L2"/> it is added to the gradient (g + λw) before the update, as in
/// PyTorch's SGD and Adam. With <see cref="WeightDecayMode.Decoupled"/> the weights shrink by lr·λ·w apart
/// from the gradient step (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
/// PyTorch's AdamW). Gradient clipping, when on, rescales all gradients together so their global L2 norm
/// is at most the limit, before weight decay.
/// </remarks>
internal abstract class Optimizer
{
    private readonly TrainableParameter[] _parameters;

    protected Optimizer(IReadOnlyList<TrainableParameter> parameters, float weightDecay, WeightDecayMode weightDecayMode, float maxGradientNorm)
    {
        _parameters = [.. parameters];
        WeightDecay = weightDecay;
        WeightDecayMode = weightDecayMode;
        MaxGradientNorm = maxGradientNorm;
    }

    /// <summary>The parameters updated, in order.</summary>
    public IReadOnlyList<TrainableParameter> Parameters => _parameters;

    /// <summary>λ of the weight decay; 0 turns it off.</summary>
    public float WeightDecay { get; }

    /// <summary>How weight decay enters the update.</summary>
    public WeightDecayMode WeightDecayMode { get; }

    /// <summary>Largest global gradient norm; 0 turns clipping off.</summary>
    public float MaxGradientNorm { get; }

    /// <summary>Creates the optimizer that <paramref name="options"/> selects.</summary>
    public static Optimizer Create(IReadOnlyList<TrainableParameter> parameters, MetricTrainerOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => new SgdOptimizer(parameters, options.Momentum, options.Nesterov, options.WeightDecay, options.WeightDecayMode, options.MaxGradientNorm),
        OptimizerKind.Adam => new AdamOptimizer(parameters, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay, options.WeightDecayMode, options.MaxGradientNorm),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer; use Sgd or Adam."),
    };

    /// <summary>Sets every gradient to zero.</summary>
    public void ClearGradients()
    {
        foreach (TrainableParameter parameter in _parameters)
        {
            parameter.ClearGradient();
        }
    }

    /// <summary>Clips the gradients when asked and updates every parameter with <paramref name="learningRate"/>.</summary>
    public void Step(float learningRate)
    {
        if (MaxGradientNorm > 0f)
        {
            ClipGradients();
        }

        StepCount++;
        for (int i = 0; i < _parameters.Length; i++)
        {
            TrainableParameter parameter = _parameters[i];
            bool decay = parameter.ApplyWeightDecay && WeightDecay > 0f;
            if (decay && WeightDecayMode == WeightDecayMode.L2)
            {
                // g += λ·w
                TensorPrimitives.MultiplyAdd(parameter.Values, WeightDecay, parameter.Gradient, parameter.Gradient);
            }

            if (decay && WeightDecayMode == WeightDecayMode.Decoupled)
            {
                // w −= lr·λ·w, before the gradient step, as AdamW does.
                TensorPrimitives.Multiply(parameter.Values, 1f - (learningRate * WeightDecay), parameter.Values);
            }

            Update(i, parameter, learningRate);
        }
    }

    /// <summary>Number of steps taken, counting the one in progress during <see cref="Update"/>.</summary>
    protected long StepCount { get; private set; }

    /// <summary>Applies the optimizer's rule to one parameter whose gradient is final.</summary>
    protected abstract void Update(int index, TrainableParameter parameter, float learningRate);

    private void ClipGradients()
    {
        double squared = 0;
        foreach (TrainableParameter parameter in _parameters)
        {
            float norm = TensorPrimitives.Norm(parameter.Gradient);
            squared += (double)norm * norm;
        }

        double total = Math.Sqrt(squared);
        if (total <= MaxGradientNorm)
        {
            return;
        }

        float scale = (float)(MaxGradientNorm / (total + 1e-6));
        foreach (TrainableParameter parameter in _parameters)
        {
            TensorPrimitives.Multiply(parameter.Gradient, scale, parameter.Gradient);
        }
    }
}

/// <summary>
/// Stochastic gradient descent with momentum in PyTorch's form: v = μ·v + g, then w −= lr·v, or
/// w −= lr·(g + μ·v) with Nesterov momentum. The first step sets v = g.
/// </summary>
internal sealed class SgdOptimizer : Optimizer
{
    private readonly float[][] _velocity;
    private readonly float _momentum;
    private readonly bool _nesterov;

    public SgdOptimizer(IReadOnlyList<TrainableParameter> parameters, float momentum, bool nesterov, float weightDecay, WeightDecayMode weightDecayMode, float maxGradientNorm)
        : base(parameters, weightDecay, weightDecayMode, maxGradientNorm)
    {
        _momentum = momentum;
        _nesterov = nesterov;
        _velocity = parameters.Select(parameter => new float[parameter.Values.Length]).ToArray();
    }

    protected override void Update(int index, TrainableParameter parameter, float learningRate)
    {
        float[] w = parameter.Values;
        float[] g = parameter.Gradient;
        if (_momentum == 0f)
        {
            TensorPrimitives.MultiplyAdd(g, -learningRate, w, w);
            return;
        }

        float[] v = _velocity[index];
        if (StepCount == 1)
        {
            g.CopyTo(v, 0);
        }
        else
        {
            // v = μ·v + g
            TensorPrimitives.MultiplyAdd(v, _momentum, g, v);
        }

        if (_nesterov)
        {
            // w −= lr·(g + μ·v)
            for (int i = 0; i < w.Length; i++)
            {
                w[i] -= learningRate * (g[i] + (_momentum * v[i]));
            }
        }
        else
        {
            TensorPrimitives.MultiplyAdd(v, -learningRate, w, w);
        }
    }
}

/// <summary>
/// Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) with bias correction:
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², w −= lr·m̂ / (√v̂ + ε).
/// </summary>
internal sealed class AdamOptimizer : Optimizer
{
    private readonly float[][] _first;
    private readonly float[][] _second;
    private readonly float _beta1;
    private readonly float _beta2;
    private readonly float _epsilon;

    public AdamOptimizer(IReadOnlyList<TrainableParameter> parameters, float beta1, float beta2, float epsilon, float weightDecay, WeightDecayMode weightDecayMode, float maxGradientNorm)
        : base(parameters, weightDecay, weightDecayMode, maxGradientNorm)
    {
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _first = parameters.Select(parameter => new float[parameter.Values.Length]).ToArray();
        _second = parameters.Select(parameter => new float[parameter.Values.Length]).ToArray();
    }

    protected override void Update(int index, TrainableParameter parameter, float learningRate)
    {
        float[] w = parameter.Values;
        float[] g = parameter.Gradient;
        float[] m = _first[index];
        float[] v = _second[index];
        float correction1 = (float)(1 - Math.Pow(_beta1, StepCount));
        float correction2 = (float)(1 - Math.Pow(_beta2, StepCount));
        float stepSize = learningRate / correction1;
        float sqrtCorrection2 = MathF.Sqrt(correction2);
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = (_beta1 * m[i]) + ((1 - _beta1) * g[i]);
            v[i] = (_beta2 * v[i]) + ((1 - _beta2) * g[i] * g[i]);
            w[i] -= stepSize * m[i] / ((MathF.Sqrt(v[i]) / sqrtCorrection2) + _epsilon);
        }
    }
}
