using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MLNetRetrieval.Persistence;

/// <summary>
/// Writes the <see cref="BinaryFormat"/> layout to a stream, which need not be seekable: each section
/// declares its length up front and <see cref="EndSection"/> checks that exactly that many bytes followed.
/// Call <see cref="Finish"/> once at the end to write the checksum trailer.
/// </summary>
internal sealed class BinaryFormatWriter
{
    private const int BufferSize = 1 << 16;

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[BufferSize];
    private Crc32 _crc = new();
    private int _buffered;
    private string? _section;
    private long _sectionRemaining;

    /// <summary>Writes the header.</summary>
    /// <param name="stream">Destination, left open.</param>
    /// <param name="signature">Eight ASCII characters naming the file type.</param>
    /// <param name="writtenVersion">Version of the layout that follows.</param>
    /// <param name="minReaderVersion">Oldest reader version that can read it.</param>
    public BinaryFormatWriter(Stream stream, string signature, uint writtenVersion, uint minReaderVersion)
    {
        ArgumentNullException.ThrowIfNull(stream);
        BinaryFormat.CheckTag(signature, 8, nameof(signature));
        if (minReaderVersion > writtenVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(minReaderVersion), minReaderVersion, $"minReaderVersion must not exceed writtenVersion ({writtenVersion}).");
        }

        _stream = stream;
        WriteRaw(Encoding.ASCII.GetBytes(signature));
        WriteUInt32Raw(writtenVersion);
        WriteUInt32Raw(minReaderVersion);
    }

    /// <summary>Starts a section of exactly <paramref name="length"/> bytes.</summary>
    public void BeginSection(string fourcc, long length)
    {
        BinaryFormat.CheckTag(fourcc, 4, nameof(fourcc));
        if (_section is not null)
        {
            throw new InvalidOperationException($"Section \"{_section}\" is still open with {_sectionRemaining} bytes to write; end it before starting \"{fourcc}\".");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        WriteRaw(Encoding.ASCII.GetBytes(fourcc));
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, length);
        WriteRaw(bytes);
        _section = fourcc;
        _sectionRemaining = length;
    }

    /// <summary>Ends the open section, checking that its declared length was written.</summary>
    public void EndSection()
    {
        if (_section is null)
        {
            throw new InvalidOperationException("No section is open.");
        }

        if (_sectionRemaining != 0)
        {
            throw new InvalidOperationException($"Section \"{_section}\" still expects {_sectionRemaining} bytes.");
        }

        _section = null;
    }

    public void WriteByte(byte value) => WriteField(stackalloc byte[] { value });

    public void WriteInt32(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        WriteField(bytes);
    }

    public void WriteInt64(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        WriteField(bytes);
    }

    /// <summary>Writes <paramref name="values"/> as they are, such as product-quantization codes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> values) => WriteField(values);

    public void WriteInt64s(ReadOnlySpan<long> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            WriteField(MemoryMarshal.AsBytes(values));
            return;
        }

        foreach (long value in values)
        {
            WriteInt64(value);
        }
    }

    public void WriteSingles(ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            WriteField(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> bytes = stackalloc byte[4];
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            WriteField(bytes);
        }
    }

    /// <summary>Writes the checksum trailer and flushes.</summary>
    public void Finish()
    {
        if (_section is not null)
        {
            throw new InvalidOperationException($"Section \"{_section}\" is still open with {_sectionRemaining} bytes to write.");
        }

        FlushBuffer();
        uint checksum = _crc.Value;
        BeginSection(BinaryFormat.ChecksumFourcc, 4);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, checksum);
        WriteField(bytes);
        EndSection();
        FlushBuffer();
        _stream.Flush();
    }

    private void WriteField(ReadOnlySpan<byte> bytes)
    {
        if (_section is null)
        {
            throw new InvalidOperationException("Fields must be written inside a section.");
        }

        if (bytes.Length > _sectionRemaining)
        {
            throw new InvalidOperationException($"Section \"{_section}\" has {_sectionRemaining} bytes left but {bytes.Length} were written.");
        }

        _sectionRemaining -= bytes.Length;
        WriteRaw(bytes);
    }

    private void WriteUInt32Raw(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        WriteRaw(bytes);
    }

    private void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int count = Math.Min(bytes.Length, BufferSize - _buffered);
            bytes.Slice(0, count).CopyTo(_buffer.AsSpan(_buffered));
            _buffered += count;
            bytes = bytes.Slice(count);
            if (_buffered == BufferSize)
            {
                FlushBuffer();
            }
        }
    }

    private void FlushBuffer()
    {
        _crc.Append(_buffer.AsSpan(0, _buffered));
        _stream.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }
}
