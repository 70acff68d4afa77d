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
}
