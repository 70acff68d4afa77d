using System.Numerics.Tensors;

namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>
/// Scales each row to unit L2 norm: y = x / max(‖x‖, ε), as PyTorch's F.normalize with ε = 1e-12.
/// </summary>
/// <remarks>
/// Gradient for ‖x‖ &gt; ε: dL/dx = (g − y·(y·g)) / ‖x‖, the component of g orthogonal to y scaled by 1/‖x‖.
/// A row with ‖x‖ ≤ ε is scaled by the constant 1/ε, so its gradient is g/ε.
/// </remarks>
internal sealed class L2NormalizeLayer(int dimension) : Layer
{
    /// <summary>Smallest norm divided by, so a zero row stays zero instead of becoming NaN.</summary>
    public const float Epsilon = 1e-12f;

    public override LayerKind Kind => LayerKind.L2Normalize;

    public override int InputDimension => dimension;

    public override int OutputDimension => dimension;

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * dimension, dimension);
            float norm = MathF.Max(TensorPrimitives.Norm(x), Epsilon);
            TensorPrimitives.Multiply(x, 1f / norm, output.Slice(r * dimension, dimension));
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * dimension, dimension);
            ReadOnlySpan<float> y = output.Slice(r * dimension, dimension);
            ReadOnlySpan<float> g = outputGradient.Slice(r * dimension, dimension);
            Span<float> dx = inputGradient.Slice(r * dimension, dimension);
            float norm = TensorPrimitives.Norm(x);
            if (norm <= Epsilon)
            {
                TensorPrimitives.Multiply(g, 1f / Epsilon, dx);
                continue;
            }

            float projection = TensorPrimitives.Dot(y, g);
            float inverse = 1f / norm;
            for (int j = 0; j < dimension; j++)
            {
                dx[j] = (g[j] - (y[j] * projection)) * inverse;
            }
        }
    }

    public override Layer Clone() => new L2NormalizeLayer(dimension);
}
