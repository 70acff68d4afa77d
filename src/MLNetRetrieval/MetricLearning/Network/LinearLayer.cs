using System.Numerics.Tensors;
using MLNetRetrieval.Kernels;

namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>Initial weight distribution of a <see cref="LinearLayer"/>.</summary>
internal enum WeightInitialization : byte
{
    /// <summary>
    /// Normal with standard deviation √(2 / fanIn), for layers followed by ReLU (He, Zhang, Ren and Sun,
    /// "Delving Deep into Rectifiers", ICCV 2015).
    /// </summary>
    He = 1,

    /// <summary>
    /// Uniform on [−a, a] with a = √(6 / (fanIn + fanOut)), for the output layer (Glorot and Bengio,
    /// "Understanding the difficulty of training deep feedforward neural networks", AISTATS 2010).
    /// </summary>
    Xavier = 2,
}

/// <summary>Fully connected layer y = x·Wᵀ + b, with W stored out × in as in PyTorch's nn.Linear.</summary>
internal sealed class LinearLayer : Layer
{
    private readonly TrainableParameter[] _parameters;

    /// <summary>Creates a layer with initial weights drawn from <paramref name="random"/> and zero bias.</summary>
    public LinearLayer(int inputDimension, int outputDimension, WeightInitialization initialization, Random random, string name)
        : this(inputDimension, outputDimension, name)
    {
        float[] w = Weight.Values;
        if (initialization == WeightInitialization.He)
        {
            double std = Math.Sqrt(2.0 / inputDimension);
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)(std * StandardNormal(random));
            }
        }
        else
        {
            double bound = Math.Sqrt(6.0 / (inputDimension + outputDimension));
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)(((2 * random.NextDouble()) - 1) * bound);
            }
        }
    }

    /// <summary>Creates a layer with zero weights, to be filled by a reader or a copy.</summary>
    public LinearLayer(int inputDimension, int outputDimension, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDimension, 1);
        Weight = new TrainableParameter(name + ".weight", outputDimension, inputDimension);
        Bias = new TrainableParameter(name + ".bias", outputDimension, 1, applyWeightDecay: false);
        _parameters = [Weight, Bias];
    }

    /// <summary>Weights, out × in.</summary>
    public TrainableParameter Weight { get; }

    /// <summary>Bias, one per output.</summary>
    public TrainableParameter Bias { get; }

    public override LayerKind Kind => LayerKind.Linear;

    public override int InputDimension => Weight.Columns;

    public override int OutputDimension => Weight.Rows;

    public override IReadOnlyList<TrainableParameter> Parameters => _parameters;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads)
    {
        int inputs = InputDimension;
        int outputs = OutputDimension;
        Sgemm.Multiply(false, true, rows, outputs, inputs, input, Weight.Values, output, accumulate: false, threads, VectorWidths.Best);
        ReadOnlySpan<float> bias = Bias.Values;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = output.Slice(r * outputs, outputs);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads)
    {
        int inputs = InputDimension;
        int outputs = OutputDimension;

        // dW += dYᵀ·X (out × in) and db += Σ_rows dY.
        Sgemm.Multiply(true, false, outputs, inputs, rows, outputGradient, input, Weight.Gradient, accumulate: true, threads, VectorWidths.Best);
        Span<float> biasGradient = Bias.Gradient;
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(biasGradient, outputGradient.Slice(r * outputs, outputs), biasGradient);
        }

        // dX = dY·W (rows × in).
        if (!inputGradient.IsEmpty)
        {
            Sgemm.Multiply(false, false, rows, inputs, outputs, outputGradient, Weight.Values, inputGradient, accumulate: false, threads, VectorWidths.Best);
        }
    }

    public override Layer Clone()
    {
        var copy = new LinearLayer(InputDimension, OutputDimension, Weight.Name[..^".weight".Length]);
        Weight.Values.CopyTo(copy.Weight.Values, 0);
        Bias.Values.CopyTo(copy.Bias.Values, 0);
        return copy;
    }

    private static double StandardNormal(Random random)
    {
        // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
