using System.ComponentModel;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRetrieval.MetricLearning;

namespace MLNetRetrieval.Transforms;

// The types below are the contract between a saved model zip and this assembly for the learned
// embedding transform, as SearchMappings.cs is for the neighbor search. A saved model names the
// factories by contract name and binds the row classes to columns by [ColumnName]: add new
// contracts instead of renaming these.

/// <summary>Column names used inside the standard transformer chain of a learned embedding.</summary>
internal static class EmbeddingColumns
{
    public const string Input = "__MLNetRetrieval.EmbeddingInput";
    public const string StateKey = "__MLNetRetrieval.EmbeddingStateKey";
    public const string State = "__MLNetRetrieval.EmbeddingState";
    public const string Output = "__MLNetRetrieval.EmbeddingOutput";

    /// <summary>The single key of the value mapping that stores the head.</summary>
    public const string StateKeyValue = "head";
}

/// <summary>Infrastructure for saved models: the input row of the learned embedding's state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class EmbeddingKeyInput
{
    /// <summary>The feature vector; read only so that the mapping has an input column.</summary>
    [ColumnName(EmbeddingColumns.Input)]
    [VectorType]
    public VBuffer<float> Features;
}

/// <summary>Infrastructure for saved models: the output row of the learned embedding's state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class EmbeddingKeyOutput
{
    /// <summary>The constant key under which the value mapping stores the head.</summary>
    [ColumnName(EmbeddingColumns.StateKey)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>Infrastructure for saved models: emits the constant key of the learned embedding's head.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class EmbeddingKeyMappingFactory : CustomMappingFactory<EmbeddingKeyInput, EmbeddingKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.EmbeddingKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = EmbeddingColumns.StateKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<EmbeddingKeyInput, EmbeddingKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: the input row of the learned embedding.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class EmbeddingInput
{
    /// <summary>The feature vector to embed.</summary>
    [ColumnName(EmbeddingColumns.Input)]
    [VectorType]
    public VBuffer<float> Features;

    /// <summary>The encoded head (see the payload format in the library source).</summary>
    [ColumnName(EmbeddingColumns.State)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> State;
}

/// <summary>Infrastructure for saved models: the output row of the learned embedding.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class EmbeddingOutput
{
    /// <summary>The embedding of the row's feature vector.</summary>
    [ColumnName(EmbeddingColumns.Output)]
    [VectorType]
    public VBuffer<float> Embedding;
}

/// <summary>Infrastructure for saved models: maps each row's feature vector through the stored head.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class EmbeddingMappingFactory : CustomMappingFactory<EmbeddingInput, EmbeddingOutput>
{
    internal const string ContractName = "MLNetRetrieval.Embedding.v1";

    /// <inheritdoc />
    public override Action<EmbeddingInput, EmbeddingOutput> GetMapping()
    {
        var embedder = new RowEmbedder();
        return embedder.Embed;
    }
}

/// <summary>What a learned embedding stores: the scale applied to the input features and the trained head.</summary>
internal sealed class EmbeddingState
{
    // Binary layout, little-endian:
    //   signature "MLNRHEAD" (8 bytes) | u32 writtenVersion | u32 minReaderVersion
    //   f32 inputScale | i64 headLength | head bytes (EmbeddingHead.Save format)
    // Version history:
    //   1: first version.
    private const string Signature = "MLNRHEAD";
    private const uint WrittenVersion = 1;
    private const uint MinReaderVersion = 1;
    private const uint ReaderVersion = 1;

    public EmbeddingState(EmbeddingHead head, float inputScale)
    {
        Head = head;
        InputScale = inputScale;
    }

    public EmbeddingHead Head { get; }

    /// <summary>Factor applied to every feature before the head, such as 1/255 for 8-bit pixels.</summary>
    public float InputScale { get; }

    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Signature));
            writer.Write(WrittenVersion);
            writer.Write(MinReaderVersion);
            writer.Write(InputScale);
            long lengthPosition = stream.Position;
            writer.Write(0L);
            writer.Flush();
            long start = stream.Position;
            Head.Save(stream);
            long end = stream.Position;
            stream.Position = lengthPosition;
            writer.Write(end - start);
            writer.Flush();
            stream.Position = end;
        }

        return stream.ToArray();
    }

    public static EmbeddingState Deserialize(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            string signature = Encoding.ASCII.GetString(reader.ReadBytes(8));
            if (signature != Signature)
                throw Corrupt(0, $"signature is '{signature}', expected '{Signature}'");
            uint writtenVersion = reader.ReadUInt32();
            uint minReaderVersion = reader.ReadUInt32();
            if (minReaderVersion > ReaderVersion)
                throw new InvalidDataException($"The learned embedding was written by format version {writtenVersion} and needs a reader of version {minReaderVersion} or newer; this MLNetRetrieval reads version {ReaderVersion}. Upgrade MLNetRetrieval.");

            long offset = stream.Position;
            float inputScale = reader.ReadSingle();
            if (!float.IsFinite(inputScale) || inputScale <= 0)
                throw Corrupt(offset, $"input scale is {inputScale}, expected a positive finite number");
            offset = stream.Position;
            long headLength = reader.ReadInt64();
            if (headLength <= 0 || headLength != stream.Length - stream.Position)
                throw Corrupt(offset, $"head length {headLength} differs from the {stream.Length - stream.Position} bytes that follow");

            EmbeddingHead head = EmbeddingHead.Load(stream);
            if (stream.Position != stream.Length)
                throw Corrupt(stream.Position, $"{stream.Length - stream.Position} bytes follow the head");
            return new EmbeddingState(head, inputScale);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(stream.Position, "the data ends early");
        }
    }

    private static InvalidDataException Corrupt(long offset, string detail) =>
        new($"The model's learned embedding is invalid at byte {offset}: {detail}. The model file is damaged or was not written by MLNetRetrieval.");
}

/// <summary>
/// Embeds one row with the head carried in the row's state column, decoding that state once per
/// process (see <see cref="EmbeddingStateCache"/>). ML.NET may call the mapping from several cursors
/// at once, so the cache is swapped atomically and each row gets fresh arrays.
/// </summary>
internal sealed class RowEmbedder
{
    private Cached? _cached;

    private sealed record Cached(string Header, EmbeddingState State);

    /// <summary>Creates an embedder; with a header and state it starts from them, so a freshly fitted model skips decoding.</summary>
    public RowEmbedder(string? header = null, EmbeddingState? state = null)
    {
        if (header is not null && state is not null)
            _cached = new Cached(header, EmbeddingStateCache.Add(header, state));
    }

    public void Embed(EmbeddingInput input, EmbeddingOutput output)
    {
        EmbeddingState state = GetState(input.State);
        EmbeddingHead head = state.Head;
        if (input.Features.Length != head.InputDimension)
            throw new ArgumentOutOfRangeException(nameof(input), $"The feature vector has {input.Features.Length} components but the embedding head was trained on {head.InputDimension}. Feed vectors of the trained size.");

        var features = new float[head.InputDimension];
        input.Features.CopyTo(features);
        if (state.InputScale != 1f)
            System.Numerics.Tensors.TensorPrimitives.Multiply(features, state.InputScale, features);
        var embedding = new float[head.OutputDimension];
        head.Transform(features, embedding);
        output.Embedding = new VBuffer<float>(embedding.Length, embedding);
    }

    private EmbeddingState GetState(VBuffer<ReadOnlyMemory<char>> encoded)
    {
        ReadOnlySpan<ReadOnlyMemory<char>> chunks = encoded.GetValues();
        if (chunks.IsEmpty)
            throw new InvalidDataException("The model's learned embedding column is empty. The model file is damaged or its value mapping was replaced.");

        Cached? cached = Volatile.Read(ref _cached);
        if (cached is not null && chunks[0].Span.SequenceEqual(cached.Header))
            return cached.State;

        string header = chunks[0].ToString();
        ReadOnlyMemory<char>[] copies = chunks.ToArray();
        EmbeddingState state = EmbeddingStateCache.GetOrDecode(header, () => EmbeddingState.Deserialize(TextPayload.Decode(copies)));
        Volatile.Write(ref _cached, new Cached(header, state));
        return state;
    }
}

/// <summary>Decoded learned embeddings of this process, keyed by payload header (which carries the SHA-256); entries are weak.</summary>
internal static class EmbeddingStateCache
{
    private static readonly Dictionary<string, WeakReference<EmbeddingState>> States = new(StringComparer.Ordinal);

    public static EmbeddingState GetOrDecode(string header, Func<EmbeddingState> decode)
    {
        lock (States)
        {
            if (States.TryGetValue(header, out var reference) && reference.TryGetTarget(out EmbeddingState? cached))
                return cached;
        }

        return Add(header, decode());
    }

    public static EmbeddingState Add(string header, EmbeddingState state)
    {
        lock (States)
        {
            if (States.TryGetValue(header, out var reference) && reference.TryGetTarget(out EmbeddingState? cached))
                return cached;
            States[header] = new WeakReference<EmbeddingState>(state);
            if (States.Count > 64)
            {
                foreach (string key in States.Where(pair => !pair.Value.TryGetTarget(out _)).Select(pair => pair.Key).ToList())
                    States.Remove(key);
            }

            return state;
        }
    }
}
