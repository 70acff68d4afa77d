using System.Buffers;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Images.Transforms;

// The types below are the public contract between a saved model zip and this assembly. A saved model
// names the factories by contract name, and ML.NET binds the row classes to columns by the names in
// [ColumnName]. Renaming a contract, a class or a column name breaks every saved model: add new
// contracts instead.

/// <summary>Column names used inside the standard transformer chain of an image embedding step.</summary>
internal static class ImageEmbeddingColumns
{
    public const string Image = "__MLNetRetrieval.Image";
    public const string ModelKey = "__MLNetRetrieval.ImageModelKey";
    public const string Model = "__MLNetRetrieval.ImageModel";
    public const string Failure = "__MLNetRetrieval.ImageFailure";

    /// <summary>Prefix of the piece columns; piece i is a known-size vector of 2^i floats.</summary>
    public const string PiecePrefix = "__MLNetRetrieval.ImageEmbedding";

    /// <summary>The single key of the value mapping that stores the state.</summary>
    public const string ModelKeyValue = "image-model";

    /// <summary>Number of piece columns, so the largest embedding has 2^16 − 1 values.</summary>
    public const int PieceCount = 16;

    public const int MaxDimension = (1 << PieceCount) - 1;

    public static string Piece(int bit) => PiecePrefix + bit.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Names of the pieces that make up <paramref name="dimension"/> values: one per set bit, lowest bit first.</summary>
    public static string[] Pieces(int dimension)
    {
        var names = new List<string>(PieceCount);
        for (int bit = 0; bit < PieceCount; bit++)
        {
            if ((dimension & (1 << bit)) != 0)
                names.Add(Piece(bit));
        }

        return names.ToArray();
    }
}

/// <summary>Infrastructure for saved models: the input row of the model-key mapping, which reads no column.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ImageModelKeyInput
{
}

/// <summary>Infrastructure for saved models: the output row of the model-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ImageModelKeyOutput
{
    /// <summary>The constant key under which the value mapping stores the embedding state.</summary>
    [ColumnName(ImageEmbeddingColumns.ModelKey)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>Infrastructure for saved models: emits the constant key of the image embedding state.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ImageModelKeyMappingFactory : CustomMappingFactory<ImageModelKeyInput, ImageModelKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.Images.ModelKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = ImageEmbeddingColumns.ModelKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<ImageModelKeyInput, ImageModelKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: the input row of an embedding step that reads image files.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ImagePathEmbeddingInput
{
    /// <summary>Path of the image file.</summary>
    [ColumnName(ImageEmbeddingColumns.Image)]
    public ReadOnlyMemory<char> Image;

    /// <summary>The encoded embedding state (see the payload format in the library source).</summary>
    [ColumnName(ImageEmbeddingColumns.Model)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> Model;
}

/// <summary>Infrastructure for saved models: the input row of an embedding step that reads encoded images in memory.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ImageBytesEmbeddingInput
{
    /// <summary>The encoded image file (PNG, JPEG, ...), as bytes.</summary>
    [ColumnName(ImageEmbeddingColumns.Image)]
    [VectorType]
    public VBuffer<byte> Image;

    /// <summary>The encoded embedding state (see the payload format in the library source).</summary>
    [ColumnName(ImageEmbeddingColumns.Model)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> Model;
}

/// <summary>
/// Infrastructure for saved models: the output row of an embedding step. The embedding is split into
/// known-size pieces of 2^i values, one per set bit of the dimension, because a loaded custom mapping
/// takes its vector sizes from these attributes only. A standard concatenation then joins the pieces
/// into one known-size vector.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ImageEmbeddingOutput
{
#pragma warning disable CS1591 // Piece i contains 2^i values, as the class summary describes.
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "0"), VectorType(1 << 0)] public float[] Piece0 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "1"), VectorType(1 << 1)] public float[] Piece1 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "2"), VectorType(1 << 2)] public float[] Piece2 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "3"), VectorType(1 << 3)] public float[] Piece3 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "4"), VectorType(1 << 4)] public float[] Piece4 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "5"), VectorType(1 << 5)] public float[] Piece5 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "6"), VectorType(1 << 6)] public float[] Piece6 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "7"), VectorType(1 << 7)] public float[] Piece7 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "8"), VectorType(1 << 8)] public float[] Piece8 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "9"), VectorType(1 << 9)] public float[] Piece9 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "10"), VectorType(1 << 10)] public float[] Piece10 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "11"), VectorType(1 << 11)] public float[] Piece11 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "12"), VectorType(1 << 12)] public float[] Piece12 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "13"), VectorType(1 << 13)] public float[] Piece13 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "14"), VectorType(1 << 14)] public float[] Piece14 = [];
    [ColumnName(ImageEmbeddingColumns.PiecePrefix + "15"), VectorType(1 << 15)] public float[] Piece15 = [];
#pragma warning restore CS1591

    /// <summary>Why the image could not be embedded, or empty text when it was.</summary>
    [ColumnName(ImageEmbeddingColumns.Failure)]
    public ReadOnlyMemory<char> Failure;

    /// <summary>Copies <paramref name="embedding"/> into the pieces named by <see cref="ImageEmbeddingColumns.Pieces(int)"/>.</summary>
    internal void SetPieces(ReadOnlySpan<float> embedding)
    {
        int offset = 0;
        for (int bit = 0; bit < ImageEmbeddingColumns.PieceCount; bit++)
        {
            int size = 1 << bit;
            if ((embedding.Length & size) == 0)
                continue;
            SetPiece(bit, embedding.Slice(offset, size).ToArray());
            offset += size;
        }
    }

    private void SetPiece(int bit, float[] values)
    {
        switch (bit)
        {
            case 0: Piece0 = values; break;
            case 1: Piece1 = values; break;
            case 2: Piece2 = values; break;
            case 3: Piece3 = values; break;
            case 4: Piece4 = values; break;
            case 5: Piece5 = values; break;
            case 6: Piece6 = values; break;
            case 7: Piece7 = values; break;
            case 8: Piece8 = values; break;
            case 9: Piece9 = values; break;
            case 10: Piece10 = values; break;
            case 11: Piece11 = values; break;
            case 12: Piece12 = values; break;
            case 13: Piece13 = values; break;
            case 14: Piece14 = values; break;
            case 15: Piece15 = values; break;
            default: throw new ArgumentOutOfRangeException(nameof(bit), bit, $"Piece index must be in [0, {ImageEmbeddingColumns.PieceCount}).");
        }
    }
}

/// <summary>Infrastructure for saved models: embeds the image file named in each row.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ImagePathEmbeddingMappingFactory : CustomMappingFactory<ImagePathEmbeddingInput, ImageEmbeddingOutput>
{
    internal const string ContractName = "MLNetRetrieval.Images.EmbedPath.v1";

    /// <inheritdoc />
    public override Action<ImagePathEmbeddingInput, ImageEmbeddingOutput> GetMapping() => new RowEmbedder().EmbedPath;
}

/// <summary>Infrastructure for saved models: embeds the encoded image held in each row.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ImageBytesEmbeddingMappingFactory : CustomMappingFactory<ImageBytesEmbeddingInput, ImageEmbeddingOutput>
{
    internal const string ContractName = "MLNetRetrieval.Images.EmbedBytes.v1";

    /// <inheritdoc />
    public override Action<ImageBytesEmbeddingInput, ImageEmbeddingOutput> GetMapping() => new RowEmbedder().EmbedBytes;
}

/// <summary>
/// Decodes and embeds one image per call. The embedder is resolved once per mapping from the state
/// column; ML.NET may call the mapping from several cursors at once, so the cache is swapped atomically.
/// </summary>
internal sealed class RowEmbedder
{
    /// <summary>Source name given to decoding failures of in-memory images.</summary>
    internal const string InMemorySource = "in-memory image";

    private sealed record Cached(string Header, ImageEmbedder Embedder, ImageDecoderOptions Decoder);

    private Cached? _cached;

    /// <summary>Seeds the cache with a ready embedder, so a freshly fitted model skips decoding its state.</summary>
    public RowEmbedder(string? header = null, ImageEmbedder? embedder = null, ImageDecoderOptions? decoder = null)
    {
        if (header is not null && embedder is not null && decoder is not null)
            _cached = new Cached(header, embedder, decoder);
    }

    public void EmbedPath(ImagePathEmbeddingInput input, ImageEmbeddingOutput output)
    {
        Cached cached = Resolve(input.Model);
        string path = input.Image.ToString();
        if (ImageDecoder.TryDecode(path, cached.Decoder, out DecodedImage? image, out ImageFailure? failure))
            Embed(cached.Embedder, image, output);
        else
            Fail(cached.Embedder.Dimension, failure, output);
    }

    public void EmbedBytes(ImageBytesEmbeddingInput input, ImageEmbeddingOutput output)
    {
        Cached cached = Resolve(input.Model);
        byte[]? dense = null;
        ReadOnlySpan<byte> encoded = input.Image.GetValues();
        if (!input.Image.IsDense)
        {
            dense = new byte[input.Image.Length];
            input.Image.CopyTo(dense);
            encoded = dense;
        }

        if (ImageDecoder.TryDecode(encoded, InMemorySource, cached.Decoder, out DecodedImage? image, out ImageFailure? failure))
            Embed(cached.Embedder, image, output);
        else
            Fail(cached.Embedder.Dimension, failure, output);
    }

    private static void Embed(ImageEmbedder embedder, DecodedImage image, ImageEmbeddingOutput output)
    {
        // Fresh arrays per row: ML.NET copies them out, but cursors on other threads share this mapping.
        var embedding = new float[embedder.Dimension];
        embedder.Embed(image, embedding);
        output.SetPieces(embedding);
        output.Failure = ReadOnlyMemory<char>.Empty;
    }

    private static void Fail(int dimension, ImageFailure failure, ImageEmbeddingOutput output)
    {
        var embedding = new float[dimension];
        embedding.AsSpan().Fill(float.NaN);
        output.SetPieces(embedding);
        output.Failure = failure.Reason.AsMemory();
    }

    private Cached Resolve(VBuffer<ReadOnlyMemory<char>> encoded)
    {
        ReadOnlySpan<ReadOnlyMemory<char>> chunks = encoded.GetValues();
        if (chunks.IsEmpty)
            throw new InvalidDataException("The model's image embedding state column is empty. The model file is damaged or its value mapping was replaced.");

        Cached? cached = Volatile.Read(ref _cached);
        if (cached is not null && chunks[0].Span.SequenceEqual(cached.Header))
            return cached;

        ReadOnlyMemory<char>[] copies = chunks.ToArray();
        (ImageEmbedder embedder, ImageDecoderOptions decoder) = ImageEmbedderCache.GetOrCreate(copies);
        cached = new Cached(copies[0].ToString(), embedder, decoder);
        Volatile.Write(ref _cached, cached);
        return cached;
    }
}

/// <summary>
/// Embedders rebuilt from saved states in this process, keyed by the string (or array) object that
/// backs the first text chunk of the stored state. Scoring a loaded model and
/// <see cref="ImageRetrievalCatalog.GetImageEmbedder(RetrievalCatalog, Microsoft.ML.ITransformer)"/> read
/// the same value-mapping object, so they share one embedder and one ONNX Runtime session.
/// </summary>
/// <remarks>
/// Keys are object identities, not contents: two loads of the same zip build separate embedders, and
/// a damaged copy never borrows the embedder of an intact one. An entry lives as long as the model's
/// value mapping keeps the chunk alive.
/// </remarks>
internal static class ImageEmbedderCache
{
    private static readonly ConditionalWeakTable<object, Entry> Entries = new();

    private sealed record Entry(ImageEmbedder Embedder, ImageDecoderOptions Decoder);

    public static (ImageEmbedder Embedder, ImageDecoderOptions Decoder) GetOrCreate(ReadOnlyMemory<char>[] chunks)
    {
        object? key = BackingObject(chunks[0]);
        if (key is not null && Entries.TryGetValue(key, out Entry? cached))
            return (cached.Embedder, cached.Decoder);

        // Build outside any lock: decoding 63 MB and creating a session takes seconds. When two threads
        // race, the first stored embedder wins and the other is disposed.
        ImageEmbeddingState state = ImageEmbeddingState.Deserialize(ImageModelPayload.Decode(chunks));
        var created = new Entry(new ImageEmbedder(state.CreateEmbedderOptions()), state.Options.Decoder);
        if (created.Embedder.Dimension != state.Dimension)
        {
            created.Embedder.Dispose();
            throw new InvalidDataException($"The saved image model produces embeddings of {created.Embedder.Dimension} values but the model file declares {state.Dimension}. The model file is damaged.");
        }

        if (key is null)
            return (created.Embedder, created.Decoder);
        Entry stored = Entries.GetValue(key, _ => created);
        if (!ReferenceEquals(stored, created))
            created.Embedder.Dispose();
        return (stored.Embedder, stored.Decoder);
    }

    private static object? BackingObject(ReadOnlyMemory<char> memory)
    {
        if (MemoryMarshal.TryGetString(memory, out string? text, out _, out _))
            return text;
        if (MemoryMarshal.TryGetArray(memory, out ArraySegment<char> segment))
            return segment.Array;
        return MemoryMarshal.TryGetMemoryManager(memory, out MemoryManager<char>? manager) ? manager : null;
    }
}
