namespace MLNetRetrieval.IO;

/// <summary>
/// A set of int32 vectors read from an <c>.ivecs</c> file, typically the ground-truth neighbor ids of each query.
/// </summary>
public sealed class Int32VectorSet
{
    internal Int32VectorSet(int[] values, int count, int dimension, string source)
    {
        Values = values;
        Count = count;
        Dimension = dimension;
        Source = source;
    }

    /// <summary>Components, row-major, size <see cref="Count"/> * <see cref="Dimension"/>.</summary>
    public int[] Values { get; }

    /// <summary>Number of vectors (for ground truth: number of queries).</summary>
    public int Count { get; }

    /// <summary>Number of components per vector (for ground truth: neighbors per query).</summary>
    public int Dimension { get; }

    /// <summary>Path of the file the vectors were read from.</summary>
    public string Source { get; }

    /// <summary>
    /// Returns vector <paramref name="index"/> as a span over <see cref="Values"/>.
    /// </summary>
    /// <param name="index">Row index in [0, <see cref="Count"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public ReadOnlySpan<int> GetVector(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ReadOnlySpan<int>(Values, index * Dimension, Dimension);
    }
}
