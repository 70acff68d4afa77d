using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>Argument checks shared by <see cref="IvfFlatIndex"/> and <see cref="IvfPqIndex"/>.</summary>
internal static class IvfChecks
{
    public static void CheckConstructor(int dimension, int numberOfLists)
    {
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be in [1, {VectorChecks.MaxDimension}].");
        }

        if (numberOfLists < 1 || numberOfLists > MaxLists)
        {
            throw new ArgumentOutOfRangeException(nameof(numberOfLists), numberOfLists, $"The number of lists (nlist) must be in [1, {MaxLists}].");
        }
    }

    /// <summary>Largest nlist accepted by constructors and files.</summary>
    public const int MaxLists = 1 << 24;

    public static void CheckProbes(int numberOfProbes, int numberOfLists, string parameterName)
    {
        if (numberOfProbes < 1 || numberOfProbes > numberOfLists)
        {
            throw new ArgumentOutOfRangeException(parameterName, numberOfProbes, $"The number of probes (nprobe) must be in [1, NumberOfLists = {numberOfLists}].");
        }
    }

    /// <summary>Checks the training set size against nlist and returns its row count.</summary>
    public static int CheckTrainingSet(ReadOnlySpan<float> vectors, int dimension, int numberOfLists)
    {
        int n = VectorChecks.RowCount(vectors, dimension, nameof(vectors));
        if (n < numberOfLists)
        {
            throw new ArgumentException(
                $"IVF training needs at least NumberOfLists ({numberOfLists}) vectors, got {n}. Provide more vectors or lower NumberOfLists.",
                nameof(vectors));
        }

        VectorChecks.EnsureFinite(vectors, dimension, nameof(vectors));
        return n;
    }

    /// <summary>Checks the arguments of an add call and returns the row count.</summary>
    public static int CheckAdd(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids, int dimension, InvertedLists lists)
    {
        int n = VectorChecks.RowCount(vectors, dimension, nameof(vectors));
        if (ids.Length != n)
        {
            throw new ArgumentException($"Expected one id per row ({n} rows), got {ids.Length} ids.", nameof(ids));
        }

        long limit = MaxCount(lists.VectorLength, lists.CodeSize);
        if ((long)lists.Count + n > limit)
        {
            throw new ArgumentException($"Adding {n} rows to {lists.Count} would exceed the maximum of {limit} vectors for this index's entry size.", nameof(vectors));
        }

        VectorChecks.EnsureFinite(vectors, dimension, nameof(vectors));
        var batch = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Id at row {i} of the batch is negative; ids must be >= 0.");
            }

            if (lists.Contains(id))
            {
                throw new ArgumentException($"Id {id} at row {i} of the batch is already stored in the index; ids must be unique.", nameof(ids));
            }

            if (!batch.TryAdd(id, i))
            {
                throw new ArgumentException($"Id {id} appears at batch rows {batch[id]} and {i}; ids must be unique.", nameof(ids));
            }
        }

        return n;
    }

    /// <summary>
    /// Returns the largest number of entries an index may hold: one list may receive them all, and a list's vectors
    /// or codes are one array.
    /// </summary>
    public static long MaxCount(int vectorLength, int codeSize)
    {
        int widest = Math.Max(1, Math.Max(vectorLength, codeSize));
        return Math.Min(int.MaxValue, Array.MaxLength / widest);
    }

    /// <summary>Returns the ids NextId, NextId + 1, … for <paramref name="n"/> rows.</summary>
    public static long[] NextIds(InvertedLists lists, int n)
    {
        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = lists.NextId + i;
        }

        return ids;
    }

    /// <summary>Checks the arguments of a search call and returns the number of probes to use.</summary>
    public static int CheckSearch(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters parameters, int dimension, int numberOfLists, int defaultProbes, out int nq)
    {
        nq = VectorChecks.RowCount(queries, dimension, nameof(queries));
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        }

        long resultLength = (long)nq * k;
        if (ids.Length != resultLength || distances.Length != resultLength)
        {
            throw new ArgumentException($"Expected result buffers of queries × k = {nq} × {k} = {resultLength} elements, got {ids.Length} ids and {distances.Length} distances.", nameof(ids));
        }

        if (parameters.Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.Threads, "IvfSearchParameters.Threads must be 0 (all cores) or positive.");
        }

        int nprobe = parameters.NumberOfProbes == 0 ? defaultProbes : parameters.NumberOfProbes;
        if (nprobe < 1 || nprobe > numberOfLists)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.NumberOfProbes, $"IvfSearchParameters.NumberOfProbes must be 0 (the index default) or in [1, NumberOfLists = {numberOfLists}].");
        }

        if (parameters.RerankCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parameters), parameters.RerankCount, "IvfSearchParameters.RerankCount must be 0 (off) or at least k.");
        }

        ReadOnlySpan<long> excluded = parameters.ExcludedIds.Span;
        if (!excluded.IsEmpty && excluded.Length != nq)
        {
            throw new ArgumentException($"IvfSearchParameters.ExcludedIds must be empty or hold one id per query ({nq}), got {excluded.Length}.", nameof(parameters));
        }

        VectorChecks.EnsureFinite(queries, dimension, nameof(queries));
        parameters.CancellationToken.ThrowIfCancellationRequested();
        return nprobe;
    }

    /// <summary>Returns the number of queries per worker block: all queries split evenly over the threads, at most <paramref name="maxBlock"/>.</summary>
    public static int BlockSize(int nq, int threads, int maxBlock)
    {
        int perThread = (nq + threads - 1) / Math.Max(1, threads);
        return Math.Clamp(perThread, 1, maxBlock);
    }

    /// <summary>Returns the worker count of a search call.</summary>
    public static int Threads(IvfSearchParameters parameters) => ParallelBlocks.Resolve(parameters.Threads);
}
