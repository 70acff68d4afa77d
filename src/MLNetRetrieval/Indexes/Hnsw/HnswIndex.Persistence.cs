using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.Indexes;

// Saved layout of HnswIndex (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRHNSW" | writtenVersion | minReaderVersion
//   "META"  i32 dimension | u8 metric (DistanceMetric value) | i32 connectivity M | i32 efConstruction
//           | i32 efSearch | u8 keepPrunedConnections (0 or 1) | u64 seed | u64 level generator state
//           | i64 count | i32 entry point row (−1 when empty) | i32 max level (−1 when empty)
//   "IDS "  count × i64 id, in row order
//   "VECS"  count × dimension × f32, row-major; unit-length rows under Cosine
//   "LEVL"  count × u8 level
//   "DELE"  count × u8 deleted flag (0 or 1)
//   "PRNT"  count × i32 parent row on layer 0 (−1 for none)
//   "LNK0"  count × (2M + 1) × i32: per row the link count, then 2M slots; unused slots are 0
//   "LNKU"  Σ level × (M + 1) × i32: per row in row order, for layers 1 … level, the count and M slots
//   "CRC "  u32 CRC-32 of every preceding byte
// The upper-layer offsets and the child counts are recomputed on load.
// Version history:
//   1  first layout.
public sealed partial class HnswIndex
{
    private const string Signature = "MLNRHNSW";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;
    private const int MetaLength = (4 * sizeof(int)) + (2 * sizeof(byte)) + (2 * sizeof(ulong)) + sizeof(long) + (2 * sizeof(int));

    /// <summary>
    /// Writes the index in the versioned binary format (little-endian, CRC-32 checked). The stream is left open
    /// and need not be seekable. Saving the same index twice gives identical bytes.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        writer.BeginSection("META", MetaLength);
        writer.WriteInt32(Dimension);
        writer.WriteByte((byte)Metric);
        writer.WriteInt32(_m);
        writer.WriteInt32(EfConstruction);
        writer.WriteInt32(EfSearch);
        writer.WriteByte(KeepPrunedConnections ? (byte)1 : (byte)0);
        writer.WriteInt64((long)Seed);
        writer.WriteInt64((long)_randomState);
        writer.WriteInt64(Count);
        writer.WriteInt32(_entryPoint);
        writer.WriteInt32(_maxLevel);
        writer.EndSection();

        writer.BeginSection("IDS ", checked((long)Count * sizeof(long)));
        writer.WriteInt64s(_ids.AsSpan(0, Count));
        writer.EndSection();

        writer.BeginSection("VECS", checked((long)Count * Dimension * sizeof(float)));
        writer.WriteSingles(_vectors.AsSpan(0, Count * Dimension));
        writer.EndSection();

        writer.BeginSection("LEVL", Count);
        writer.WriteBytes(_levels.AsSpan(0, Count));
        writer.EndSection();

        writer.BeginSection("DELE", Count);
        writer.WriteBytes(MemoryMarshal.AsBytes(_deleted.AsSpan(0, Count)));
        writer.EndSection();

        WriteInt32Section(writer, "PRNT", _parents.AsSpan(0, Count));
        WriteInt32Section(writer, "LNK0", _links0.AsSpan(0, checked(Count * _layer0Stride)));
        WriteInt32Section(writer, "LNKU", _upperLinks.AsSpan(0, _upperUsed));
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an HNSW index; the message names
    /// the field and byte offset.</exception>
    public static HnswIndex Load(Stream stream) => Load(stream, "HNSW index stream");

    /// <summary>Reads an index written by <see cref="Save"/>, naming <paramref name="source"/> in errors.</summary>
    internal static HnswIndex Load(Stream stream, string source)
    {
        var reader = BinaryFormatReader.Open(stream, source);
        reader.ReadHeader(Signature, FormatVersion);

        reader.BeginSection("META");
        long offset = reader.Offset;
        int dimension = reader.ReadInt32("dimension");
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw reader.Error("dimension", offset, $"{dimension} is outside [1, {VectorChecks.MaxDimension}]");
        }

        offset = reader.Offset;
        byte metricByte = reader.ReadByte("metric");
        var metric = (DistanceMetric)metricByte;
        if (!Enum.IsDefined(metric))
        {
            throw reader.Error("metric", offset, $"{metricByte} is not a DistanceMetric (0 SquaredEuclidean, 1 InnerProduct, 2 Cosine)");
        }

        offset = reader.Offset;
        int m = reader.ReadInt32("connectivity");
        if (m < 2 || m > HnswOptions.MaxConnectivity)
        {
            throw reader.Error("connectivity", offset, $"{m} is outside [2, {HnswOptions.MaxConnectivity}]");
        }

        offset = reader.Offset;
        int efConstruction = reader.ReadInt32("efConstruction");
        if (efConstruction < 1)
        {
            throw reader.Error("efConstruction", offset, $"{efConstruction} is below 1");
        }

        offset = reader.Offset;
        int efSearch = reader.ReadInt32("efSearch");
        if (efSearch < 1)
        {
            throw reader.Error("efSearch", offset, $"{efSearch} is below 1");
        }

        offset = reader.Offset;
        byte keepPruned = reader.ReadByte("keepPrunedConnections");
        if (keepPruned > 1)
        {
            throw reader.Error("keepPrunedConnections", offset, $"{keepPruned} is neither 0 nor 1");
        }

        ulong seed = (ulong)reader.ReadInt64("seed");
        ulong randomState = (ulong)reader.ReadInt64("level generator state");
        offset = reader.Offset;
        long count = reader.ReadInt64("count");
        long maxCount = Array.MaxLength / Math.Max(dimension, (2 * m) + 1);
        if (count < 0 || count > maxCount)
        {
            throw reader.Error("count", offset, $"{count} is outside [0, {maxCount}] for dimension {dimension} and M = {m}");
        }

        long entryOffset = reader.Offset;
        int entryPoint = reader.ReadInt32("entry point");
        long maxLevelOffset = reader.Offset;
        int maxLevel = reader.ReadInt32("max level");
        reader.EndSection();

        var index = new HnswIndex(dimension, metric, new HnswOptions
        {
            Connectivity = m,
            EfConstruction = efConstruction,
            EfSearch = efSearch,
            KeepPrunedConnections = keepPruned == 1,
            Seed = seed,
            InitialCapacity = (int)count,
        });
        int n = (int)count;
        index._randomState = randomState;

        reader.BeginSection("IDS ");
        reader.EnsureSectionHolds(count, sizeof(long), "ids");
        long idsOffset = reader.Offset;
        reader.ReadInt64s(index._ids.AsSpan(0, n), "ids");
        reader.EndSection();
        for (int row = 0; row < n; row++)
        {
            long id = index._ids[row];
            if (id < 0)
            {
                throw reader.Error($"ids[{row}]", idsOffset + (8L * row), $"id {id} is negative");
            }

            if (!index._rowById.TryAdd(id, row))
            {
                throw reader.Error($"ids[{row}]", idsOffset + (8L * row), $"id {id} is also the id of row {index._rowById[id]}; ids must be unique");
            }
        }

        reader.BeginSection("VECS");
        reader.EnsureSectionHolds(count * dimension, sizeof(float), "vectors");
        long vectorsOffset = reader.Offset;
        reader.ReadSingles(index._vectors.AsSpan(0, n * dimension), "vectors");
        reader.EndSection();
        if (metric == DistanceMetric.Cosine)
        {
            CheckUnitLength(reader, index._vectors.AsSpan(0, n * dimension), dimension, vectorsOffset);
        }

        reader.BeginSection("LEVL");
        reader.EnsureSectionHolds(count, sizeof(byte), "levels");
        long levelsOffset = reader.Offset;
        reader.ReadBytes(index._levels.AsSpan(0, n), "levels");
        reader.EndSection();
        long upperTotal = 0;
        int highest = -1;
        for (int row = 0; row < n; row++)
        {
            int level = index._levels[row];
            if (level > MaxLevelLimit)
            {
                throw reader.Error($"levels[{row}]", levelsOffset + row, $"{level} exceeds the limit {MaxLevelLimit}");
            }

            highest = Math.Max(highest, level);
            index._upperOffsets[row] = level > 0 ? (int)Math.Min(upperTotal, int.MaxValue) : -1;
            upperTotal += (long)level * (m + 1);
        }

        if (upperTotal > Array.MaxLength)
        {
            throw reader.Error("levels", levelsOffset, $"the levels need {upperTotal} upper-layer link ints, more than the maximum array length");
        }

        if (maxLevel != highest)
        {
            throw reader.Error("max level", maxLevelOffset, $"{maxLevel} differs from the highest node level {highest}");
        }

        if (n == 0 ? entryPoint != -1 : entryPoint < 0 || entryPoint >= n || index._levels[entryPoint] != maxLevel)
        {
            throw reader.Error("entry point", entryOffset, $"row {entryPoint} is not a node of the top level {maxLevel} among {n} rows");
        }

        reader.BeginSection("DELE");
        reader.EnsureSectionHolds(count, sizeof(byte), "deleted flags");
        long deletedOffset = reader.Offset;
        var flags = new byte[n];
        reader.ReadBytes(flags, "deleted flags");
        reader.EndSection();
        for (int row = 0; row < n; row++)
        {
            if (flags[row] > 1)
            {
                throw reader.Error($"deleted flags[{row}]", deletedOffset + row, $"{flags[row]} is neither 0 nor 1");
            }

            index._deleted[row] = flags[row] == 1;
            index.DeletedCount += flags[row];
        }

        long parentsOffset = reader.Offset + BinaryFormat.SectionHeaderLength;
        int[] parents = ReadInt32Section(reader, "PRNT", count, "parents");
        long links0Offset = reader.Offset + BinaryFormat.SectionHeaderLength;
        int[] links0 = ReadInt32Section(reader, "LNK0", checked(count * ((2 * m) + 1)), "layer-0 links");
        long upperOffset = reader.Offset + BinaryFormat.SectionHeaderLength;
        int[] upper = ReadInt32Section(reader, "LNKU", upperTotal, "upper-layer links");
        reader.VerifyChecksum();

        parents.CopyTo(index._parents, 0);
        links0.CopyTo(index._links0, 0);
        index._upperLinks = upper;
        index._upperUsed = upper.Length;
        index.Count = n;
        index._entryPoint = entryPoint;
        index._maxLevel = maxLevel;
        index.CheckLinks(reader, links0Offset, upperOffset);
        index.CheckParents(reader, parentsOffset);
        return index;
    }

    private static void WriteInt32Section(BinaryFormatWriter writer, string fourcc, ReadOnlySpan<int> values)
    {
        writer.BeginSection(fourcc, checked((long)values.Length * sizeof(int)));
        if (BitConverter.IsLittleEndian)
        {
            writer.WriteBytes(MemoryMarshal.AsBytes(values));
        }
        else
        {
            foreach (int value in values)
            {
                writer.WriteInt32(value);
            }
        }

        writer.EndSection();
    }

    private static int[] ReadInt32Section(BinaryFormatReader reader, string fourcc, long count, string field)
    {
        reader.BeginSection(fourcc);
        reader.EnsureSectionHolds(count, sizeof(int), field);
        var values = new int[count];
        reader.ReadBytes(MemoryMarshal.AsBytes(values.AsSpan()), field);
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReverseEndianness(values[i]);
            }
        }

        reader.EndSection();
        return values;
    }

    private void CheckLinks(BinaryFormatReader reader, long links0Offset, long upperOffset)
    {
        for (int row = 0; row < Count; row++)
        {
            for (int layer = 0; layer <= _levels[row]; layer++)
            {
                Span<int> list = Links(row, layer);
                long listOffset = layer == 0
                    ? links0Offset + (4L * row * _layer0Stride)
                    : upperOffset + (4L * (_upperOffsets[row] + ((layer - 1) * _upperStride)));
                int linkCount = list[0];
                if (linkCount < 0 || linkCount > list.Length - 1)
                {
                    throw reader.Error($"row {row} layer {layer} link count", listOffset, $"{linkCount} is outside [0, {list.Length - 1}]");
                }

                for (int slot = 1; slot < list.Length; slot++)
                {
                    int target = list[slot];
                    long slotOffset = listOffset + (4L * slot);
                    if (slot > linkCount)
                    {
                        if (target != 0)
                        {
                            throw reader.Error($"row {row} layer {layer} unused slot {slot - 1}", slotOffset, $"{target} is not 0");
                        }

                        continue;
                    }

                    if (target < 0 || target >= Count || target == row || _levels[target] < layer)
                    {
                        throw reader.Error($"row {row} layer {layer} link {slot - 1}", slotOffset, $"target row {target} is not another node of layer {layer} among {Count} rows");
                    }
                }
            }
        }
    }

    private void CheckParents(BinaryFormatReader reader, long parentsOffset)
    {
        for (int row = 0; row < Count; row++)
        {
            int parent = _parents[row];
            long fieldOffset = parentsOffset + (4L * row);
            if (parent == -1)
            {
                continue;
            }

            if (parent < 0 || parent >= Count || parent == row)
            {
                throw reader.Error($"parents[{row}]", fieldOffset, $"{parent} is neither −1 nor another row among {Count}");
            }

            if (!Layer0Links(row).Contains(parent) || !Layer0Links(parent).Contains(row))
            {
                throw reader.Error($"parents[{row}]", fieldOffset, $"rows {row} and {parent} do not link to each other on layer 0");
            }

            if (++_childCounts[parent] > _m)
            {
                throw reader.Error($"parents[{row}]", fieldOffset, $"row {parent} would have more than M = {_m} children");
            }
        }
    }

    private static void CheckUnitLength(BinaryFormatReader reader, ReadOnlySpan<float> vectors, int dimension, long vectorsOffset)
    {
        // Rows were normalized in double precision and rounded to float, so their squared norms differ from 1 only
        // by float rounding. A larger gap means the vectors were changed.
        const double Tolerance = 1e-3;
        for (int row = 0; row < vectors.Length / dimension; row++)
        {
            double sum = 0;
            foreach (float value in vectors.Slice(row * dimension, dimension))
            {
                sum += (double)value * value;
            }

            if (Math.Abs(sum - 1) > Tolerance)
            {
                throw reader.Error($"vectors row {row}", vectorsOffset + (4L * row * dimension), $"squared norm {sum} is not 1, but Cosine indexes store unit vectors");
            }
        }
    }
}
