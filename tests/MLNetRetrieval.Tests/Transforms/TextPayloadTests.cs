using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Tests.Transforms;

public sealed class TextPayloadTests
{
    [Fact]
    public void SmallPayloadRoundTripsRaw()
    {
        byte[] payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();

        string[] chunks = TextPayload.Encode(payload, chunkBytes: 300);
        byte[] decoded = TextPayload.Decode(Memories(chunks));

        Assert.Contains("encoding=raw", chunks[0]);
        Assert.Equal(5, chunks.Length);
        Assert.Equal(payload, decoded);
    }

    [Fact]
    public void FloatPayloadRoundTripsCompressed()
    {
        // Integer-valued floats, like pixels, share exponent bytes and compress well.
        var random = new Random(5);
        float[] values = Enumerable.Range(0, 600_001).Select(_ => (float)random.Next(256)).ToArray();
        byte[] payload = new byte[(values.Length * 4) + 3];
        Buffer.BlockCopy(values, 0, payload, 0, values.Length * 4);
        payload[^1] = 42;

        string[] chunks = TextPayload.Encode(payload);
        byte[] decoded = TextPayload.Decode(Memories(chunks));

        Assert.Contains("encoding=shuffle4-deflate", chunks[0]);
        Assert.True(chunks.Skip(1).Sum(c => c.Length) < payload.Length, "the compressed text must be shorter than the raw bytes");
        Assert.Equal(payload, decoded);
    }

    [Fact]
    public void RandomPayloadStaysRaw()
    {
        var random = new Random(6);
        byte[] payload = new byte[(1 << 20) + 17];
        random.NextBytes(payload);

        string[] chunks = TextPayload.Encode(payload);

        Assert.Contains("encoding=raw", chunks[0]);
        Assert.Equal(payload, TextPayload.Decode(Memories(chunks)));
    }

    [Fact]
    public void ShuffleInvertsWithTail()
    {
        byte[] source = Enumerable.Range(0, 23).Select(i => (byte)i).ToArray();
        byte[] shuffled = new byte[source.Length];
        byte[] restored = new byte[source.Length];

        TextPayload.Shuffle(source, shuffled);
        TextPayload.Unshuffle(shuffled, restored);

        Assert.Equal(new byte[] { 0, 4, 8, 12, 16, 1, 5 }, shuffled[..7]);
        Assert.Equal(source, restored);
    }

    [Fact]
    public void FlippedCharacterFailsChecksum()
    {
        byte[] payload = Enumerable.Range(0, 3000).Select(i => (byte)(i % 251)).ToArray();
        string[] chunks = TextPayload.Encode(payload, chunkBytes: 999);
        char[] damaged = chunks[2].ToCharArray();
        damaged[10] = damaged[10] == 'A' ? 'B' : 'A';
        chunks[2] = new string(damaged);

        var error = Assert.Throws<InvalidDataException>(() => TextPayload.Decode(Memories(chunks)));

        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public void MissingChunkIsReported()
    {
        string[] chunks = TextPayload.Encode(new byte[3000], chunkBytes: 999);

        var error = Assert.Throws<InvalidDataException>(() => TextPayload.Decode(Memories(chunks[..^1])));

        Assert.Contains("declares 4 chunks but has 3", error.Message);
    }

    [Fact]
    public void UnknownEncodingIsReported()
    {
        string[] chunks = TextPayload.Encode(new byte[30]);
        chunks[0] = chunks[0].Replace("encoding=raw", "encoding=zstd");

        var error = Assert.Throws<InvalidDataException>(() => TextPayload.Decode(Memories(chunks)));

        Assert.Contains("'zstd'", error.Message);
    }

    [Fact]
    public void TruncatedDeflateIsReported()
    {
        var random = new Random(7);
        float[] values = Enumerable.Range(0, 400_000).Select(_ => (float)random.Next(16)).ToArray();
        byte[] payload = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, payload, 0, payload.Length);
        string[] chunks = TextPayload.Encode(payload);
        byte[] stored = Convert.FromBase64String(chunks[1]);
        // Keep the header's stored length but zero the second half of the deflate stream.
        Array.Clear(stored, stored.Length / 2, stored.Length - (stored.Length / 2));
        chunks[1] = Convert.ToBase64String(stored);

        Assert.Throws<InvalidDataException>(() => TextPayload.Decode(Memories(chunks)));
    }

    [Fact]
    public void EmptyChunkVectorIsReported()
    {
        var error = Assert.Throws<InvalidDataException>(() => TextPayload.Decode(ReadOnlySpan<ReadOnlyMemory<char>>.Empty));

        Assert.Contains("empty", error.Message);
    }

    private static ReadOnlyMemory<char>[] Memories(string[] chunks) => chunks.Select(c => c.AsMemory()).ToArray();
}
