using MLNetRetrieval.Indexes;
using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.Quantization;

// Saved layout of ProductQuantizer (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRPQTZ" | writtenVersion | minReaderVersion
//   "PQ  "  i32 dimension | i32 numberOfSubquantizers (M) | i32 bitsPerSubquantizer | u8 trained (0 or 1)
//   "BOOK"  M × ksub × dsub × f32 codebooks when trained, empty otherwise
//   "CRC "  u32 CRC-32 of every preceding byte
// Indexes that contain a quantizer write the "PQ  " and "BOOK" sections inside their own file.
// The centroid-to-centroid (SDC) tables and packed codebooks are derived and rebuilt after loading.
// Version history:
//   1  first layout.
public sealed partial class ProductQuantizer
{
    private const string Signature = "MLNRPQTZ";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;
    private const int MetaLength = (3 * sizeof(int)) + sizeof(byte);

    /// <summary>
    /// Writes the quantizer in the versioned binary format (little-endian, CRC-32 checked). The stream is left
    /// open and need not be seekable.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        WriteSections(writer);
        writer.Finish();
    }

    /// <summary>Reads a quantizer written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not a product quantizer; the message
    /// names the field and byte offset.</exception>
    public static ProductQuantizer Load(Stream stream)
    {
        var reader = BinaryFormatReader.Open(stream, "product quantizer stream");
        reader.ReadHeader(Signature, FormatVersion);
        ProductQuantizer quantizer = ReadSections(reader);
        reader.VerifyChecksum();
        return quantizer;
    }

    /// <summary>Writes the "PQ  " and "BOOK" sections.</summary>
    internal void WriteSections(BinaryFormatWriter writer)
    {
        writer.BeginSection("PQ  ", MetaLength);
        writer.WriteInt32(Dimension);
        writer.WriteInt32(NumberOfSubquantizers);
        writer.WriteInt32(BitsPerSubquantizer);
        writer.WriteByte(IsTrained ? (byte)1 : (byte)0);
        writer.EndSection();

        float[] books = IsTrained ? Codebooks : Array.Empty<float>();
        writer.BeginSection("BOOK", checked((long)books.Length * sizeof(float)));
        writer.WriteSingles(books);
        writer.EndSection();
    }

    /// <summary>Reads the "PQ  " and "BOOK" sections, checking every field before allocating.</summary>
    internal static ProductQuantizer ReadSections(BinaryFormatReader reader)
    {
        reader.BeginSection("PQ  ");
        long offset = reader.Offset;
        int dimension = reader.ReadInt32("dimension");
        if (dimension < 1 || dimension > VectorChecks.MaxDimension)
        {
            throw reader.Error("dimension", offset, $"{dimension} is outside [1, {VectorChecks.MaxDimension}]");
        }

        offset = reader.Offset;
        int m = reader.ReadInt32("numberOfSubquantizers");
        if (m < 1 || m > dimension || dimension % m != 0)
        {
            throw reader.Error("numberOfSubquantizers", offset, $"{m} is not a divisor of dimension {dimension}");
        }

        offset = reader.Offset;
        int nbits = reader.ReadInt32("bitsPerSubquantizer");
        if (nbits != 8)
        {
            throw reader.Error("bitsPerSubquantizer", offset, $"{nbits} is not supported; only 8 is");
        }

        offset = reader.Offset;
        byte trained = reader.ReadByte("trained");
        if (trained > 1)
        {
            throw reader.Error("trained", offset, $"{trained} is not 0 or 1");
        }

        reader.EndSection();

        var quantizer = new ProductQuantizer(dimension, m, nbits);
        reader.BeginSection("BOOK");
        long length = trained == 1 ? quantizer.Codebooks.Length : 0;
        reader.EnsureSectionHolds(length, sizeof(float), "codebooks");
        if (trained == 1)
        {
            var books = new float[length];
            reader.ReadSingles(books, "codebooks");
            quantizer.SetCodebooks(books);
        }

        reader.EndSection();
        return quantizer;
    }
}
