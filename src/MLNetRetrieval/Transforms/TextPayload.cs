using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Encodes a binary blob as a vector of text chunks and back, so that a standard ML.NET value
/// mapping can carry it inside a model zip.
/// </summary>
/// <remarks>
/// <para>
/// Chunk 0 is a header:
/// <c>MLNetRetrieval.Payload/1;bytes=N;encoding=E;stored=S;chunks=C;sha256=HEX</c>, where N and the
/// SHA-256 describe the decoded blob and S is the length of the stored bytes. Chunks 1..C are Base64
/// of consecutive ranges of the stored bytes, each a multiple of 3 long, so each chunk decodes on its
/// own. The header doubles as the fingerprint that decoded states are cached under: two payloads
/// with the same header have the same bytes.
/// </para>
/// <para>
/// Encoding <c>raw</c> stores the blob as it is. Encoding <c>shuffle4-deflate</c> first regroups the
/// bytes by position within 4-byte words (all first bytes, then all second bytes, ...) and then
/// deflates them. Float vectors compress far better that way, because exponent bytes repeat. Every
/// character saved matters, because ML.NET's value mapping writes and reads its text at roughly
/// 50 ns per character (measured with ML.NET 6.0.0 on the benchmark machine). A 60000 × 784 float
/// collection in raw Base64 (251 M characters) cost about 13 s to fit and 18 s to load.
/// The encoder samples the start of the blob and compresses only when the sample shrinks by a
/// quarter or more.
/// </para>
/// <para>
/// Chunking keeps every string far below the runtime's string length limit.
/// </para>
/// </remarks>
internal static class TextPayload
{
    internal const string Magic = "MLNetRetrieval.Payload/1";
    internal const string RawEncoding = "raw";
    internal const string ShuffleDeflateEncoding = "shuffle4-deflate";

    /// <summary>Bytes per chunk: a multiple of 3, giving 8 M Base64 characters per chunk.</summary>
    internal const int ChunkBytes = 6 * 1024 * 1024;

    /// <summary>Blobs smaller than this are stored raw: compressing them saves little time.</summary>
    private const int MinCompressedBytes = 1 << 20;

    private const int SampleBytes = 1 << 20;

    public static string[] Encode(ReadOnlySpan<byte> payload, int chunkBytes = ChunkBytes)
    {
        if (chunkBytes <= 0 || chunkBytes % 3 != 0)
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), chunkBytes, "Chunk size must be a positive multiple of 3.");

        string hash = Convert.ToHexString(SHA256.HashData(payload));
        string encoding = RawEncoding;
        ReadOnlySpan<byte> stored = payload;
        if (payload.Length >= MinCompressedBytes && CompressionPays(payload[..Math.Min(SampleBytes, payload.Length)]))
        {
            byte[] compressed = Compress(payload);
            if (compressed.Length < payload.Length * 0.9)
            {
                stored = compressed;
                encoding = ShuffleDeflateEncoding;
            }
        }

        int chunkCount = (int)((stored.Length + (long)chunkBytes - 1) / chunkBytes);
        var chunks = new string[chunkCount + 1];
        chunks[0] = string.Create(CultureInfo.InvariantCulture,
            $"{Magic};bytes={payload.Length};encoding={encoding};stored={stored.Length};chunks={chunkCount};sha256={hash}");
        for (int i = 0; i < chunkCount; i++)
        {
            int start = i * chunkBytes;
            int length = Math.Min(chunkBytes, stored.Length - start);
            chunks[i + 1] = Convert.ToBase64String(stored.Slice(start, length));
        }

        return chunks;
    }

    /// <summary>Decodes the chunks and verifies lengths and checksum.</summary>
    /// <exception cref="InvalidDataException">The header is malformed, a chunk is missing or damaged, or the checksum differs.</exception>
    public static byte[] Decode(ReadOnlySpan<ReadOnlyMemory<char>> chunks)
    {
        if (chunks.Length == 0)
            throw new InvalidDataException("The model's retrieval state is empty: the value mapping that stores it returned no text. The model file is damaged or was not saved by MLNetRetrieval.");

        Header header = ParseHeader(chunks[0].Span);
        if (chunks.Length != header.ChunkCount + 1)
            throw new InvalidDataException($"The model's retrieval state declares {header.ChunkCount} chunks but has {chunks.Length - 1}. The model file is damaged.");

        // Check the Base64 lengths against the header before allocating the stored bytes.
        long textBytes = 0;
        for (int i = 1; i < chunks.Length; i++)
            textBytes += Base64Length(chunks[i].Span);
        if (textBytes != header.StoredCount)
            throw new InvalidDataException($"The model's retrieval state chunks hold {textBytes} bytes but the header declares {header.StoredCount}. The model file is damaged.");

        var stored = new byte[header.StoredCount];
        int written = 0;
        for (int i = 1; i < chunks.Length; i++)
        {
            if (!Convert.TryFromBase64Chars(chunks[i].Span, stored.AsSpan(written), out int decoded))
                throw new InvalidDataException($"The model's retrieval state chunk {i} of {header.ChunkCount} is not valid Base64 or is longer than declared ({header.StoredCount} bytes in all). The model file is damaged.");
            written += decoded;
        }

        if (written != header.StoredCount)
            throw new InvalidDataException($"The model's retrieval state decodes to {written} bytes but declares {header.StoredCount}. The model file is damaged.");

        byte[] payload = header.Encoding == RawEncoding ? stored : Decompress(stored, header.ByteCount);
        string actualHash = Convert.ToHexString(SHA256.HashData(payload));
        if (!string.Equals(actualHash, header.Hash, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"The model's retrieval state fails its SHA-256 check (expected {header.Hash}, got {actualHash}). The model file is damaged.");

        return payload;
    }

    private static long Base64Length(ReadOnlySpan<char> text)
    {
        int padding = text.EndsWith("==") ? 2 : text.EndsWith("=") ? 1 : 0;
        return (text.Length / 4 * 3L) - padding;
    }

    private static bool CompressionPays(ReadOnlySpan<byte> sample) => Compress(sample).Length <= sample.Length * 0.75;

    private static byte[] Compress(ReadOnlySpan<byte> payload)
    {
        byte[] shuffled = new byte[payload.Length];
        Shuffle(payload, shuffled);
        using var output = new MemoryStream(payload.Length / 2);
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
            deflate.Write(shuffled);
        return output.ToArray();
    }

    private static byte[] Decompress(byte[] stored, int byteCount)
    {
        var shuffled = new byte[byteCount];
        int total = 0;
        bool trailing;
        try
        {
            using var inflate = new DeflateStream(new MemoryStream(stored, writable: false), CompressionMode.Decompress);
            int read;
            while (total < byteCount && (read = inflate.Read(shuffled, total, byteCount - total)) > 0)
                total += read;
            trailing = inflate.Read(new byte[1], 0, 1) != 0;
        }
        catch (InvalidDataException error)
        {
            throw new InvalidDataException($"The model's retrieval state is not valid deflate data ({error.Message}). The model file is damaged.", error);
        }

        if (total != byteCount || trailing)
            throw new InvalidDataException($"The model's retrieval state inflates to a length other than the declared {byteCount} bytes. The model file is damaged.");

        var payload = new byte[byteCount];
        Unshuffle(shuffled, payload);
        return payload;
    }

    /// <summary>Regroups bytes by their position within 4-byte words; a tail of fewer than 4 bytes stays in place at the end.</summary>
    internal static void Shuffle(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int words = source.Length / 4;
        for (int lane = 0; lane < 4; lane++)
        {
            Span<byte> plane = destination.Slice(lane * words, words);
            for (int i = 0; i < words; i++)
                plane[i] = source[(4 * i) + lane];
        }

        source[(4 * words)..].CopyTo(destination[(4 * words)..]);
    }

    /// <summary>Reverses <see cref="Shuffle"/>.</summary>
    internal static void Unshuffle(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int words = source.Length / 4;
        for (int lane = 0; lane < 4; lane++)
        {
            ReadOnlySpan<byte> plane = source.Slice(lane * words, words);
            for (int i = 0; i < words; i++)
                destination[(4 * i) + lane] = plane[i];
        }

        source[(4 * words)..].CopyTo(destination[(4 * words)..]);
    }

    private readonly record struct Header(int ByteCount, string Encoding, int StoredCount, int ChunkCount, string Hash);

    private static Header ParseHeader(ReadOnlySpan<char> headerText)
    {
        string text = headerText.ToString();
        string[] parts = text.Split(';');
        if (parts.Length != 6 || parts[0] != Magic)
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(text)}' is not '{Magic};bytes=..;encoding=..;stored=..;chunks=..;sha256=..'. The model was written by an incompatible MLNetRetrieval version or is damaged.");

        int byteCount = ParseField(parts[1], "bytes=", text);
        string encoding = parts[2].StartsWith("encoding=", StringComparison.Ordinal) ? parts[2]["encoding=".Length..] : string.Empty;
        if (encoding != RawEncoding && encoding != ShuffleDeflateEncoding)
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(text)}' names encoding '{encoding}'; known encodings are {RawEncoding} and {ShuffleDeflateEncoding}. Upgrade MLNetRetrieval or check the model file.");
        int storedCount = ParseField(parts[3], "stored=", text);
        int chunkCount = ParseField(parts[4], "chunks=", text);
        if (!parts[5].StartsWith("sha256=", StringComparison.Ordinal) || parts[5].Length != "sha256=".Length + 64)
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(text)}' has no valid sha256 field. The model file is damaged.");
        if (encoding == RawEncoding && storedCount != byteCount)
            throw new InvalidDataException($"The model's retrieval state header declares {storedCount} stored bytes for {byteCount} raw bytes. The model file is damaged.");

        // Deflate cannot expand data more than about 1032-fold; a larger claim would only make the
        // decoder allocate a buffer that the stored bytes cannot fill.
        if (encoding == ShuffleDeflateEncoding && byteCount > (storedCount * 1032L) + 1024)
            throw new InvalidDataException($"The model's retrieval state header declares {byteCount} bytes inflated from {storedCount} stored bytes, more than deflate can produce. The model file is damaged.");
        if (chunkCount > storedCount || (storedCount > 0 && chunkCount == 0))
            throw new InvalidDataException($"The model's retrieval state header declares {chunkCount} chunks for {storedCount} stored bytes. The model file is damaged.");

        return new Header(byteCount, encoding, storedCount, chunkCount, parts[5]["sha256=".Length..]);
    }

    private static int ParseField(string part, string prefix, string header)
    {
        if (!part.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(part.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(header)}' has no valid '{prefix}' field. The model file is damaged.");
        return value;
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "...";
}
