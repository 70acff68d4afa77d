using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MLNetRetrieval.Persistence;

/// <summary>
/// Reads the <see cref="BinaryFormat"/> layout and turns every inconsistency into an
/// <see cref="InvalidDataException"/> that names the source, the field and its byte offset.
/// </summary>
/// <remarks>
/// The stream must be seekable so that declared sizes can be checked against the bytes left before
/// anything is allocated; <see cref="Open"/> copies a non-seekable stream into memory first.
/// </remarks>
internal sealed class BinaryFormatReader
{
    private readonly Stream _stream;
    private readonly string _source;
    private readonly long _end;
    private Crc32 _crc = new();
    private string? _section;
    private long _sectionEnd;

    private BinaryFormatReader(Stream stream, string source)
    {
        _stream = stream;
        _source = source;
        _end = stream.Length;
        Offset = 0;
    }

    /// <summary>Byte offset of the next field, counted from the start of the header.</summary>
    public long Offset { get; private set; }

    /// <summary>Bytes left in the stream.</summary>
    public long Remaining => _end - Offset;

    /// <summary>Bytes left in the open section.</summary>
    public long SectionRemaining => _sectionEnd - Offset;

    /// <summary>Creates a reader at the current position of <paramref name="stream"/>.</summary>
    /// <param name="stream">Source, left open.</param>
    /// <param name="source">Name used in error messages, such as a file path.</param>
    public static BinaryFormatReader Open(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("Stream must be readable.", nameof(stream));
        }

        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            return new BinaryFormatReader(copy, source);
        }

        if (stream.Position != 0)
        {
            // Read from the current position as if it were offset 0.
            var window = new MemoryStream();
            stream.CopyTo(window);
            window.Position = 0;
            return new BinaryFormatReader(window, source);
        }

        return new BinaryFormatReader(stream, source);
    }

    /// <summary>
    /// Reads and checks the header, returning the written version.
    /// </summary>
    /// <param name="signature">Expected eight-character signature.</param>
    /// <param name="readerVersion">Newest layout version this caller reads.</param>
    public uint ReadHeader(string signature, uint readerVersion)
    {
        Span<byte> bytes = stackalloc byte[8];
        ReadExact(bytes, "signature");
        string actual = Encoding.ASCII.GetString(bytes);
        if (actual != signature)
        {
            throw Error("signature", 0, $"expected \"{signature}\", got \"{Printable(bytes)}\"; this is not a file of this type");
        }

        uint written = ReadUInt32Raw("writtenVersion");
        uint minReader = ReadUInt32Raw("minReaderVersion");
        if (minReader > readerVersion)
        {
            throw Error("minReaderVersion", 12, $"the file needs reader version {minReader} or newer (written as version {written}), but this library reads up to version {readerVersion}; upgrade MLNetRetrieval");
        }

        if (written < minReader)
        {
            throw Error("writtenVersion", 8, $"written version {written} is older than its minReaderVersion {minReader}");
        }

        return written;
    }

    /// <summary>Reads a section header, requiring <paramref name="fourcc"/>, and returns the section length.</summary>
    public long BeginSection(string fourcc)
    {
        if (_section is not null)
        {
            throw new InvalidOperationException($"Section \"{_section}\" is still open.");
        }

        long start = Offset;
        Span<byte> bytes = stackalloc byte[4];
        ReadExact(bytes, $"section tag (expected \"{fourcc}\")");
        string actual = Encoding.ASCII.GetString(bytes);
        if (actual != fourcc)
        {
            throw Error("section tag", start, $"expected section \"{fourcc}\", got \"{Printable(bytes)}\"");
        }

        long lengthOffset = Offset;
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExact(lengthBytes, $"\"{fourcc}\" section length");
        long length = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (length < 0 || length > Remaining)
        {
            throw Error($"\"{fourcc}\" section length", lengthOffset, $"declared {length} bytes but {Remaining} bytes remain");
        }

        _section = fourcc;
        _sectionEnd = Offset + length;
        return length;
    }

    /// <summary>Checks that the open section was read to its declared end.</summary>
    public void EndSection()
    {
        if (_section is null)
        {
            throw new InvalidOperationException("No section is open.");
        }

        if (Offset != _sectionEnd)
        {
            throw Error($"\"{_section}\" section", Offset, $"{_sectionEnd - Offset} unread bytes before the declared end at offset {_sectionEnd}");
        }

        _section = null;
    }

    public byte ReadByte(string field)
    {
        Span<byte> bytes = stackalloc byte[1];
        ReadField(bytes, field);
        return bytes[0];
    }

    public int ReadInt32(string field)
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadField(bytes, field);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    public long ReadInt64(string field)
    {
        Span<byte> bytes = stackalloc byte[8];
        ReadField(bytes, field);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>Fills <paramref name="values"/> with raw bytes; call <see cref="EnsureSectionHolds"/> before allocating it.</summary>
    public void ReadBytes(Span<byte> values, string field) => ReadField(values, field);

    /// <summary>Fills <paramref name="values"/>; call <see cref="EnsureSectionHolds"/> before allocating it.</summary>
    public void ReadInt64s(Span<long> values, string field)
    {
        ReadField(MemoryMarshal.AsBytes(values), field);
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReverseEndianness(values[i]);
            }
        }
    }

    /// <summary>Fills <paramref name="values"/> and rejects NaN and infinities, naming the element index.</summary>
    public void ReadSingles(Span<float> values, string field)
    {
        long start = Offset;
        Span<byte> bytes = MemoryMarshal.AsBytes(values);
        ReadField(bytes, field);
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<float, int>(values);
            for (int i = 0; i < words.Length; i++)
            {
                words[i] = BinaryPrimitives.ReverseEndianness(words[i]);
            }
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw Error($"{field}[{i}]", start + (4L * i), $"value {values[i]} is not finite");
            }
        }
    }

    /// <summary>Throws unless the rest of the open section is exactly <paramref name="count"/> elements of <paramref name="elementSize"/> bytes.</summary>
    public void EnsureSectionHolds(long count, int elementSize, string field)
    {
        if (count < 0 || count > SectionRemaining / elementSize || count * elementSize != SectionRemaining)
        {
            throw Error(field, Offset, $"expected {count} elements of {elementSize} bytes, but the section has {SectionRemaining} bytes left");
        }
    }

    /// <summary>Reads the checksum trailer, compares it with the bytes read, and requires the end of the data.</summary>
    public void VerifyChecksum()
    {
        uint computed = _crc.Value;
        long start = Offset;
        BeginSection(BinaryFormat.ChecksumFourcc);
        if (SectionRemaining != 4)
        {
            throw Error("checksum", Offset, $"expected a 4-byte checksum section, got {SectionRemaining} bytes");
        }

        uint stored = ReadUInt32Raw("checksum");
        _section = null;
        if (stored != computed)
        {
            throw Error("checksum", start, $"stored CRC-32 0x{stored:X8} does not match computed 0x{computed:X8}; the file is corrupt");
        }

        if (Remaining != 0)
        {
            throw Error("end of data", Offset, $"{Remaining} unexpected bytes after the checksum");
        }
    }

    /// <summary>Returns an exception for a field whose value is invalid.</summary>
    public InvalidDataException Error(string field, long offset, string problem) =>
        new($"{_source}: invalid {field} at byte offset {offset}: {problem}.");

    private void ReadField(Span<byte> bytes, string field)
    {
        if (_section is null)
        {
            throw new InvalidOperationException("Fields must be read inside a section.");
        }

        if (bytes.Length > SectionRemaining)
        {
            throw Error(field, Offset, $"needs {bytes.Length} bytes but the \"{_section}\" section has {SectionRemaining} left");
        }

        ReadExact(bytes, field);
    }

    private uint ReadUInt32Raw(string field)
    {
        Span<byte> bytes = stackalloc byte[4];
        ReadExact(bytes, field);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    }

    private void ReadExact(Span<byte> bytes, string field)
    {
        long start = Offset;
        int total = 0;
        while (total < bytes.Length)
        {
            int read = _stream.Read(bytes.Slice(total));
            if (read == 0)
            {
                throw Error(field, start, $"unexpected end of data: needed {bytes.Length} bytes, found {total}; the file is truncated");
            }

            total += read;
        }

        _crc.Append(bytes);
        Offset += bytes.Length;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            text.Append(b is >= 0x20 and <= 0x7E ? (char)b : '?');
        }

        return text.ToString();
    }
}
