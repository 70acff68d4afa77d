using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reader and writer for the TEXMEX <c>.fvecs</c>, <c>.ivecs</c> and <c>.bvecs</c> formats.
/// </summary>
/// <remarks>
/// Layout (Jégou et al., http://corpus-texmex.irisa.fr/): each record is a little-endian int32 dimension followed
/// by that many components: float32 for <c>.fvecs</c>, int32 for <c>.ivecs</c>, uint8 for <c>.bvecs</c>. There
/// is no file header, so the record count is the file length divided by the record size of the first record.
/// </remarks>
internal static class VecsFormat
{
    /// <summary>Largest int32 magnitude that float32 represents exactly (2^24).</summary>
    private const int MaxExactFloatInteger = 1 << 24;

    public static int ComponentSize(VectorFileFormat format) => format switch
    {
        VectorFileFormat.Bvecs => 1,
        _ => 4,
    };

    public static VectorSet ReadVectors(string path, VectorFileFormat format, bool rejectNonFinite)
    {
        using var stream = OpenRead(path);
        var (count, dimension) = ReadLayout(stream, path, format);
        FileErrors.ThrowIfTooLarge(path, count, dimension, $"{FormatName(format)} record 0");

        var values = new float[count * dimension];
        byte[] scratch = format == VectorFileFormat.Fvecs ? [] : new byte[dimension * ComponentSize(format)];
        long recordSize = 4 + ((long)dimension * ComponentSize(format));
        for (int row = 0; row < count; row++)
        {
            long offset = row * recordSize;
            ReadRecordDimension(stream, path, format, row, offset, dimension);
            Span<float> target = values.AsSpan(row * dimension, dimension);
            switch (format)
            {
                case VectorFileFormat.Fvecs:
                    FileErrors.ReadExactly(stream, MemoryMarshal.AsBytes(target), path, offset + 4, $"record {row}");
                    if (!BitConverter.IsLittleEndian)
                    {
                        ReverseEndianness(target);
                    }

                    if (rejectNonFinite)
                    {
                        FileErrors.ThrowIfNonFinite(target, dimension, row, path, "record");
                    }

                    break;
                case VectorFileFormat.Bvecs:
                    FileErrors.ReadExactly(stream, scratch, path, offset + 4, $"record {row}");
                    for (int i = 0; i < dimension; i++)
                    {
                        target[i] = scratch[i];
                    }

                    break;
                default:
                    FileErrors.ReadExactly(stream, scratch, path, offset + 4, $"record {row}");
                    for (int i = 0; i < dimension; i++)
                    {
                        int value = BinaryPrimitives.ReadInt32LittleEndian(scratch.AsSpan(4 * i));
                        if (value > MaxExactFloatInteger || value < -MaxExactFloatInteger)
                        {
                            throw FileErrors.Invalid(
                                path,
                                $"record {row} component {i} is {value}, which float32 cannot represent exactly (limit 2^24). Read the file with VectorFile.ReadIvecs.");
                        }

                        target[i] = value;
                    }

                    break;
            }
        }

        ThrowIfPartialRecord(path, stream.Length, format, count, dimension);
        return new VectorSet(values, count, dimension, source: path);
    }

    public static Int32VectorSet ReadIvecs(string path)
    {
        using var stream = OpenRead(path);
        var (count, dimension) = ReadLayout(stream, path, VectorFileFormat.Ivecs);
        FileErrors.ThrowIfTooLarge(path, count, dimension, ".ivecs record 0");

        var values = new int[count * dimension];
        for (int row = 0; row < count; row++)
        {
            long offset = row * (4 + (4L * dimension));
            ReadRecordDimension(stream, path, VectorFileFormat.Ivecs, row, offset, dimension);
            Span<int> target = values.AsSpan(row * dimension, dimension);
            FileErrors.ReadExactly(stream, MemoryMarshal.AsBytes(target), path, offset + 4, $"record {row}");
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(target, target);
            }
        }

        ThrowIfPartialRecord(path, stream.Length, VectorFileFormat.Ivecs, count, dimension);
        return new Int32VectorSet(values, count, dimension, path);
    }

    public static void WriteFvecs(string path, ReadOnlySpan<float> values, int dimension)
    {
        CheckShape(values.Length, dimension);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, dimension);
        byte[] record = new byte[4 * dimension];
        for (int start = 0; start < values.Length; start += dimension)
        {
            stream.Write(header);
            ReadOnlySpan<float> row = values.Slice(start, dimension);
            for (int i = 0; i < dimension; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(record.AsSpan(4 * i), row[i]);
            }

            stream.Write(record);
        }
    }

    public static void WriteIvecs(string path, ReadOnlySpan<int> values, int dimension)
    {
        CheckShape(values.Length, dimension);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, dimension);
        byte[] record = new byte[4 * dimension];
        for (int start = 0; start < values.Length; start += dimension)
        {
            stream.Write(header);
            ReadOnlySpan<int> row = values.Slice(start, dimension);
            for (int i = 0; i < dimension; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4 * i), row[i]);
            }

            stream.Write(record);
        }
    }

    private static void CheckShape(int length, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (length % dimension != 0)
        {
            throw new ArgumentException($"values has {length} elements, which is not a multiple of dimension {dimension}. Pass whole vectors.", "values");
        }
    }

    /// <summary>
    /// Reads the first record's dimension and derives the record count from the file length. Allocation is
    /// therefore bounded by the file size, whatever the header claims.
    /// </summary>
    private static (int Count, int Dimension) ReadLayout(FileStream stream, string path, VectorFileFormat format)
    {
        long length = stream.Length;
        string name = FormatName(format);
        if (length == 0)
        {
            throw FileErrors.Invalid(path, $"file is empty. Expected {name} records (int32 dimension, then the components).");
        }

        Span<byte> bytes = stackalloc byte[4];
        FileErrors.ReadExactly(stream, bytes, path, 0, $"the dimension of {name} record 0");
        stream.Position = 0;
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int componentSize = ComponentSize(format);
        if (dimension < 1 || dimension > (length - 4) / componentSize)
        {
            throw FileErrors.Invalid(
                path,
                $"record 0 declares dimension {dimension}, but it must be between 1 and {Math.Max(0, (length - 4) / componentSize)} for a file of {length} bytes. The file is not a {name} file or is corrupt.");
        }

        long recordSize = 4 + ((long)dimension * componentSize);
        long count = length / recordSize;
        return (checked((int)Math.Min(count, int.MaxValue)), dimension);
    }

    private static void ReadRecordDimension(Stream stream, string path, VectorFileFormat format, int row, long offset, int expected)
    {
        Span<byte> bytes = stackalloc byte[4];
        FileErrors.ReadExactly(stream, bytes, path, offset, $"the dimension of record {row}");
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (dimension != expected)
        {
            throw FileErrors.Invalid(
                path,
                $"record {row} at byte offset {offset} declares dimension {dimension}, but record 0 declares {expected}. All {FormatName(format)} records must have the same dimension.");
        }
    }

    /// <summary>
    /// Throws when the file length is not a whole number of records, after the records themselves were read,
    /// so that a dimension mismatch is reported before the truncation it causes.
    /// </summary>
    private static void ThrowIfPartialRecord(string path, long length, VectorFileFormat format, int count, int dimension)
    {
        long recordSize = 4 + ((long)dimension * ComponentSize(format));
        long extra = length - (count * recordSize);
        if (extra != 0)
        {
            long offset = count * recordSize;
            throw FileErrors.Invalid(
                path,
                $"record {count} at byte offset {offset} is truncated: {extra} bytes remain, but a record of dimension {dimension} has {recordSize}. The file is truncated, so copy or download it again.");
        }
    }

    private static string FormatName(VectorFileFormat format) => "." + format.ToString().ToLowerInvariant();

    private static void ReverseEndianness(Span<float> values)
    {
        Span<int> bits = MemoryMarshal.Cast<float, int>(values);
        BinaryPrimitives.ReverseEndianness(bits, bits);
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
}
