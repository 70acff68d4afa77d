using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reader for IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed.
/// </summary>
/// <remarks>
/// Layout (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code (0x08 uint8, 0x09 int8,
/// 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, one big-endian uint32 size per
/// dimension, then the data in C order, big-endian.
/// </remarks>
internal static class IdxFormat
{
    /// <summary>Deflate cannot expand data by more than about 1032:1, which bounds what a gzip file can hold.</summary>
    private const long MaxDeflateRatio = 1032;

    public static bool HasMagic(ReadOnlySpan<byte> start) =>
        start.Length >= 4 && start[0] == 0 && start[1] == 0 && TypeFromCode(start[2]) is not null && start[3] >= 1;

    public static bool IsGzip(ReadOnlySpan<byte> start) => start.Length >= 2 && start[0] == 0x1F && start[1] == 0x8B;

    public static VectorSet ReadVectors(string path, bool rejectNonFinite) => WithGzipErrors(path, (stream, compressedLength) =>
    {
        var (type, dims, dataOffset) = ReadHeader(stream, path);
        string shape = FormatShape(dims);
        if (dims.Length < 2)
        {
            throw FileErrors.Invalid(path, $"IDX array has shape {shape}, but vectors need at least 2 dimensions. A 1-D IDX file contains labels, so pass it as VectorReadOptions.LabelsPath.");
        }

        long count = dims[0];
        long dimension = 1;
        for (int i = 1; i < dims.Length; i++)
        {
            dimension = Math.Min(dimension * dims[i], long.MaxValue / uint.MaxValue);
        }

        if (count == 0)
        {
            throw FileErrors.Invalid(path, $"IDX array has shape {shape} and contains no vectors. Use a file with at least one item.");
        }

        if (dimension == 0)
        {
            throw FileErrors.Invalid(path, $"IDX array has shape {shape}, so each vector has 0 components. Use items with at least one component.");
        }

        FileErrors.ThrowIfTooLarge(path, count, dimension, $"IDX shape {shape}");
        bool lengthChecked = CheckDataLength(stream, compressedLength, type, count * dimension, dataOffset, shape, path);
        float[] values = NumericArrayReader.ReadFloats(stream, type, count * dimension, lengthChecked, path, dataOffset);
        ThrowIfTrailingData(stream, compressedLength, dataOffset + (values.LongLength * type.Size), path);
        if (rejectNonFinite && !type.IsInteger)
        {
            FileErrors.ThrowIfNonFinite(values, (int)dimension, 0, path, "item");
        }

        return new VectorSet(values, (int)count, (int)dimension, source: path);
    });

    /// <summary>
    /// Reads a 1-D IDX array, or a 2-D array with one column, as integers or floats.
    /// </summary>
    public static (long[]? Integers, double[]? Floats) ReadColumn(string path, bool integersOnly) => WithGzipErrors(path, (stream, compressedLength) =>
    {
        var (type, dims, dataOffset) = ReadHeader(stream, path);
        string shape = FormatShape(dims);
        if (!(dims.Length == 1 || (dims.Length == 2 && dims[1] == 1)))
        {
            throw FileErrors.Invalid(path, $"IDX array has shape {shape}, but a label or id file needs one dimension. Use a 1-D IDX labels file.");
        }

        long count = dims[0];
        bool lengthChecked = CheckDataLength(stream, compressedLength, type, count, dataOffset, shape, path);
        if (type.IsInteger)
        {
            long[] integers = NumericArrayReader.ReadInt64s(stream, type, count, lengthChecked, path, dataOffset);
            ThrowIfTrailingData(stream, compressedLength, dataOffset + (count * type.Size), path);
            return (integers, (double[]?)null);
        }

        if (integersOnly)
        {
            throw FileErrors.Invalid(path, $"ids have IDX element type {type}, but ids must be integers. Use type 0x08, 0x09, 0x0B or 0x0C.");
        }

        double[] floats = NumericArrayReader.ReadDoubles(stream, type, count, lengthChecked, path, dataOffset);
        ThrowIfTrailingData(stream, compressedLength, dataOffset + (count * type.Size), path);
        return ((long[]?)null, floats);
    });

    private static ElementType? TypeFromCode(byte code) => code switch
    {
        0x08 => new ElementType(ElementKind.UnsignedInteger, 1, true),
        0x09 => new ElementType(ElementKind.SignedInteger, 1, true),
        0x0B => new ElementType(ElementKind.SignedInteger, 2, true),
        0x0C => new ElementType(ElementKind.SignedInteger, 4, true),
        0x0D => new ElementType(ElementKind.Float, 4, true),
        0x0E => new ElementType(ElementKind.Float, 8, true),
        _ => null,
    };

    private static (ElementType Type, long[] Dims, long DataOffset) ReadHeader(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int first = stream.Read(magic);
        if (first == 0)
        {
            throw FileErrors.Invalid(path, "file is empty. Expected an IDX file such as t10k-images-idx3-ubyte.");
        }

        FileErrors.ReadExactly(stream, magic[first..], path, first, "the IDX magic number");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw FileErrors.Invalid(path, $"bytes 0-3 are {Convert.ToHexString(magic)}, but an IDX magic number starts with two zero bytes. The file is not an IDX file.");
        }

        var type = TypeFromCode(magic[2]) ?? throw FileErrors.Invalid(
            path,
            $"byte 2 is IDX type code 0x{magic[2]:X2}, which is not defined. Valid codes are 0x08, 0x09, 0x0B, 0x0C, 0x0D and 0x0E.");
        int rank = magic[3];
        if (rank == 0)
        {
            throw FileErrors.Invalid(path, "byte 3 declares 0 dimensions. The IDX header is corrupt.");
        }

        var dims = new long[rank];
        Span<byte> size = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            FileErrors.ReadExactly(stream, size, path, 4 + (4 * i), $"the size of IDX dimension {i}");
            dims[i] = BinaryPrimitives.ReadUInt32BigEndian(size);
        }

        return (type, dims, 4 + (4L * rank));
    }

    /// <summary>
    /// Checks the declared data size against the file before anything is allocated. Returns whether the exact
    /// length was verified, which is impossible for gzip input, where only an upper bound is checked.
    /// </summary>
    private static bool CheckDataLength(Stream stream, long compressedLength, ElementType type, long elements, long dataOffset, string shape, string path)
    {
        if (elements > long.MaxValue / type.Size)
        {
            throw FileErrors.Invalid(path, $"IDX shape {shape} overflows a 64-bit byte count. The header is corrupt.");
        }

        long needed = elements * type.Size;
        if (compressedLength >= 0)
        {
            if (needed > compressedLength * MaxDeflateRatio)
            {
                throw FileErrors.Invalid(
                    path,
                    $"IDX shape {shape} of {type} needs {needed} bytes, more than a gzip file of {compressedLength} bytes can hold. The header is corrupt or the file is truncated.");
            }

            return false;
        }

        long available = stream.Length - dataOffset;
        if (available < needed)
        {
            throw FileErrors.Invalid(
                path,
                $"IDX shape {shape} of {type} needs {needed} data bytes after byte offset {dataOffset}, but the file has only {available}. The file is truncated or its header is corrupt.");
        }

        return true;
    }

    private static void ThrowIfTrailingData(Stream stream, long compressedLength, long expectedEnd, string path)
    {
        bool hasMore = compressedLength >= 0 ? stream.ReadByte() >= 0 : stream.Length > expectedEnd;
        if (hasMore)
        {
            throw FileErrors.Invalid(path, $"file continues after byte offset {expectedEnd}, where the IDX data declared by the header ends. The header does not match the data.");
        }
    }

    /// <summary>
    /// Compares the decompressed size with ISIZE, the last four bytes of a gzip file (RFC 1952). GZipStream in
    /// .NET 10 returns all data without an error when only the trailer is cut off, so this catches that truncation.
    /// </summary>
    /// <remarks>NOTE: for a file of several concatenated gzip members, ISIZE covers only the last member, so such files are rejected.</remarks>
    private static void CheckGzipSize(FileStream file, long decompressedBytes, string path)
    {
        Span<byte> trailer = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(trailer);
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (declared != (uint)decompressedBytes)
        {
            throw FileErrors.Invalid(
                path,
                $"gzip trailer declares {declared} decompressed bytes (mod 2^32), but the data has {decompressedBytes}. The file is truncated or corrupt, so copy or download it again.");
        }
    }

    private static string FormatShape(long[] dims) => "(" + string.Join(", ", dims) + ")";

    /// <summary>
    /// Opens the file, decompressing it when it starts with the gzip magic bytes, and runs <paramref name="read"/>.
    /// The callback receives the compressed length, or -1 for an uncompressed file. Errors that
    /// <see cref="GZipStream"/> raises are rethrown with the path. Byte offsets in messages about a compressed file
    /// count decompressed bytes.
    /// </summary>
    private static T WithGzipErrors<T>(string path, Func<Stream, long, T> read)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> start = stackalloc byte[2];
        int got = file.Read(start);
        file.Position = 0;
        if (!IsGzip(start[..got]))
        {
            return read(file, -1);
        }

        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var counter = new CountingStream(gzip);
        using var buffered = new BufferedStream(counter, 1 << 16);
        try
        {
            T result = read(buffered, file.Length);
            CheckGzipSize(file, counter.BytesRead, path);
            return result;
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path + ": ", StringComparison.Ordinal))
        {
            throw FileErrors.Invalid(path, $"gzip data is corrupt near compressed byte offset {file.Position} ({ex.Message}). Copy or download the file again.");
        }
    }

    /// <summary>Read-only stream wrapper that counts the bytes read through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            BytesRead += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
