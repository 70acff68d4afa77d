using System.Numerics.Tensors;

namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>Rectified linear unit, y = max(x, 0); the gradient at x = 0 is taken as 0.</summary>
internal sealed class ReLULayer(int dimension) : Layer
{
    public override LayerKind Kind => LayerKind.ReLU;

    public override int InputDimension => dimension;

    public override int OutputDimension => dimension;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads) =>
        TensorPrimitives.Max(input.Slice(0, rows * dimension), 0f, output.Slice(0, rows * dimension));

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        int count = rows * dimension;
        for (int i = 0; i < count; i++)
        {
            inputGradient[i] = output[i] > 0f ? outputGradient[i] : 0f;
        }
    }

    public override Layer Clone() => new ReLULayer(dimension);
}
