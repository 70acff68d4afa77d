using MLNetRetrieval.Kernels;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Inverted-file index with uncompressed vectors (FAISS <c>IndexIVFFlat</c>): k-means splits the space into
/// nlist cells, every vector is stored in the list of its nearest centroid, and a search scans only the nprobe
/// lists whose centroids are nearest to the query, computing exact squared Euclidean distances there.
/// </summary>
/// <remarks>
/// <para>Only squared Euclidean distance is supported. Distances are ‖x − y‖², computed as ‖x‖² + ‖y‖² − 2x·y with
/// one fused multiply-add chain per dot product, exactly as <see cref="ExactIndex"/> computes them, so with
/// nprobe = nlist the results equal those of an <see cref="ExactIndex"/> over the same vectors, distances included.
/// Results are best first, ties go to the lower id, and they do not depend on the thread count.</para>
/// <para>A batch search groups its queries by probed list and scores each group against the list with the
/// register-tiled GEMM, so each list is read once per group instead of once per query. A group of fewer than
/// four queries uses a one-query kernel instead.</para>
/// <para>The first search after a change packs the changed lists into the GEMM layout, which keeps a second copy of
/// the vectors in memory (4 bytes per value, plus padding to whole panels of 32 rows with AVX-512).</para>
/// <para>Searches may run concurrently with each other but not with <c>Train</c>, <c>Add</c> or <c>Remove</c>.</para>
/// </remarks>
public sealed partial class IvfFlatIndex
{
    private readonly CoarseQuantizer _coarse;
    private readonly InvertedLists _lists;
    private readonly object _packLock = new();
    private PackedBase?[] _packedLists;
    private int[] _packedVersions;
    private long _packedTotalVersion = -1;
    private VectorWidth _packedWidth;
    private int _defaultNumberOfProbes = 1;

    /// <summary>Creates an empty, untrained index.</summary>
    /// <param name="dimension">Length d of every vector, in [1, 1048576].</param>
    /// <param name="numberOfLists">Number of inverted lists nlist (coarse centroids), in [1, 16777216].</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public IvfFlatIndex(int dimension, int numberOfLists)
    {
        IvfChecks.CheckConstructor(dimension, numberOfLists);
        Dimension = dimension;
        NumberOfLists = numberOfLists;
        _coarse = new CoarseQuantizer(dimension, numberOfLists);
        _lists = new InvertedLists(numberOfLists, dimension, 0);
        _packedLists = new PackedBase?[numberOfLists];
        _packedVersions = new int[numberOfLists];
    }

    /// <summary>Length of every vector.</summary>
    public int Dimension { get; }

    /// <summary>Number of inverted lists nlist.</summary>
    public int NumberOfLists { get; }

    /// <summary>
    /// Lists scanned per query (nprobe) when <see cref="IvfSearchParameters.NumberOfProbes"/> is 0, in [1, nlist].
    /// Default 1. Saved with the index, and may be changed after loading.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside [1, nlist].</exception>
    public int DefaultNumberOfProbes
    {
        get => _defaultNumberOfProbes;
        set
        {
            IvfChecks.CheckProbes(value, NumberOfLists, nameof(value));
            _defaultNumberOfProbes = value;
        }
    }

    /// <summary>Whether the coarse centroids are trained, which <c>Add</c> and <c>Search</c> require.</summary>
    public bool IsTrained => _coarse.IsTrained;

    /// <summary>Number of stored vectors.</summary>
    public int Count => _lists.Count;

    /// <summary>Coarse centroids, row-major, size nlist × d; empty until trained.</summary>
    public ReadOnlySpan<float> Centroids => _coarse.Centroids;

    /// <summary>Register width of the search kernels; tests set a narrower one to cover every code path.</summary>
    internal VectorWidth Width { get; set; } = VectorWidths.Best;

    /// <summary>Trains the coarse centroids by k-means on <paramref name="vectors"/>.</summary>
    /// <param name="vectors">Training vectors, row-major, size n × <see cref="Dimension"/>, n ≥ nlist.</param>
    /// <param name="options">k-means settings; <see cref="KMeansOptions.NumberOfClusters"/> is replaced by nlist.
    /// Null uses the defaults with 10 iterations.</param>
    /// <exception cref="InvalidOperationException">The index contains vectors, whose lists would become invalid.</exception>
    /// <exception cref="ArgumentException">There are fewer vectors than lists, a value is NaN or infinite, or the length
    /// is not a multiple of the dimension.</exception>
    public void Train(ReadOnlySpan<float> vectors, KMeansOptions? options = null)
    {
        if (Count > 0)
        {
            throw new InvalidOperationException($"The index contains {Count} vectors, so it cannot be retrained; create a new index.");
        }

        int n = IvfChecks.CheckTrainingSet(vectors, Dimension, NumberOfLists);
        _coarse.Train(vectors, n, options, Width);
    }

    /// <summary>Adds vectors with the ids NextId, NextId + 1, … in row order, where NextId is one past the largest id ever stored (0 at first).</summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite or the length is not a multiple of the dimension.</exception>
    public void Add(ReadOnlySpan<float> vectors)
    {
        int n = VectorChecks.RowCount(vectors, Dimension, nameof(vectors));
        Add(vectors, IvfChecks.NextIds(_lists, n));
    }

    /// <summary>
    /// Adds vectors with the given ids to the lists of their nearest centroids, in row order. Nothing is added when
    /// any check fails. The assignment runs on all cores.
    /// </summary>
    /// <param name="vectors">Row-major vectors, size n × <see cref="Dimension"/>.</param>
    /// <param name="ids">One id per row, each ≥ 0 and not yet in the index.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">A value is NaN or infinite, the lengths do not match, or an id is negative or duplicated.</exception>
    public void Add(ReadOnlySpan<float> vectors, ReadOnlySpan<long> ids)
    {
        EnsureTrained();
        int n = IvfChecks.CheckAdd(vectors, ids, Dimension, _lists);
        var assignments = new int[n];
        _coarse.Assign(vectors, n, assignments, Width);
        for (int i = 0; i < n; i++)
        {
            _lists.Append(assignments[i], ids[i], vectors.Slice(i * Dimension, Dimension), ReadOnlySpan<byte>.Empty);
        }
    }

    /// <summary>Removes the vector with <paramref name="id"/>; returns whether it was stored.</summary>
    public bool Remove(long id) => _lists.Remove(new[] { id }) == 1;

    /// <summary>Removes every stored vector whose id is listed, ignoring ids that are not stored; returns how many were removed.</summary>
    public int Remove(ReadOnlySpan<long> ids) => _lists.Remove(ids);

    /// <summary>Returns whether a vector with <paramref name="id"/> is stored.</summary>
    public bool Contains(long id) => _lists.Contains(id);

    /// <summary>Finds the list that stores <paramref name="id"/>.</summary>
    public bool TryGetList(long id, out int list) => _lists.TryGetLocation(id, out list, out _);

    /// <summary>Copies the stored vector of <paramref name="id"/> into <paramref name="destination"/> (d floats); returns false when the id is not stored.</summary>
    /// <exception cref="ArgumentException">The destination length is not the dimension.</exception>
    public bool TryGetVector(long id, Span<float> destination)
    {
        if (destination.Length != Dimension)
        {
            throw new ArgumentException($"Expected a destination of Dimension = {Dimension} floats, got {destination.Length}.", nameof(destination));
        }

        if (!_lists.TryGetLocation(id, out int list, out int position))
        {
            return false;
        }

        _lists.Vectors(list).Slice(position * Dimension, Dimension).CopyTo(destination);
        return true;
    }

    /// <summary>Returns the number of vectors in <paramref name="list"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The list is outside [0, nlist).</exception>
    public int GetListSize(int list)
    {
        if ((uint)list >= (uint)NumberOfLists)
        {
            throw new ArgumentOutOfRangeException(nameof(list), list, $"List must be in [0, {NumberOfLists - 1}].");
        }

        return _lists.Size(list);
    }

    /// <summary>Finds the <paramref name="k"/> stored vectors nearest to each query among the nprobe lists nearest to it.</summary>
    /// <param name="queries">Row-major queries, size nq × <see cref="Dimension"/>.</param>
    /// <param name="k">Neighbors per query, ≥ 1. Slots beyond the vectors in the probed lists get id −1 and distance +∞.</param>
    /// <param name="ids">Output ids, size nq × k, best first per query.</param>
    /// <param name="distances">Output squared Euclidean distances, size nq × k.</param>
    /// <param name="parameters">Probes, threads, excluded ids, cancellation and progress; null uses the defaults.</param>
    /// <exception cref="InvalidOperationException">The index is not trained.</exception>
    /// <exception cref="ArgumentException">Shapes do not match, a query value is NaN or infinite, or the number of probes is outside [1, nlist].</exception>
    /// <exception cref="OperationCanceledException">The token was canceled.</exception>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters? parameters = null)
    {
        EnsureTrained();
        parameters ??= new IvfSearchParameters();
        int nprobe = IvfChecks.CheckSearch(queries, k, ids, distances, parameters, Dimension, NumberOfLists, DefaultNumberOfProbes, out int nq);
        var job = new SearchJob(this, queries.ToArray(), nq, k, nprobe, parameters);
        job.Run();
        job.ResultIds.CopyTo(ids);
        job.ResultDistances.CopyTo(distances);
    }

    private void EnsureTrained()
    {
        if (!IsTrained)
        {
            throw new InvalidOperationException("The IVF-Flat index is not trained; call Train with representative vectors first.");
        }
    }

    /// <summary>
    /// Returns every list packed for the GEMM at the current width, repacking the lists changed since the last call.
    /// The array is not changed again before the next <c>Add</c> or <c>Remove</c>, which may not overlap a search.
    /// </summary>
    private PackedBase?[] GetPackedLists()
    {
        lock (_packLock)
        {
            if (_packedTotalVersion == _lists.TotalVersion && _packedWidth == Width)
            {
                return _packedLists;
            }

            for (int list = 0; list < NumberOfLists; list++)
            {
                PackedBase? packed = _packedLists[list];
                int size = _lists.Size(list);
                bool stale = packed is null || packed.Width != Width || _packedVersions[list] != _lists.Version(list);
                if (size == 0)
                {
                    _packedLists[list] = null;
                }
                else if (stale)
                {
                    _packedLists[list] = PackedBase.Create(_lists.Vectors(list), size, Dimension, addSquaredNorms: true, Width);
                }

                _packedVersions[list] = _lists.Version(list);
            }

            _packedTotalVersion = _lists.TotalVersion;
            _packedWidth = Width;
            return _packedLists;
        }
    }
}
