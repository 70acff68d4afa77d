using MLNetRetrieval.Images.Transforms;

namespace MLNetRetrieval.Tests.Images.Transforms;

public sealed class ImageModelPayloadTests
{
    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 3)]
    [InlineData(1238, 3)]
    [InlineData(1238, 300)]
    [InlineData(1238, ImageModelPayload.ChunkBytes)]
    public void PayloadRoundTripsExactly(int length, int chunkBytes)
    {
        byte[] payload = new byte[length];
        new Random(length).NextBytes(payload);

        string[] chunks = ImageModelPayload.Encode(payload, chunkBytes);
        byte[] decoded = ImageModelPayload.Decode(Memories(chunks));

        Assert.Equal(payload, decoded);
        Assert.Equal(1 + ((length + chunkBytes - 1) / chunkBytes), chunks.Length);
    }

    [Fact]
    public void TinyModelChunksDecodeAlone()
    {
        string[] chunks = ImageModelPayload.Encode(TinyModel.Bytes(), chunkBytes: 300);

        byte[] joined = chunks.Skip(1).SelectMany(Convert.FromBase64String).ToArray();

        Assert.Equal(TinyModel.Bytes(), joined);
    }

    [Fact]
    public void FlippedCharacterFailsChecksum()
    {
        string[] chunks = ImageModelPayload.Encode(TinyModel.Bytes(), chunkBytes: 300);
        char[] damaged = chunks[2].ToCharArray();
        damaged[10] = damaged[10] == 'A' ? 'B' : 'A';
        chunks[2] = new string(damaged);

        var error = Assert.Throws<InvalidDataException>(() => ImageModelPayload.Decode(Memories(chunks)));

        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public void MissingChunkIsRejected()
    {
        string[] chunks = ImageModelPayload.Encode(TinyModel.Bytes(), chunkBytes: 300);

        var error = Assert.Throws<InvalidDataException>(() => ImageModelPayload.Decode(Memories(chunks[..^1])));

        Assert.Contains("declares", error.Message);
    }

    [Theory]
    [InlineData("MLNetRetrieval.Payload/1;bytes=3;chunks=1;sha256=00")]
    [InlineData("MLNetRetrieval.ImagePayload/1;bytes=-3;chunks=1;sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("MLNetRetrieval.ImagePayload/1;bytes=3;chunks=9;sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("MLNetRetrieval.ImagePayload/1;bytes=3;chunks=1;md5=0000")]
    public void MalformedHeaderIsRejected(string header)
    {
        string[] chunks = [header, "AAAA"];

        Assert.Throws<InvalidDataException>(() => ImageModelPayload.Decode(Memories(chunks)));
    }

    private static ReadOnlyMemory<char>[] Memories(string[] chunks) => chunks.Select(c => c.AsMemory()).ToArray();
}
