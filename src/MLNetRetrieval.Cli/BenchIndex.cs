using MLNetRetrieval.Indexes;
using MLNetRetrieval.IO;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Cli;

/// <summary>One built index of any type behind a common search call.</summary>
internal sealed class BenchIndex
{
    private readonly ExactIndex? _exact;
    private readonly PqIndex? _pq;
    private readonly IvfFlatIndex? _ivfFlat;
    private readonly IvfPqIndex? _ivfPq;
    private readonly HnswIndex? _hnsw;
    private readonly int _rerank;

    private BenchIndex(ExactIndex? exact, PqIndex? pq, IvfFlatIndex? ivfFlat, IvfPqIndex? ivfPq, int rerank, HnswIndex? hnsw = null)
    {
        _hnsw = hnsw;
        _exact = exact;
        _pq = pq;
        _ivfFlat = ivfFlat;
        _ivfPq = ivfPq;
        _rerank = rerank;
    }

    public bool HasProbes => _ivfFlat is not null || _ivfPq is not null;

    /// <summary>Whether the sweep value is efSearch (an HNSW graph) rather than nprobe.</summary>
    public bool HasEf => _hnsw is not null;

    /// <summary>Whether both nprobe and the efSearch of the centroid graph are swept (ivf-hnsw-pq).</summary>
    public bool HasCoarseEf => _ivfPq is { CoarseSearch: CoarseSearch.Hnsw };

    /// <summary>The IVF-PQ index, for the coarse-assignment check and the size breakdown; null for other types.</summary>
    public IvfPqIndex? IvfPq => _ivfPq;

    /// <summary>Seconds spent in Train (ivf-hnsw-pq: k-means, the centroid graph and the PQ), 0 when not timed.</summary>
    public double TrainSeconds { get; private init; }

    /// <summary>Seconds spent in Add (ivf-hnsw-pq: graph assignment and encoding), 0 when not timed.</summary>
    public double AddSeconds { get; private init; }

    /// <summary>Candidates re-ranked by exact distance when the index stores vectors for that; 0 otherwise.</summary>
    public int Rerank => _rerank;

    /// <summary>
    /// Trains and fills an index of <paramref name="type"/>; an HNSW graph is built with <paramref name="hnsw"/> on
    /// <paramref name="threads"/> insertion threads, and ivf-hnsw-pq uses <paramref name="hnsw"/>'s M and efSearch for its centroid graph.
    /// Lloyd iterations of the coarse and PQ k-means are <paramref name="iterations"/>, or the <see cref="KMeansOptions"/>
    /// default when null, and both are seeded by <paramref name="initialization"/>.
    /// </summary>
    public static BenchIndex Build(IndexType type, VectorSet data, CompressionSettings settings, HnswSettings hnsw, int threads, int? iterations,
        KMeansInitialization initialization, CancellationToken token)
    {
        int d = data.Dimension;
        var kmeans = new KMeansOptions { Seed = settings.Seed ?? 1, Threads = threads, CancellationToken = token, Initialization = initialization };
        if (iterations is { } count)
            kmeans.MaxIterations = count;
        float[] sample = Sample(data, settings.TrainSample, settings.Seed ?? 1);
        try
        {
            switch (type)
            {
                case IndexType.Pq:
                    var pq = new PqIndex(d, settings.Subquantizers, settings.Bits);
                    pq.Train(sample, kmeans);
                    pq.Add(data.Values);
                    return new BenchIndex(null, pq, null, null, 0);
                case IndexType.IvfFlat:
                    var flat = new IvfFlatIndex(d, settings.Lists);
                    flat.Train(sample, kmeans);
                    flat.Add(data.Values);
                    return new BenchIndex(null, null, flat, null, 0);
                case IndexType.IvfPq:
                    var ivfPq = new IvfPqIndex(d, settings.Lists, settings.Subquantizers, settings.Bits, encodeResiduals: true, storeVectorsForReranking: settings.Rerank > 0);
                    ivfPq.Train(sample, kmeans);
                    ivfPq.Add(data.Values);
                    return new BenchIndex(null, null, null, ivfPq, settings.Rerank);
                case IndexType.IvfHnswPq:
                    // Training builds the centroid graph and assigns the training vectors through it; Add assigns the base through it too.
                    var ivfHnswPq = new IvfPqIndex(d, settings.Lists, settings.Subquantizers, settings.Bits, encodeResiduals: true, storeVectorsForReranking: settings.Rerank > 0)
                    {
                        CoarseSearch = CoarseSearch.Hnsw,
                        CoarseConnectivity = hnsw.Connectivity,
                        CoarseEfSearch = hnsw.EfSearch,
                    };
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    ivfHnswPq.Train(sample, kmeans);
                    double trainSeconds = clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    ivfHnswPq.Add(data.Values);
                    return new BenchIndex(null, null, null, ivfHnswPq, settings.Rerank) { TrainSeconds = trainSeconds, AddSeconds = clock.Elapsed.TotalSeconds };
                case IndexType.Hnsw:
                    // efSearch is set per query from the sweep, so the stored default does not matter here.
                    var graph = new HnswIndex(d, DistanceMetric.SquaredEuclidean, new HnswOptions
                    {
                        Connectivity = hnsw.Connectivity,
                        EfConstruction = hnsw.EfConstruction,
                        Seed = unchecked((ulong)(settings.Seed ?? 1)),
                    });
                    graph.Add(data.Values, threads);
                    return new BenchIndex(null, null, null, null, 0, graph);
                default:
                    var exact = new ExactIndex(d, DistanceMetric.SquaredEuclidean);
                    exact.Add(data.Values);
                    return new BenchIndex(exact, null, null, null, 0);
            }
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--types {IndexTypeOptions.TypeName(type)}: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
    }

    public long SerializedBytes()
    {
        var counter = new CountingStream();
        if (_exact is not null) _exact.Save(counter);
        else if (_pq is not null) _pq.Save(counter);
        else if (_ivfFlat is not null) _ivfFlat.Save(counter);
        else if (_hnsw is not null) _hnsw.Save(counter);
        else _ivfPq!.Save(counter);
        return counter.Length;
    }

    /// <summary>
    /// Searches with <paramref name="sweepValue"/> as nprobe (IVF types) or efSearch (HNSW); other types ignore it. The
    /// efSearch of an IVF-PQ centroid graph is set beforehand through <see cref="IvfPqIndex.CoarseEfSearch"/>.
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, int sweepValue, int rerank, int threads, CancellationToken token)
    {
        int probes = sweepValue;
        if (_hnsw is not null)
            _hnsw.Search(queries, k, ids, distances, new HnswSearchParameters { Threads = threads, CancellationToken = token, EfSearch = sweepValue });
        else if (_exact is not null)
            _exact.Search(queries, k, ids, distances, new SearchParameters { Threads = threads, CancellationToken = token });
        else if (_pq is not null)
            _pq.Search(queries, k, ids, distances, new SearchParameters { Threads = threads, CancellationToken = token });
        else
        {
            var parameters = new IvfSearchParameters { Threads = threads, CancellationToken = token, NumberOfProbes = probes, RerankCount = rerank };
            if (_ivfFlat is not null)
                _ivfFlat.Search(queries, k, ids, distances, parameters);
            else
                _ivfPq!.Search(queries, k, ids, distances, parameters);
        }
    }

    /// <summary>Returns a seeded uniform sample of <paramref name="size"/> rows in file order, or every row.</summary>
    private static float[] Sample(VectorSet data, int size, int seed)
    {
        if (size == 0 || size >= data.Count)
            return data.Values;
        int d = data.Dimension;
        var random = new Random(seed);
        int[] rows = Enumerable.Range(0, data.Count).ToArray();
        for (int i = 0; i < size; i++)
        {
            int j = random.Next(i, data.Count);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }

        Array.Sort(rows, 0, size);
        var sample = new float[checked(size * d)];
        for (int i = 0; i < size; i++)
            data.GetVector(rows[i]).CopyTo(sample.AsSpan(i * d, d));
        return sample;
    }
}

/// <summary>A write-only stream that counts bytes, to measure a serialized index without keeping it.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => _length += count;

    public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;

    public override void WriteByte(byte value) => _length++;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
