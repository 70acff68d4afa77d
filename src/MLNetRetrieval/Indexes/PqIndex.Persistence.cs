using MLNetRetrieval.Persistence;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

// Saved layout of PqIndex (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRPQIX" | writtenVersion | minReaderVersion
//   "PQ  "  and "BOOK": the product quantizer, as ProductQuantizer writes them
//   "META"  i64 count
//   "IDS "  count × i64 id, in row order
//   "CODE"  count × codeSize bytes, row-major
//   "CRC "  u32 CRC-32 of every preceding byte
// Version history:
//   1  first layout.
public sealed partial class PqIndex
{
    private const string Signature = "MLNRPQIX";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;

    /// <summary>
    /// Writes the index in the versioned binary format (little-endian, CRC-32 checked). The stream is left open
    /// and need not be seekable.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        Quantizer.WriteSections(writer);

        writer.BeginSection("META", sizeof(long));
        writer.WriteInt64(Count);
        writer.EndSection();

        writer.BeginSection("IDS ", checked((long)Count * sizeof(long)));
        writer.WriteInt64s(_ids.AsSpan(0, Count));
        writer.EndSection();

        writer.BeginSection("CODE", checked((long)Count * Quantizer.CodeSize));
        // NOTE: BinaryFormatWriter has no bulk byte writer yet, so codes go one byte at a time.
        foreach (byte value in _codes.AsSpan(0, Count * Quantizer.CodeSize))
        {
            writer.WriteByte(value);
        }

        writer.EndSection();
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not a PQ index; the message
    /// names the field and byte offset.</exception>
    public static PqIndex Load(Stream stream)
    {
        var reader = BinaryFormatReader.Open(stream, "PQ index stream");
        reader.ReadHeader(Signature, FormatVersion);
        ProductQuantizer quantizer = ProductQuantizer.ReadSections(reader);
        int codeSize = quantizer.CodeSize;

        reader.BeginSection("META");
        long offset = reader.Offset;
        long count = reader.ReadInt64("count");
        if (count < 0 || count > Array.MaxLength / codeSize)
        {
            throw reader.Error("count", offset, $"{count} is outside [0, {Array.MaxLength / codeSize}] for codes of {codeSize} bytes");
        }

        if (count > 0 && !quantizer.IsTrained)
        {
            throw reader.Error("count", offset, $"{count} codes are stored but the quantizer is not trained");
        }

        reader.EndSection();

        reader.BeginSection("IDS ");
        reader.EnsureSectionHolds(count, sizeof(long), "ids");
        long idsOffset = reader.Offset;
        var ids = new long[count];
        reader.ReadInt64s(ids, "ids");
        reader.EndSection();

        reader.BeginSection("CODE");
        reader.EnsureSectionHolds(count * codeSize, sizeof(byte), "codes");
        var codes = new byte[count * codeSize];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = reader.ReadByte("codes");
        }

        reader.EndSection();
        reader.VerifyChecksum();

        var index = new PqIndex(quantizer);
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

        index._ids = ids;
        index._codes = codes;
        index.Count = (int)count;
        return index;
    }
}
