namespace MLNetRetrieval.MetricLearning.Network;

/// <summary>
/// Inverted dropout: in training mode each value is zeroed with probability <see cref="Rate"/> and the
/// others are scaled by 1 / (1 − rate), so inference mode is the identity.
/// </summary>
internal sealed class DropoutLayer : Layer
{
    private readonly int _dimension;
    private Random _random;

    // Mask of the last training forward pass: 0 or 1 / (1 − rate) per value.
    private float[] _mask = [];

    /// <summary>Creates a layer whose masks come from a generator seeded with <paramref name="seed"/>.</summary>
    public DropoutLayer(int dimension, float rate, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!(rate >= 0f && rate < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout rate must be in [0, 1).");
        }

        _dimension = dimension;
        Rate = rate;
        _random = new Random(seed);
    }

    /// <summary>Probability of zeroing a value in training mode.</summary>
    public float Rate { get; }

    public override LayerKind Kind => LayerKind.Dropout;

    public override int InputDimension => _dimension;

    public override int OutputDimension => _dimension;

    /// <summary>Restarts the mask sequence, so the next training pass draws the masks of a new layer with this seed.</summary>
    public void Reseed(int seed) => _random = new Random(seed);

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int rows, bool training, int threads)
    {
        int count = rows * _dimension;
        if (!training || Rate == 0f)
        {
            input.Slice(0, count).CopyTo(output);
            if (training)
            {
                EnsureMask(count);
                Array.Fill(_mask, 1f, 0, count);
            }

            return;
        }

        EnsureMask(count);
        float keep = 1f / (1f - Rate);
        for (int i = 0; i < count; i++)
        {
            float mask = _random.NextSingle() < Rate ? 0f : keep;
            _mask[i] = mask;
            output[i] = input[i] * mask;
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rows, int threads)
    {
        if (inputGradient.IsEmpty)
        {
            return;
        }

        int count = rows * _dimension;
        for (int i = 0; i < count; i++)
        {
            inputGradient[i] = outputGradient[i] * _mask[i];
        }
    }

    /// <summary>Returns a layer with the same rate whose masks restart from seed 0; heads drop dropout layers anyway.</summary>
    public override Layer Clone() => new DropoutLayer(_dimension, Rate, 0);

    private void EnsureMask(int count)
    {
        if (_mask.Length < count)
        {
            _mask = new float[count];
        }
    }
}
