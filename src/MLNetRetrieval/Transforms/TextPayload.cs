using System.Globalization;
using System.Security.Cryptography;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Encodes a binary blob as a vector of text chunks and back, so that a standard ML.NET value
/// mapping can carry it inside a model zip.
/// </summary>
/// <remarks>
/// Chunk 0 is a header: <c>MLNetRetrieval.Payload/1;bytes=N;chunks=C;sha256=HEX</c>. Chunks 1..C are
/// Base64 of consecutive byte ranges whose length is a multiple of 3, so each chunk decodes on its
/// own. The header doubles as the fingerprint that decoded states are cached under: two payloads with
/// the same header have the same bytes. Chunking keeps every string far below the runtime's string
/// length limit, which a 60000 × 784 float collection (188 MB, 251 M Base64 characters) would reach.
/// </remarks>
internal static class TextPayload
{
    internal const string Magic = "MLNetRetrieval.Payload/1";

    /// <summary>Bytes per chunk: a multiple of 3, giving 8 M Base64 characters per chunk.</summary>
    internal const int ChunkBytes = 6 * 1024 * 1024;

    public static string[] Encode(ReadOnlySpan<byte> payload, int chunkBytes = ChunkBytes)
    {
        if (chunkBytes <= 0 || chunkBytes % 3 != 0)
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), chunkBytes, "Chunk size must be a positive multiple of 3.");

        int chunkCount = (int)((payload.Length + (long)chunkBytes - 1) / chunkBytes);
        var chunks = new string[chunkCount + 1];
        string hash = Convert.ToHexString(SHA256.HashData(payload));
        chunks[0] = string.Create(CultureInfo.InvariantCulture, $"{Magic};bytes={payload.Length};chunks={chunkCount};sha256={hash}");
        for (int i = 0; i < chunkCount; i++)
        {
            int start = i * chunkBytes;
            int length = Math.Min(chunkBytes, payload.Length - start);
            chunks[i + 1] = Convert.ToBase64String(payload.Slice(start, length));
        }

        return chunks;
    }

    /// <summary>Decodes the chunks and verifies length and checksum.</summary>
    /// <exception cref="InvalidDataException">The header is malformed, a chunk is missing or damaged, or the checksum differs.</exception>
    public static byte[] Decode(ReadOnlySpan<ReadOnlyMemory<char>> chunks)
    {
        if (chunks.Length == 0)
            throw new InvalidDataException("The model's retrieval state is empty: the value mapping that stores it returned no text. The model file is damaged or was not saved by MLNetRetrieval.");

        var (byteCount, chunkCount, expectedHash) = ParseHeader(chunks[0].Span);
        if (chunks.Length != chunkCount + 1)
            throw new InvalidDataException($"The model's retrieval state declares {chunkCount} chunks but has {chunks.Length - 1}. The model file is damaged.");

        var payload = new byte[byteCount];
        int written = 0;
        for (int i = 1; i < chunks.Length; i++)
        {
            ReadOnlySpan<char> text = chunks[i].Span;
            if (!Convert.TryFromBase64Chars(text, payload.AsSpan(written), out int decoded))
                throw new InvalidDataException($"The model's retrieval state chunk {i} of {chunkCount} is not valid Base64 or is longer than declared ({byteCount} bytes in all). The model file is damaged.");
            written += decoded;
        }

        if (written != byteCount)
            throw new InvalidDataException($"The model's retrieval state decodes to {written} bytes but declares {byteCount}. The model file is damaged.");

        string actualHash = Convert.ToHexString(SHA256.HashData(payload));
        if (!string.Equals(actualHash, expectedHash, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"The model's retrieval state fails its SHA-256 check (expected {expectedHash}, got {actualHash}). The model file is damaged.");

        return payload;
    }

    private static (int ByteCount, int ChunkCount, string Hash) ParseHeader(ReadOnlySpan<char> header)
    {
        string text = header.ToString();
        string[] parts = text.Split(';');
        if (parts.Length != 4 || parts[0] != Magic)
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(text)}' is not '{Magic};bytes=..;chunks=..;sha256=..'. The model was written by an incompatible MLNetRetrieval version or is damaged.");

        int byteCount = ParseField(parts[1], "bytes=", text);
        int chunkCount = ParseField(parts[2], "chunks=", text);
        if (!parts[3].StartsWith("sha256=", StringComparison.Ordinal) || parts[3].Length != "sha256=".Length + 64)
            throw new InvalidDataException($"The model's retrieval state header '{Shorten(text)}' has no valid sha256 field. The model file is damaged.");

        long maxChunks = ((long)byteCount + ChunkBytes - 1) / ChunkBytes;
        if (chunkCount > maxChunks + 1 || (byteCount > 0 && chunkCount == 0))
            throw new InvalidDataException($"The model's retrieval state header declares {chunkCount} chunks for {byteCount} bytes. The model file is damaged.");

        return (byteCount, chunkCount, parts[3]["sha256=".Length..]);
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
