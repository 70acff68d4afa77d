using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.Indexes;

/// <summary>
/// Sections shared by the IVF file layouts: "IVF " (sizes and flags), "CENT" (coarse centroids), "SIZE" (list sizes)
/// and "IDS " (ids list after list). Every count is checked against the bytes left before anything is allocated.
/// </summary>
internal static class IvfFormat
{
    /// <summary>Fields of the "IVF " and "CENT" sections.</summary>
    public sealed record Header(int Dimension, int NumberOfLists, int DefaultNumberOfProbes, long Count, float[] Centroids, byte[] ExtraFlags, long CountOffset);

    /// <summary>Writes "IVF " (i32 dimension, i32 nlist, i32 default nprobe, u8 trained, the extra flag bytes, i64 count) and "CENT".</summary>
    public static void WriteHeader(BinaryFormatWriter writer, int dimension, int numberOfLists, int defaultProbes, CoarseQuantizer coarse, InvertedLists lists, ReadOnlySpan<byte> extraFlags)
    {
        writer.BeginSection("IVF ", (3 * sizeof(int)) + sizeof(byte) + extraFlags.Length + sizeof(long));
        writer.WriteInt32(dimension);
        writer.WriteInt32(numberOfLists);
        writer.WriteInt32(defaultProbes);
        writer.WriteByte(coarse.IsTrained ? (byte)1 : (byte)0);
        writer.WriteBytes(extraFlags);
        writer.WriteInt64(lists.Count);
        writer.EndSection();

        writer.BeginSection("CENT", checked((long)coarse.Centroids.Length * sizeof(float)));
        writer.WriteSingles(coarse.Centroids);
        writer.EndSection();
    }

    /// <summary>Writes "SIZE" and "IDS ".</summary>
    public static void WriteLists(BinaryFormatWriter writer, InvertedLists lists)
    {
        writer.BeginSection("SIZE", checked((long)lists.ListCount * sizeof(long)));
        for (int list = 0; list < lists.ListCount; list++)
        {
            writer.WriteInt64(lists.Size(list));
        }

        writer.EndSection();

        writer.BeginSection("IDS ", checked((long)lists.Count * sizeof(long)));
        for (int list = 0; list < lists.ListCount; list++)
        {
            writer.WriteInt64s(lists.Ids(list));
        }

        writer.EndSection();
    }

    /// <summary>Reads and checks "IVF " and "CENT". Flag bytes must be 0 or 1.</summary>
    public static Header ReadHeader(BinaryFormatReader reader, int extraFlagCount)
    {
        reader.BeginSection("IVF ");
        long offset = reader.Offset;
        int dimension = reader.ReadInt32("dimension");
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw reader.Error("dimension", offset, $"{dimension} is outside [1, {VectorChecks.MaxDimension}]");
        }

        offset = reader.Offset;
        int nlist = reader.ReadInt32("numberOfLists");
        if (nlist < 1 || nlist > IvfChecks.MaxLists)
        {
            throw reader.Error("numberOfLists", offset, $"{nlist} is outside [1, {IvfChecks.MaxLists}]");
        }

        offset = reader.Offset;
        int nprobe = reader.ReadInt32("defaultNumberOfProbes");
        if (nprobe < 1 || nprobe > nlist)
        {
            throw reader.Error("defaultNumberOfProbes", offset, $"{nprobe} is outside [1, numberOfLists = {nlist}]");
        }

        byte trained = ReadFlag(reader, "trained");
        var flags = new byte[extraFlagCount];
        for (int i = 0; i < extraFlagCount; i++)
        {
            flags[i] = ReadFlag(reader, $"flags[{i}]");
        }

        long countOffset = reader.Offset;
        long count = reader.ReadInt64("count");
        if (count < 0 || count > int.MaxValue)
        {
            throw reader.Error("count", countOffset, $"{count} is outside [0, {int.MaxValue}]");
        }

        if (count > 0 && trained == 0)
        {
            throw reader.Error("count", countOffset, $"{count} vectors are stored but the coarse quantizer is not trained");
        }

        reader.EndSection();

        reader.BeginSection("CENT");
        long centroidCount = trained == 1 ? checked((long)nlist * dimension) : 0;
        reader.EnsureSectionHolds(centroidCount, sizeof(float), "centroids");
        var centroids = new float[centroidCount];
        reader.ReadSingles(centroids, "centroids");
        reader.EndSection();
        return new Header(dimension, nlist, nprobe, count, centroids, flags, countOffset);
    }

    /// <summary>Reads and checks "SIZE" and "IDS ": sizes are non-negative and sum to the count, ids are non-negative and unique.</summary>
    public static (long[] Sizes, long[][] Ids) ReadLists(BinaryFormatReader reader, Header header, int vectorLength, int codeSize)
    {
        long limit = IvfChecks.MaxCount(vectorLength, codeSize);
        if (header.Count > limit)
        {
            throw reader.Error("count", header.CountOffset, $"{header.Count} exceeds the maximum of {limit} entries of {vectorLength} floats and {codeSize} code bytes");
        }

        reader.BeginSection("SIZE");
        reader.EnsureSectionHolds(header.NumberOfLists, sizeof(long), "list sizes");
        var sizes = new long[header.NumberOfLists];
        long sizesOffset = reader.Offset;
        reader.ReadInt64s(sizes, "list sizes");
        long total = 0;
        for (int list = 0; list < sizes.Length; list++)
        {
            if (sizes[list] < 0 || sizes[list] > header.Count - total)
            {
                throw reader.Error($"list sizes[{list}]", sizesOffset + (8L * list), $"{sizes[list]} is negative or exceeds the {header.Count - total} vectors not yet placed in earlier lists (count {header.Count})");
            }

            total += sizes[list];
        }

        if (total != header.Count)
        {
            throw reader.Error("list sizes", sizesOffset, $"they sum to {total}, but count is {header.Count}");
        }

        reader.EndSection();

        reader.BeginSection("IDS ");
        reader.EnsureSectionHolds(header.Count, sizeof(long), "ids");
        long idsOffset = reader.Offset;
        var ids = new long[header.NumberOfLists][];
        var seen = new HashSet<long>();
        long row = 0;
        for (int list = 0; list < sizes.Length; list++)
        {
            ids[list] = new long[sizes[list]];
            reader.ReadInt64s(ids[list], "ids");
            foreach (long id in ids[list])
            {
                if (id < 0)
                {
                    throw reader.Error($"ids[{row}]", idsOffset + (8L * row), $"id {id} is negative");
                }

                if (!seen.Add(id))
                {
                    throw reader.Error($"ids[{row}]", idsOffset + (8L * row), $"id {id} appears twice; ids must be unique");
                }

                row++;
            }
        }

        reader.EndSection();
        return (sizes, ids);
    }

    private static byte ReadFlag(BinaryFormatReader reader, string field)
    {
        long offset = reader.Offset;
        byte value = reader.ReadByte(field);
        if (value > 1)
        {
            throw reader.Error(field, offset, $"{value} is not 0 or 1");
        }

        return value;
    }
}
