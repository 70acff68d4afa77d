using System.Text;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Shared part of the IVF adapters: IVF indexes store vectors list by list, so the adapter keeps the
/// collection's ids in insertion order to give rows (and with them labels) a stable meaning.
/// </summary>
/// <remarks>
/// Saved layout, little-endian, before the index's own file:
/// <code>
/// "IVAD" (4 bytes) | u8 version (1) | i32 rerankCount | u8 idsAreRowNumbers | [i32 count | count × i64 ids] | index bytes
/// </code>
/// When the ids are the row numbers 0..n−1 (no id column), the id array is left out.
/// </remarks>
internal abstract class IvfIndexAdapter : INeighborIndex
{
    private const string Magic = "IVAD";
    private const byte Version = 1;

    private readonly long[]? _ids;
    private readonly Dictionary<long, int>? _rowById;
    private readonly int _count;

    protected IvfIndexAdapter(long[]? ids, int count, int rerankCount)
    {
        _ids = ids;
        _count = count;
        RerankCount = rerankCount;
        if (ids is not null)
        {
            _rowById = new Dictionary<long, int>(ids.Length);
            for (int i = 0; i < ids.Length; i++)
                _rowById.Add(ids[i], i);
        }
    }

    public abstract string Kind { get; }

    /// <summary>IVF indexes rank by squared Euclidean distance only.</summary>
    public Indexes.DistanceMetric Metric => Indexes.DistanceMetric.SquaredEuclidean;

    public abstract int Dimension { get; }

    public int Count => _count;

    public bool SupportsProbes => true;

    public abstract int NumberOfProbes { get; set; }

    /// <summary>Candidates re-ranked by exact distance (IVF-PQ with stored vectors), or 0.</summary>
    public int RerankCount { get; }

    public long GetId(int row)
    {
        if ((uint)row >= (uint)_count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {_count - 1}].");
        return _ids is null ? row : _ids[row];
    }

    public bool TryGetRow(long id, out int row)
    {
        if (_rowById is not null)
            return _rowById.TryGetValue(id, out row);
        row = id >= 0 && id < _count ? (int)id : -1;
        return row >= 0;
    }

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, CancellationToken cancellationToken)
    {
        var parameters = new IvfSearchParameters
        {
            Threads = threads,
            ExcludedIds = excludedIds.IsEmpty ? ReadOnlyMemory<long>.Empty : excludedIds.ToArray(),
            CancellationToken = cancellationToken,
            NumberOfProbes = numberOfProbes,
            RerankCount = RerankCount,
        };
        SearchIndex(queries, k, ids, distances, parameters);
    }

    public void Save(Stream stream)
    {
        using (var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            writer.Write(RerankCount);
            writer.Write((byte)(_ids is null ? 1 : 0));
            if (_ids is not null)
            {
                writer.Write(_ids.Length);
                foreach (long id in _ids)
                    writer.Write(id);
            }
        }

        SaveIndex(stream);
    }

    /// <summary>Reads the adapter prefix; the index's own file follows in <paramref name="stream"/>.</summary>
    protected static (long[]? Ids, int RerankCount) ReadPrefix(Stream stream, string kind)
    {
        using var reader = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        try
        {
            string magic = Encoding.ASCII.GetString(reader.ReadBytes(4));
            if (magic != Magic)
                throw Corrupt(kind, $"the adapter header is '{magic}', expected '{Magic}'");
            byte version = reader.ReadByte();
            if (version != Version)
                throw new InvalidDataException($"The model's {kind} index adapter has version {version}; this MLNetRetrieval reads version {Version}. Upgrade MLNetRetrieval.");
            int rerankCount = reader.ReadInt32();
            if (rerankCount < 0)
                throw Corrupt(kind, $"rerankCount is {rerankCount}");
            byte rowNumbers = reader.ReadByte();
            if (rowNumbers > 1)
                throw Corrupt(kind, $"idsAreRowNumbers is {rowNumbers}, expected 0 or 1");
            if (rowNumbers == 1)
                return (null, rerankCount);

            int count = reader.ReadInt32();
            if (count < 0 || count > (stream.Length - stream.Position) / sizeof(long))
                throw Corrupt(kind, $"id count {count} does not fit in the remaining {stream.Length - stream.Position} bytes");
            var ids = new long[count];
            for (int i = 0; i < count; i++)
                ids[i] = reader.ReadInt64();
            return (ids, rerankCount);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(kind, "the data ends early");
        }
    }

    /// <summary>Checks that the stored ids match the loaded index; returns the row count.</summary>
    protected static int CheckCount(string kind, long[]? ids, int indexCount)
    {
        if (ids is not null && ids.Length != indexCount)
            throw Corrupt(kind, $"{ids.Length} ids stored for {indexCount} indexed vectors");
        return indexCount;
    }

    protected abstract void SearchIndex(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters parameters);

    protected abstract void SaveIndex(Stream stream);

    private static InvalidDataException Corrupt(string kind, string detail) =>
        new($"The model's {kind} index is invalid: {detail}. The model file is damaged or was not written by MLNetRetrieval.");
}

/// <summary>Exposes an <see cref="IvfFlatIndex"/> to the ML.NET layer.</summary>
internal sealed class IvfFlatIndexAdapter : IvfIndexAdapter
{
    public const string KindCode = "IVFF";

    public IvfFlatIndexAdapter(IvfFlatIndex index, long[]? ids)
        : base(ids, CheckCount(KindCode, ids, index.Count), rerankCount: 0) => Index = index;

    public IvfFlatIndex Index { get; }

    public override string Kind => KindCode;

    public override int Dimension => Index.Dimension;

    public override int NumberOfProbes
    {
        get => Index.DefaultNumberOfProbes;
        set => Index.DefaultNumberOfProbes = value;
    }

    public static IvfFlatIndexAdapter Load(Stream stream)
    {
        (long[]? ids, _) = ReadPrefix(stream, KindCode);
        return new IvfFlatIndexAdapter(IvfFlatIndex.Load(stream), ids);
    }

    protected override void SearchIndex(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters parameters) =>
        Index.Search(queries, k, ids, distances, parameters);

    protected override void SaveIndex(Stream stream) => Index.Save(stream);
}

/// <summary>Exposes an <see cref="IvfPqIndex"/> to the ML.NET layer.</summary>
internal sealed class IvfPqIndexAdapter : IvfIndexAdapter
{
    public const string KindCode = "IVPQ";

    public IvfPqIndexAdapter(IvfPqIndex index, long[]? ids, int rerankCount)
        : base(ids, CheckCount(KindCode, ids, index.Count), rerankCount)
    {
        if (rerankCount > 0 && !index.StoreVectorsForReranking)
            throw new InvalidDataException($"The model's {KindCode} index asks to re-rank {rerankCount} candidates but stores no raw vectors. The model file is damaged.");
        Index = index;
    }

    public IvfPqIndex Index { get; }

    public override string Kind => KindCode;

    public override int Dimension => Index.Dimension;

    public override int NumberOfProbes
    {
        get => Index.DefaultNumberOfProbes;
        set => Index.DefaultNumberOfProbes = value;
    }

    public static IvfPqIndexAdapter Load(Stream stream)
    {
        (long[]? ids, int rerankCount) = ReadPrefix(stream, KindCode);
        return new IvfPqIndexAdapter(IvfPqIndex.Load(stream), ids, rerankCount);
    }

    protected override void SearchIndex(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances, IvfSearchParameters parameters) =>
        Index.Search(queries, k, ids, distances, parameters);

    protected override void SaveIndex(Stream stream) => Index.Save(stream);
}
