using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.Indexes;

// Saved layout of ExactIndex (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRXACT" | writtenVersion | minReaderVersion
//   "META"  i32 dimension | u8 metric (DistanceMetric value) | i64 count
//   "IDS "  count × i64 id, in row order
//   "VECS"  count × dimension × f32, row-major; unit-length rows under Cosine
//   "CRC "  u32 CRC-32 of every preceding byte
// Version history:
//   1  first layout.
public sealed partial class ExactIndex
{
    private const string Signature = "MLNRXACT";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;
    private const int MetaLength = sizeof(int) + sizeof(byte) + sizeof(long);

    /// <summary>
    /// Writes the index in the versioned binary format (little-endian, CRC-32 checked). The stream is left open
    /// and need not be seekable.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        writer.BeginSection("META", MetaLength);
        writer.WriteInt32(Dimension);
        writer.WriteByte((byte)Metric);
        writer.WriteInt64(Count);
        writer.EndSection();

        writer.BeginSection("IDS ", checked((long)Count * sizeof(long)));
        writer.WriteInt64s(_ids.AsSpan(0, Count));
        writer.EndSection();

        writer.BeginSection("VECS", checked((long)Count * Dimension * sizeof(float)));
        writer.WriteSingles(_vectors.AsSpan(0, Count * Dimension));
        writer.EndSection();
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an exact index; the message
    /// names the field and byte offset.</exception>
    public static ExactIndex Load(Stream stream) => Load(stream, "exact index stream");

    /// <summary>Reads an index written by <see cref="Save"/>, naming <paramref name="source"/> in errors.</summary>
    internal static ExactIndex Load(Stream stream, string source)
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
        long count = reader.ReadInt64("count");
        if (count < 0 || count > Array.MaxLength / dimension)
        {
            throw reader.Error("count", offset, $"{count} is outside [0, {Array.MaxLength / dimension}] for dimension {dimension}");
        }

        reader.EndSection();

        reader.BeginSection("IDS ");
        reader.EnsureSectionHolds(count, sizeof(long), "ids");
        long idsOffset = reader.Offset;
        var ids = new long[count];
        reader.ReadInt64s(ids, "ids");
        reader.EndSection();

        reader.BeginSection("VECS");
        reader.EnsureSectionHolds(count * dimension, sizeof(float), "vectors");
        long vectorsOffset = reader.Offset;
        var vectors = new float[count * dimension];
        reader.ReadSingles(vectors, "vectors");
        reader.EndSection();
        reader.VerifyChecksum();

        var index = new ExactIndex(dimension, metric);
        for (int row = 0; row < ids.Length; row++)
        {
            long id = ids[row];
            long idOffset = idsOffset + (8L * row);
            if (id < 0)
            {
                throw reader.Error($"ids[{row}]", idOffset, $"id {id} is negative");
            }

            if (!index._rowById.TryAdd(id, row))
            {
                throw reader.Error($"ids[{row}]", idOffset, $"id {id} is also the id of row {index._rowById[id]}; ids must be unique");
            }
        }

        if (metric == DistanceMetric.Cosine)
        {
            CheckUnitLength(reader, vectors, dimension, vectorsOffset);
        }

        index._ids = ids;
        index._vectors = vectors;
        index.Count = (int)count;
        return index;
    }

    private static void CheckUnitLength(BinaryFormatReader reader, float[] vectors, int dimension, long vectorsOffset)
    {
        // Save writes rows normalized in double precision and rounded to float, so their squared norms differ
        // from 1 only by float rounding; a larger gap means the vectors were changed.
        const double Tolerance = 1e-3;
        for (int row = 0; row < vectors.Length / dimension; row++)
        {
            double sum = 0;
            foreach (float value in vectors.AsSpan(row * dimension, dimension))
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
