using System.Globalization;
using System.Security.Cryptography;

namespace MLNetRetrieval.Images.Transforms;

/// <summary>
/// Encodes the serialized embedding state as a vector of Base64 text chunks and back, so that a
/// standard ML.NET value mapping can carry it inside a model zip.
/// </summary>
/// <remarks>
/// <para>
/// Chunk 0 is the header <c>MLNetRetrieval.ImagePayload/1;bytes=N;chunks=C;sha256=HEX</c>, where N
/// and the SHA-256 describe the decoded bytes. Chunks 1..C are Base64 of consecutive byte ranges, each
/// a multiple of 3 bytes long, so that each chunk decodes on its own. The header is also the key under
/// which decoded states are cached.
/// </para>
/// <para>
/// The bytes are stored without compression, because ONNX weights are float32 values with little
/// redundancy. With ResNet18 (63 MB, 85 M Base64 characters) and ML.NET 6.0.0, the value mapping took
/// about 4 s to build, 1.4 s to save and 6 s to load in a scratch program on a 2-core machine. That
/// process peaked at 2.2 GB resident memory. A denser encoding with 15 bits per character saved
/// under a second of that, so it was not adopted.
/// </para>
/// <para>
/// NOTE: that load time and memory come from ML.NET's value mapping, not from the model. Storing the
/// bytes in a binary transformer such as ML.NET's ONNX transformer would load faster, but a custom
/// mapping can only read row values, so the scoring path could not reach them there.
/// </para>
/// </remarks>
internal static class ImageModelPayload
{
    internal const string Magic = "MLNetRetrieval.ImagePayload/1";

    /// <summary>Bytes per chunk: a multiple of 3, giving 8 M Base64 characters per chunk.</summary>
    internal const int ChunkBytes = 6 * 1024 * 1024;

    public static string[] Encode(ReadOnlySpan<byte> payload, int chunkBytes = ChunkBytes)
    {
        if (chunkBytes <= 0 || chunkBytes % 3 != 0)
            throw new ArgumentOutOfRangeException(nameof(chunkBytes), chunkBytes, "The chunk size must be a positive multiple of 3.");

        int chunkCount = (int)((payload.Length + (long)chunkBytes - 1) / chunkBytes);
        var chunks = new string[chunkCount + 1];
        string hash = Convert.ToHexString(SHA256.HashData(payload));
        chunks[0] = string.Create(CultureInfo.InvariantCulture, $"{Magic};bytes={payload.Length};chunks={chunkCount};sha256={hash}");
        for (int i = 0; i < chunkCount; i++)
        {
            int start = i * chunkBytes;
            chunks[i + 1] = Convert.ToBase64String(payload.Slice(start, Math.Min(chunkBytes, payload.Length - start)));
        }

        return chunks;
    }

    /// <summary>Decodes the chunks and verifies the length and the checksum.</summary>
    /// <exception cref="InvalidDataException">The header is malformed, a chunk is missing or damaged, or the checksum differs.</exception>
    public static byte[] Decode(ReadOnlySpan<ReadOnlyMemory<char>> chunks)
    {
        if (chunks.IsEmpty)
            throw Damaged("the value mapping that stores it returned no text");

        (int byteCount, int chunkCount, string hash) = ParseHeader(chunks[0].ToString());
        if (chunks.Length != chunkCount + 1)
            throw Damaged($"the header declares {chunkCount} chunks but {chunks.Length - 1} are present");

        // Check the Base64 lengths against the header before allocating.
        long total = 0;
        for (int i = 1; i < chunks.Length; i++)
            total += DecodedLength(chunks[i].Span);
        if (total != byteCount)
            throw Damaged($"the chunks hold {total} bytes but the header declares {byteCount}");

        var payload = new byte[byteCount];
        int written = 0;
        for (int i = 1; i < chunks.Length; i++)
        {
            if (!Convert.TryFromBase64Chars(chunks[i].Span, payload.AsSpan(written), out int decoded))
                throw Damaged($"chunk {i} of {chunkCount} is not valid Base64");
            written += decoded;
        }

        if (written != byteCount)
            throw Damaged($"the chunks decode to {written} bytes but the header declares {byteCount}");

        string actual = Convert.ToHexString(SHA256.HashData(payload));
        if (!string.Equals(actual, hash, StringComparison.OrdinalIgnoreCase))
            throw Damaged($"the SHA-256 check failed (expected {hash}, got {actual})");
        return payload;
    }

    private static (int ByteCount, int ChunkCount, string Hash) ParseHeader(string header)
    {
        string[] parts = header.Split(';');
        if (parts.Length != 4 || parts[0] != Magic)
            throw Damaged($"the header '{Shorten(header)}' is not '{Magic};bytes=..;chunks=..;sha256=..', so the model was written by an incompatible MLNetRetrieval.Images version");

        int byteCount = ParseCount(parts[1], "bytes=", header);
        int chunkCount = ParseCount(parts[2], "chunks=", header);
        if (!parts[3].StartsWith("sha256=", StringComparison.Ordinal) || parts[3].Length != "sha256=".Length + 64)
            throw Damaged($"the header '{Shorten(header)}' has no valid sha256 field");
        if (chunkCount > byteCount || (byteCount > 0 && chunkCount == 0))
            throw Damaged($"the header declares {chunkCount} chunks for {byteCount} bytes");
        return (byteCount, chunkCount, parts[3]["sha256=".Length..]);
    }

    private static int ParseCount(string part, string prefix, string header)
    {
        if (!part.StartsWith(prefix, StringComparison.Ordinal)
            || !int.TryParse(part.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            throw Damaged($"the header '{Shorten(header)}' has no valid '{prefix}' field");
        return value;
    }

    private static long DecodedLength(ReadOnlySpan<char> base64)
    {
        int padding = base64.EndsWith("==") ? 2 : base64.EndsWith("=") ? 1 : 0;
        return (base64.Length / 4 * 3L) - padding;
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "...";

    private static InvalidDataException Damaged(string detail) =>
        new($"The model's image embedding state is invalid: {detail}. The model file is damaged or was not saved by MLNetRetrieval.Images.");
}
