namespace MLNetRetrieval.MetricLearning;

/// <summary>
/// A matrix of weights that an optimizer updates, with the gradient buffer the backward pass fills.
/// Values and gradients are row-major, <see cref="Rows"/> by <see cref="Columns"/>.
/// </summary>
public sealed class TrainableParameter
{
    /// <summary>Creates a parameter of the given shape with zero values and gradients.</summary>
    /// <param name="name">A name for messages and saved files, such as "layer0.weight".</param>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="columns">Number of columns, at least 1 (1 for a bias vector).</param>
    /// <param name="applyWeightDecay">Whether the optimizer's weight decay applies (false for biases and batch-norm scales).</param>
    public TrainableParameter(string name, int rows, int columns, bool applyWeightDecay = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        Name = name;
        Rows = rows;
        Columns = columns;
        ApplyWeightDecay = applyWeightDecay;
        Values = new float[checked(rows * columns)];
        Gradient = new float[Values.Length];
    }

    /// <summary>The name given at construction.</summary>
    public string Name { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns { get; }

    /// <summary>Whether weight decay applies to this parameter.</summary>
    public bool ApplyWeightDecay { get; }

    /// <summary>The weights, row-major.</summary>
    public float[] Values { get; }

    /// <summary>The gradient of the loss with respect to <see cref="Values"/>; backward passes add to it.</summary>
    public float[] Gradient { get; }

    /// <summary>Sets the gradient to zero before the next backward pass.</summary>
    public void ClearGradient() => Array.Clear(Gradient);
}
