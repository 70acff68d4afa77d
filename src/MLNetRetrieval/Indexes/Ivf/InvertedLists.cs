namespace MLNetRetrieval.Indexes;

/// <summary>
/// The inverted lists of an IVF index: per coarse list, the ids of its entries in insertion order and, per
/// entry, an optional vector (<c>vectorLength</c> floats) and an optional code (<c>codeSize</c> bytes).
/// </summary>
/// <remarks>
/// Removal shifts the later entries of a list down, so a list stays in insertion order and a search visits
/// its entries in the same order whatever was removed before. An id-to-location map makes <c>Remove</c> and
/// lookups O(1) plus the shift.
/// </remarks>
internal sealed class InvertedLists
{
    private readonly long[][] _ids;
    private readonly float[][] _vectors;
    private readonly byte[][] _codes;
    private readonly int[] _sizes;
    private readonly int[] _versions;
    private readonly Dictionary<long, (int List, int Position)> _locations = new();

    /// <summary>Creates <paramref name="listCount"/> empty lists.</summary>
    public InvertedLists(int listCount, int vectorLength, int codeSize)
    {
        ListCount = listCount;
        VectorLength = vectorLength;
        CodeSize = codeSize;
        _ids = new long[listCount][];
        _vectors = new float[listCount][];
        _codes = new byte[listCount][];
        _sizes = new int[listCount];
        _versions = new int[listCount];
        for (int list = 0; list < listCount; list++)
        {
            _ids[list] = Array.Empty<long>();
            _vectors[list] = Array.Empty<float>();
            _codes[list] = Array.Empty<byte>();
        }
    }

    public int ListCount { get; }

    /// <summary>Floats stored per entry; 0 when entries have no vector.</summary>
    public int VectorLength { get; }

    /// <summary>Bytes stored per entry; 0 when entries have no code.</summary>
    public int CodeSize { get; }

    /// <summary>Entries over all lists.</summary>
    public int Count { get; private set; }

    /// <summary>Largest id ever stored plus one, or 0; the first id that <c>Add</c> without ids generates.</summary>
    public long NextId { get; private set; }

    public int Size(int list) => _sizes[list];

    /// <summary>Change counter of all lists together, for caches derived from them.</summary>
    public long TotalVersion { get; private set; }

    /// <summary>Change counter of one list, for caches derived from it.</summary>
    public int Version(int list) => _versions[list];

    public ReadOnlySpan<long> Ids(int list) => _ids[list].AsSpan(0, _sizes[list]);

    /// <summary>Vectors of one list, row-major, size Size(list) × VectorLength.</summary>
    public ReadOnlySpan<float> Vectors(int list) => _vectors[list].AsSpan(0, _sizes[list] * VectorLength);

    /// <summary>Codes of one list, size Size(list) × CodeSize.</summary>
    public ReadOnlySpan<byte> Codes(int list) => _codes[list].AsSpan(0, _sizes[list] * CodeSize);

    public bool Contains(long id) => _locations.ContainsKey(id);

    public bool TryGetLocation(long id, out int list, out int position)
    {
        bool found = _locations.TryGetValue(id, out var location);
        (list, position) = location;
        return found;
    }

    /// <summary>Appends one entry at the end of <paramref name="list"/>; the caller has checked the id.</summary>
    public void Append(int list, long id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> code)
    {
        int size = _sizes[list];
        if (size == _ids[list].Length)
        {
            int capacity = Math.Max(8, checked(size * 2));
            Array.Resize(ref _ids[list], capacity);
            Array.Resize(ref _vectors[list], checked(capacity * VectorLength));
            Array.Resize(ref _codes[list], checked(capacity * CodeSize));
        }

        _ids[list][size] = id;
        vector.CopyTo(_vectors[list].AsSpan(size * VectorLength, VectorLength));
        code.CopyTo(_codes[list].AsSpan(size * CodeSize, CodeSize));
        _locations.Add(id, (list, size));
        _sizes[list] = size + 1;
        _versions[list]++;
        TotalVersion++;
        Count++;
        NextId = Math.Max(NextId, id + 1);
    }

    /// <summary>Replaces the content of <paramref name="list"/>, used by loading; the caller has checked the ids.</summary>
    public void SetList(int list, long[] ids, float[] vectors, byte[] codes)
    {
        _ids[list] = ids;
        _vectors[list] = vectors;
        _codes[list] = codes;
        _sizes[list] = ids.Length;
        _versions[list]++;
        TotalVersion++;
        for (int position = 0; position < ids.Length; position++)
        {
            _locations.Add(ids[position], (list, position));
            NextId = Math.Max(NextId, ids[position] + 1);
        }

        Count += ids.Length;
    }

    /// <summary>Removes every listed id that is stored (others are ignored) and returns how many were removed.</summary>
    public int Remove(ReadOnlySpan<long> ids)
    {
        var doomed = new Dictionary<int, List<int>>();
        foreach (long id in ids)
        {
            if (_locations.Remove(id, out var location))
            {
                if (!doomed.TryGetValue(location.List, out List<int>? positions))
                {
                    positions = new List<int>();
                    doomed.Add(location.List, positions);
                }

                positions.Add(location.Position);
            }
        }

        int removed = 0;
        foreach (var (list, positions) in doomed)
        {
            positions.Sort();
            Compact(list, positions);
            removed += positions.Count;
        }

        Count -= removed;
        return removed;
    }

    /// <summary>Shifts the survivors of <paramref name="list"/> down over the sorted removed positions.</summary>
    private void Compact(int list, List<int> removedPositions)
    {
        long[] ids = _ids[list];
        Span<float> vectors = _vectors[list];
        Span<byte> codes = _codes[list];
        int size = _sizes[list];
        int target = removedPositions[0];
        int next = 0;
        for (int source = target; source < size; source++)
        {
            if (next < removedPositions.Count && removedPositions[next] == source)
            {
                next++;
                continue;
            }

            ids[target] = ids[source];
            vectors.Slice(source * VectorLength, VectorLength).CopyTo(vectors.Slice(target * VectorLength, VectorLength));
            codes.Slice(source * CodeSize, CodeSize).CopyTo(codes.Slice(target * CodeSize, CodeSize));
            _locations[ids[target]] = (list, target);
            target++;
        }

        _sizes[list] = target;
        _versions[list]++;
        TotalVersion++;
    }
}
