namespace MLNetRetrieval.IO;

/// <summary>
/// A set of dense float vectors read from a file, with optional ids and labels per vector.
/// </summary>
/// <remarks>
/// <see cref="Values"/> stores the vectors row-major: vector <c>i</c> occupies
/// <c>Values[i * Dimension .. (i + 1) * Dimension]</c>, so the array has size <c>Count * Dimension</c>.
/// </remarks>
public sealed class VectorSet
{
    /// <summary>
    /// Creates a vector set and checks that the array sizes agree.
    /// </summary>
    /// <param name="values">Vector components, row-major, size <paramref name="count"/> * <paramref name="dimension"/>.</param>
    /// <param name="count">Number of vectors, zero or more.</param>
    /// <param name="dimension">Number of components per vector, at least 1.</param>
    /// <param name="ids">Optional id per vector, size <paramref name="count"/>.</param>
    /// <param name="labels">Optional label per vector, size <paramref name="count"/>.</param>
    /// <param name="source">File path or other description of where the vectors came from.</param>
    /// <exception cref="ArgumentException">A size does not match <paramref name="count"/> and <paramref name="dimension"/>.</exception>
    public VectorSet(float[] values, int count, int dimension, long[]? ids = null, string[]? labels = null, string source = "")
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);

        long expectedLength = checked((long)count * dimension);
        if (values.LongLength != expectedLength)
        {
            throw new ArgumentException(
                $"values has {values.LongLength} elements, but count * dimension = {count} * {dimension} = {expectedLength}. Pass an array of exactly that size.",
                nameof(values));
        }

        if (ids is not null && ids.Length != count)
        {
            throw new ArgumentException($"ids has {ids.Length} elements, but count is {count}. Pass one id per vector.", nameof(ids));
        }

        if (labels is not null && labels.Length != count)
        {
            throw new ArgumentException($"labels has {labels.Length} elements, but count is {count}. Pass one label per vector.", nameof(labels));
        }

        Values = values;
        Count = count;
        Dimension = dimension;
        Ids = ids;
        Labels = labels;
        Source = source;
    }

    /// <summary>Vector components, row-major, size <see cref="Count"/> * <see cref="Dimension"/>.</summary>
    public float[] Values { get; }

    /// <summary>Number of vectors.</summary>
    public int Count { get; }

    /// <summary>Number of components per vector.</summary>
    public int Dimension { get; }

    /// <summary>Id per vector, size <see cref="Count"/>, or <see langword="null"/> when the file has none.</summary>
    /// <remarks>Readers guarantee that ids are non-negative and unique.</remarks>
    public long[]? Ids { get; }

    /// <summary>Label per vector, size <see cref="Count"/>, or <see langword="null"/> when the file has none.</summary>
    /// <remarks>Numeric labels (IDX, NumPy) are stored in invariant-culture text form, for example "9".</remarks>
    public string[]? Labels { get; }

    /// <summary>Path of the file the vectors were read from, or another description of their origin.</summary>
    public string Source { get; }

    /// <summary>
    /// Returns vector <paramref name="index"/> as a span over <see cref="Values"/>.
    /// </summary>
    /// <param name="index">Row index in [0, <see cref="Count"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="Count"/>).</exception>
    public ReadOnlySpan<float> GetVector(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ReadOnlySpan<float>(Values, index * Dimension, Dimension);
    }
}
