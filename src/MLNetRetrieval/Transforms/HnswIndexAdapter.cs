using System.Text;
using MLNetRetrieval.Indexes;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Exposes an <see cref="HnswIndex"/> to the ML.NET layer. The index has no public row-to-id lookup, so the
/// adapter keeps the collection's ids in insertion order, which gives rows (and with them labels) a stable meaning.
/// </summary>
/// <remarks>
/// Saved layout, little-endian, before the index's own file:
/// <code>
/// "HNAD" (4 bytes) | u8 version (1) | u8 idsAreRowNumbers | [i32 count | count × i64 ids] | index bytes
/// </code>
/// When the ids are the row numbers 0..n−1 (no id column), the id array is left out.
/// </remarks>
internal sealed class HnswIndexAdapter : INeighborIndex
{
    public const string KindCode = "HNSW";

    private const string Magic = "HNAD";
    private const byte Version = 1;

    private readonly long[]? _ids;
    private readonly Dictionary<long, int>? _rowById;

    public HnswIndexAdapter(HnswIndex index, long[]? ids)
    {
        if (ids is not null && ids.Length != index.Count)
            throw Corrupt($"{ids.Length} ids stored for {index.Count} indexed vectors");
        Index = index;
        _ids = ids;
        if (ids is not null)
        {
            _rowById = new Dictionary<long, int>(ids.Length);
            for (int i = 0; i < ids.Length; i++)
            {
                if (!_rowById.TryAdd(ids[i], i))
                    throw Corrupt($"id {ids[i]} is stored for rows {_rowById[ids[i]]} and {i}");
            }
        }
    }

    public HnswIndex Index { get; }

    public string Kind => KindCode;

    public DistanceMetric Metric => Index.Metric;

    public int Dimension => Index.Dimension;

    public int Count => Index.Count;

    public bool SupportsEfSearch => true;

    public int EfSearch
    {
        get => Index.EfSearch;
        set => Index.EfSearch = value;
    }

    public long GetId(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Count - 1}].");
        return _ids is null ? row : _ids[row];
    }

    public bool TryGetRow(long id, out int row)
    {
        if (_rowById is not null)
            return _rowById.TryGetValue(id, out row);
        row = id >= 0 && id < Count ? (int)id : -1;
        return row >= 0;
    }

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, CancellationToken cancellationToken) =>
        Search(queries, k, ids, distances, excludedIds, threads, numberOfProbes, efSearch: 0, cancellationToken);

    public void Search(ReadOnlySpan<float> queries, int k, Span<long> ids, Span<float> distances,
        ReadOnlySpan<long> excludedIds, int threads, int numberOfProbes, int efSearch, CancellationToken cancellationToken)
    {
        NeighborIndexes.CheckNoProbes(KindCode, numberOfProbes);
        var parameters = new HnswSearchParameters
        {
            Threads = threads,
            EfSearch = efSearch,
            ExcludedIds = excludedIds.IsEmpty ? ReadOnlyMemory<long>.Empty : excludedIds.ToArray(),
            CancellationToken = cancellationToken,
        };
        Index.Search(queries, k, ids, distances, parameters);
    }

    public void Save(Stream stream)
    {
        using (var writer = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            writer.Write((byte)(_ids is null ? 1 : 0));
            if (_ids is not null)
            {
                writer.Write(_ids.Length);
                foreach (long id in _ids)
                    writer.Write(id);
            }
        }

        Index.Save(stream);
    }

    public static HnswIndexAdapter Load(Stream stream)
    {
        long[]? ids = ReadIds(stream);
        return new HnswIndexAdapter(HnswIndex.Load(stream), ids);
    }

    private static long[]? ReadIds(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        try
        {
            string magic = Encoding.ASCII.GetString(reader.ReadBytes(4));
            if (magic != Magic)
                throw Corrupt($"the adapter header is '{magic}', expected '{Magic}'");
            byte version = reader.ReadByte();
            if (version != Version)
                throw new InvalidDataException($"The model's {KindCode} index adapter has version {version}; this MLNetRetrieval reads version {Version}. Upgrade MLNetRetrieval.");
            byte rowNumbers = reader.ReadByte();
            if (rowNumbers > 1)
                throw Corrupt($"idsAreRowNumbers is {rowNumbers}, expected 0 or 1");
            if (rowNumbers == 1)
                return null;

            int count = reader.ReadInt32();
            if (count < 0 || count > (stream.Length - stream.Position) / sizeof(long))
                throw Corrupt($"id count {count} does not fit in the remaining {stream.Length - stream.Position} bytes");
            var ids = new long[count];
            for (int i = 0; i < count; i++)
                ids[i] = reader.ReadInt64();
            return ids;
        }
        catch (EndOfStreamException)
        {
            throw Corrupt("the data ends early");
        }
    }

    private static InvalidDataException Corrupt(string detail) =>
        new($"The model's {KindCode} index is invalid: {detail}. The model file is damaged or was not written by MLNetRetrieval.");
}
