using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reader and writer for NumPy <c>.npy</c> files.
/// </summary>
/// <remarks>
/// Layout (numpy.lib.format, versions 1.0 to 3.0): the magic bytes <c>\x93NUMPY</c>, one byte major and one byte
/// minor version, the header length (uint16 little-endian in version 1, uint32 in versions 2 and 3), then a
/// Python dict literal with the keys <c>descr</c>, <c>fortran_order</c> and <c>shape</c>, padded with spaces and a
/// newline, and finally the raw array data.
/// </remarks>
internal static class NpyFormat
{
    /// <summary>Upper bound on the header length. NumPy writes headers of a few hundred bytes.</summary>
    private const int MaxHeaderLength = 1 << 20;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static bool HasMagic(ReadOnlySpan<byte> start) => start.Length >= 6 && start[..6].SequenceEqual(Magic);

    internal sealed record Header(ElementType Type, long[] Shape, long DataOffset)
    {
        public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
    }

    public static VectorSet ReadVectors(string path, bool rejectNonFinite)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        if (header.Shape.Length < 2)
        {
            throw FileErrors.Invalid(
                path,
                $"array has shape {header.ShapeText}, but vectors need at least 2 dimensions (count, dimension). Reshape it with x.reshape(-1, 1), or pass a 1-D array as LabelsPath or IdsPath.");
        }

        long count = header.Shape[0];
        long dimension = ProductOfRest(header.Shape, path, header.ShapeText);
        if (count == 0)
        {
            throw FileErrors.Invalid(path, $"array has shape {header.ShapeText} and contains no vectors. Save at least one row.");
        }

        if (dimension == 0)
        {
            throw FileErrors.Invalid(path, $"array has shape {header.ShapeText}, so each vector has 0 components. Save vectors with at least one component.");
        }

        FileErrors.ThrowIfTooLarge(path, count, dimension, $"shape {header.ShapeText}");
        CheckDataLength(stream, header, count * dimension, path);

        float[] values = NumericArrayReader.ReadFloats(stream, header.Type, count * dimension, lengthChecked: true, path, header.DataOffset);
        if (rejectNonFinite)
        {
            FileErrors.ThrowIfNonFinite(values, (int)dimension, 0, path, "row");
        }

        return new VectorSet(values, (int)count, (int)dimension, source: path);
    }

    /// <summary>
    /// Reads a 1-D array, or a 2-D array with one column, as integers (when <paramref name="integersOnly"/>) or as
    /// text labels.
    /// </summary>
    public static (long[]? Integers, double[]? Floats) ReadColumn(string path, bool integersOnly)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        bool isColumn = header.Shape.Length == 1 || (header.Shape.Length == 2 && header.Shape[1] == 1);
        if (!isColumn)
        {
            throw FileErrors.Invalid(path, $"array has shape {header.ShapeText}, but a label or id file needs shape (count,) or (count, 1). Save a 1-D array.");
        }

        long count = header.Shape[0];
        CheckDataLength(stream, header, count, path);
        if (header.Type.IsInteger)
        {
            return (NumericArrayReader.ReadInt64s(stream, header.Type, count, lengthChecked: true, path, header.DataOffset), null);
        }

        if (integersOnly)
        {
            throw FileErrors.Invalid(path, $"ids have element type {header.Type}, but ids must be integers. Save them with dtype int64.");
        }

        return (null, NumericArrayReader.ReadDoubles(stream, header.Type, count, lengthChecked: true, path, header.DataOffset));
    }

    public static Header ReadHeader(Stream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength == 0)
        {
            throw FileErrors.Invalid(path, "file is empty. Expected a NumPy .npy array.");
        }

        Span<byte> prefix = stackalloc byte[10];
        FileErrors.ReadExactly(stream, prefix, path, 0, "the .npy magic and version");
        if (!HasMagic(prefix))
        {
            throw FileErrors.Invalid(path, $"bytes 0-5 are {Convert.ToHexString(prefix[..6])}, not the .npy magic 934E554D5059. The file is not a NumPy .npy file.");
        }

        byte major = prefix[6];
        int headerLength;
        long headerOffset;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            headerOffset = 10;
        }
        else if (major is 2 or 3)
        {
            Span<byte> lengthBytes = stackalloc byte[4];
            prefix[8..].CopyTo(lengthBytes);
            FileErrors.ReadExactly(stream, lengthBytes[2..], path, 10, "the .npy header length");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
            if (length > MaxHeaderLength)
            {
                throw FileErrors.Invalid(path, $"header length {length} at byte offset 8 exceeds the limit of {MaxHeaderLength} bytes. The file is corrupt.");
            }

            headerLength = (int)length;
            headerOffset = 12;
        }
        else
        {
            throw FileErrors.Invalid(path, $"byte 6 declares .npy format version {major}.{prefix[7]}, but only versions 1.0, 2.0 and 3.0 are supported. Save the array with numpy.save.");
        }

        if (headerLength > fileLength - headerOffset)
        {
            throw FileErrors.Truncated(path, fileLength, "the .npy header", headerLength - (fileLength - headerOffset));
        }

        byte[] headerBytes = new byte[headerLength];
        FileErrors.ReadExactly(stream, headerBytes, path, headerOffset, "the .npy header");
        string text = major == 3 ? DecodeUtf8(headerBytes, path, headerOffset) : Encoding.Latin1.GetString(headerBytes);

        var parser = new HeaderParser(text, path, headerOffset);
        var (descr, fortranOrder, shape) = parser.Parse();
        if (fortranOrder)
        {
            throw FileErrors.Invalid(path, "array is stored in Fortran (column-major) order, which is not supported. Save it with numpy.save(path, numpy.ascontiguousarray(x)).");
        }

        var type = ParseDescr(descr, path);
        return new Header(type, shape, headerOffset + headerLength);
    }

    public static void WriteFloat32(string path, ReadOnlySpan<float> values, int count, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.Length != checked((long)count * dimension))
        {
            throw new ArgumentException($"values has {values.Length} elements, but count * dimension = {count} * {dimension}. Pass exactly that many.", nameof(values));
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        WriteHeader(stream, "<f4", $"({count}, {dimension})");
        WriteLittleEndian(stream, values);
    }

    public static void WriteInt64(string path, ReadOnlySpan<long> values)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        WriteHeader(stream, "<i8", $"({values.Length},)");
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> bytes = stackalloc byte[8];
        foreach (long value in values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            stream.Write(bytes);
        }
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> bytes = stackalloc byte[4];
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            stream.Write(bytes);
        }
    }

    /// <summary>
    /// Writes a version 1.0 header, padded so the data starts at a multiple of 64 bytes as NumPy does.
    /// </summary>
    private static void WriteHeader(Stream stream, string descr, string shape)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = 10 + dict.Length + 1;
        int padding = (64 - (unpadded % 64)) % 64;
        string header = dict + new string(' ', padding) + "\n";

        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    private static string DecodeUtf8(byte[] bytes, string path, long offset)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw FileErrors.Invalid(path, $"version 3.0 header at byte offset {offset} is not valid UTF-8. The file is corrupt.");
        }
    }

    private static long ProductOfRest(long[] shape, string path, string shapeText)
    {
        long product = 1;
        for (int i = 1; i < shape.Length; i++)
        {
            if (shape[i] != 0 && product > long.MaxValue / shape[i])
            {
                throw FileErrors.Invalid(path, $"shape {shapeText} overflows a 64-bit element count. The header is corrupt.");
            }

            product *= shape[i];
        }

        return product;
    }

    /// <summary>
    /// Checks that exactly <paramref name="elements"/> elements follow the header, before anything is allocated.
    /// </summary>
    private static void CheckDataLength(Stream stream, Header header, long elements, string path)
    {
        long available = stream.Length - header.DataOffset;
        if (elements > long.MaxValue / header.Type.Size)
        {
            throw FileErrors.Invalid(path, $"shape {header.ShapeText} overflows a 64-bit byte count. The header is corrupt.");
        }

        long needed = elements * header.Type.Size;
        if (available < needed)
        {
            throw FileErrors.Invalid(
                path,
                $"shape {header.ShapeText} of {header.Type} needs {needed} data bytes after byte offset {header.DataOffset}, but the file has only {available}. The file is truncated or its header is corrupt.");
        }

        if (available > needed)
        {
            throw FileErrors.Invalid(
                path,
                $"file has {available - needed} extra bytes after the {needed} data bytes that shape {header.ShapeText} of {header.Type} needs. The header does not match the data.");
        }
    }

    private static ElementType ParseDescr(string descr, string path)
    {
        string bad = $"element type '{descr}' is not supported. Use a little- or big-endian float16/32/64, int8/16/32/64 or uint8/16/32/64 array, for example x.astype('<f4').";
        if (descr.Length < 2)
        {
            throw FileErrors.Invalid(path, bad);
        }

        int position = 0;
        bool bigEndian = !BitConverter.IsLittleEndian;
        switch (descr[0])
        {
            case '<':
                bigEndian = false;
                position = 1;
                break;
            case '>':
                bigEndian = true;
                position = 1;
                break;
            case '|':
            case '=':
                position = 1;
                break;
        }

        if (descr.Length - position < 2 || !int.TryParse(descr.AsSpan(position + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int size))
        {
            throw FileErrors.Invalid(path, bad);
        }

        ElementKind? kind = (descr[position], size) switch
        {
            ('f', 2 or 4 or 8) => ElementKind.Float,
            ('i', 1 or 2 or 4 or 8) => ElementKind.SignedInteger,
            ('u', 1 or 2 or 4 or 8) => ElementKind.UnsignedInteger,
            _ => null,
        };
        if (kind is null)
        {
            throw FileErrors.Invalid(path, bad);
        }

        return new ElementType(kind.Value, size, bigEndian);
    }

    /// <summary>
    /// Parser for the header dict. It accepts the subset NumPy writes: string, boolean and integer-tuple values.
    /// </summary>
    private ref struct HeaderParser(string text, string path, long offset)
    {
        private int _position;

        public (string Descr, bool FortranOrder, long[] Shape) Parse()
        {
            string? descr = null;
            bool? fortranOrder = null;
            long[]? shape = null;

            Expect('{');
            while (true)
            {
                SkipWhitespace();
                if (TryConsume('}'))
                {
                    break;
                }

                string key = ReadString();
                SkipWhitespace();
                Expect(':');
                SkipWhitespace();
                switch (key)
                {
                    case "descr":
                        if (Peek() is not ('\'' or '"'))
                        {
                            throw Error("'descr' is not a simple type string (structured dtypes are not supported). Save a plain numeric array");
                        }

                        descr = ReadString();
                        break;
                    case "fortran_order":
                        fortranOrder = ReadBoolean();
                        break;
                    case "shape":
                        shape = ReadShape();
                        break;
                    default:
                        throw Error($"unknown key '{key}' in the .npy header. The file was not written by numpy.save");
                }

                SkipWhitespace();
                if (TryConsume(','))
                {
                    continue;
                }

                Expect('}');
                break;
            }

            if (descr is null || fortranOrder is null || shape is null)
            {
                string missing = descr is null ? "descr" : fortranOrder is null ? "fortran_order" : "shape";
                throw FileErrors.Invalid(path, $".npy header at byte offset {offset} has no '{missing}' key. The file is corrupt.");
            }

            return (descr, fortranOrder.Value, shape);
        }

        private readonly char Peek() => _position < text.Length ? text[_position] : '\0';

        private readonly InvalidDataException Error(string detail) =>
            FileErrors.Invalid(path, $".npy header near byte offset {offset + _position}: {detail}.");

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private bool TryConsume(char c)
        {
            if (Peek() != c)
            {
                return false;
            }

            _position++;
            return true;
        }

        private void Expect(char c)
        {
            SkipWhitespace();
            if (!TryConsume(c))
            {
                throw Error($"expected '{c}' but found {FileErrors.Excerpt(text.AsSpan(_position, Math.Min(10, text.Length - _position)))}");
            }
        }

        private string ReadString()
        {
            char quote = Peek();
            if (quote is not ('\'' or '"'))
            {
                throw Error("expected a quoted key or value");
            }

            int start = ++_position;
            int end = text.IndexOf(quote, start);
            if (end < 0)
            {
                throw Error("string is not closed");
            }

            _position = end + 1;
            return text[start..end];
        }

        private bool ReadBoolean()
        {
            if (text.AsSpan(_position).StartsWith("True"))
            {
                _position += 4;
                return true;
            }

            if (text.AsSpan(_position).StartsWith("False"))
            {
                _position += 5;
                return false;
            }

            throw Error("'fortran_order' must be True or False");
        }

        private long[] ReadShape()
        {
            Expect('(');
            var dims = new List<long>();
            while (true)
            {
                SkipWhitespace();
                if (TryConsume(')'))
                {
                    break;
                }

                int start = _position;
                while (_position < text.Length && char.IsAsciiDigit(text[_position]))
                {
                    _position++;
                }

                if (!long.TryParse(text.AsSpan(start, _position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long dim))
                {
                    throw Error("'shape' must be a tuple of non-negative integers");
                }

                TryConsume('L');
                dims.Add(dim);
                SkipWhitespace();
                if (!TryConsume(','))
                {
                    Expect(')');
                    break;
                }
            }

            if (dims.Count == 0)
            {
                throw Error("'shape' is () so the array is a scalar. Save an array with at least one dimension");
            }

            return [.. dims];
        }
    }
}
