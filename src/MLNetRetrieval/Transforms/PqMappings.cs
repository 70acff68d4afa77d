using System.ComponentModel;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Transforms;

// The types below are the contract between a saved model zip and this assembly for the product
// quantization transforms, as SearchMappings.cs is for the neighbor search. A saved model names the
// factories by contract name and binds the row classes to columns by [ColumnName]: add new
// contracts instead of renaming these.

/// <summary>Column names used inside the standard transformer chains of the PQ encode and decode transforms.</summary>
internal static class PqColumns
{
    public const string Input = "__MLNetRetrieval.PqInput";
    public const string StateKey = "__MLNetRetrieval.PqStateKey";
    public const string State = "__MLNetRetrieval.PqState";
    public const string Output = "__MLNetRetrieval.PqOutput";

    /// <summary>The single key of the value mapping that stores the quantizer.</summary>
    public const string StateKeyValue = "quantizer";
}

/// <summary>Infrastructure for saved models: the input row of the PQ encoder's state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqEncodeKeyInput
{
    /// <summary>The vector to encode; read only so that the mapping has an input column.</summary>
    [ColumnName(PqColumns.Input)]
    [VectorType]
    public VBuffer<float> Vector;
}

/// <summary>Infrastructure for saved models: the input row of the PQ decoder's state-key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqDecodeKeyInput
{
    /// <summary>The code to decode; read only so that the mapping has an input column.</summary>
    [ColumnName(PqColumns.Input)]
    [VectorType]
    public VBuffer<byte> Code;
}

/// <summary>Infrastructure for saved models: the output row of the PQ state-key mappings.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqKeyOutput
{
    /// <summary>The constant key under which the value mapping stores the quantizer.</summary>
    [ColumnName(PqColumns.StateKey)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>Infrastructure for saved models: emits the quantizer's key for the encoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PqEncodeKeyMappingFactory : CustomMappingFactory<PqEncodeKeyInput, PqKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.PqEncodeKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = PqColumns.StateKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<PqEncodeKeyInput, PqKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: emits the quantizer's key for the decoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PqDecodeKeyMappingFactory : CustomMappingFactory<PqDecodeKeyInput, PqKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.PqDecodeKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = PqColumns.StateKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<PqDecodeKeyInput, PqKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: the input row of the PQ encoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqEncodeInput
{
    /// <summary>The vector to encode, d values.</summary>
    [ColumnName(PqColumns.Input)]
    [VectorType]
    public VBuffer<float> Vector;

    /// <summary>The encoded quantizer (see the payload format in the library source).</summary>
    [ColumnName(PqColumns.State)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> State;
}

/// <summary>Infrastructure for saved models: the output row of the PQ encoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqEncodeOutput
{
    /// <summary>The code, M bytes.</summary>
    [ColumnName(PqColumns.Output)]
    [VectorType]
    public VBuffer<byte> Code;
}

/// <summary>Infrastructure for saved models: the input row of the PQ decoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqDecodeInput
{
    /// <summary>The code to decode, M bytes.</summary>
    [ColumnName(PqColumns.Input)]
    [VectorType]
    public VBuffer<byte> Code;

    /// <summary>The encoded quantizer (see the payload format in the library source).</summary>
    [ColumnName(PqColumns.State)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> State;
}

/// <summary>Infrastructure for saved models: the output row of the PQ decoder.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PqDecodeOutput
{
    /// <summary>The reconstructed vector, d values.</summary>
    [ColumnName(PqColumns.Output)]
    [VectorType]
    public VBuffer<float> Vector;
}

/// <summary>Infrastructure for saved models: encodes each row's vector with the stored quantizer.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PqEncodeMappingFactory : CustomMappingFactory<PqEncodeInput, PqEncodeOutput>
{
    internal const string ContractName = "MLNetRetrieval.PqEncode.v1";

    /// <inheritdoc />
    public override Action<PqEncodeInput, PqEncodeOutput> GetMapping()
    {
        var coder = new RowQuantizer();
        return coder.Encode;
    }
}

/// <summary>Infrastructure for saved models: decodes each row's code with the stored quantizer.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PqDecodeMappingFactory : CustomMappingFactory<PqDecodeInput, PqDecodeOutput>
{
    internal const string ContractName = "MLNetRetrieval.PqDecode.v1";

    /// <inheritdoc />
    public override Action<PqDecodeInput, PqDecodeOutput> GetMapping()
    {
        var coder = new RowQuantizer();
        return coder.Decode;
    }
}

/// <summary>
/// Encodes or decodes one row with the quantizer carried in the row's state column, decoding that
/// state once per process (see <see cref="QuantizerCache"/>).
/// </summary>
internal sealed class RowQuantizer
{
    private Cached? _cached;

    private sealed record Cached(string Header, ProductQuantizer Quantizer);

    /// <summary>Creates a coder; with a header and quantizer it starts from them, so a freshly fitted model skips decoding.</summary>
    public RowQuantizer(string? header = null, ProductQuantizer? quantizer = null)
    {
        if (header is not null && quantizer is not null)
            _cached = new Cached(header, QuantizerCache.Add(header, quantizer));
    }

    public void Encode(PqEncodeInput input, PqEncodeOutput output)
    {
        ProductQuantizer quantizer = GetQuantizer(input.State);
        int d = quantizer.Dimension;
        if (input.Vector.Length != d)
            throw new ArgumentOutOfRangeException(nameof(input), $"The vector to encode has {input.Vector.Length} components but the quantizer was trained on {d}. Feed vectors of the trained size.");

        // Fresh arrays per row: ML.NET copies them out, but cursors on other threads share this mapping.
        var vector = new float[d];
        input.Vector.CopyTo(vector);
        var code = new byte[quantizer.CodeSize];
        quantizer.Encode(vector, 1, code, threads: 1);
        output.Code = new VBuffer<byte>(code.Length, code);
    }

    public void Decode(PqDecodeInput input, PqDecodeOutput output)
    {
        ProductQuantizer quantizer = GetQuantizer(input.State);
        if (input.Code.Length != quantizer.CodeSize)
            throw new ArgumentOutOfRangeException(nameof(input), $"The code to decode has {input.Code.Length} bytes but the quantizer writes M = {quantizer.CodeSize}. Feed codes made by the same quantizer.");

        var code = new byte[quantizer.CodeSize];
        input.Code.CopyTo(code);
        var vector = new float[quantizer.Dimension];
        quantizer.Decode(code, 1, vector);
        output.Vector = new VBuffer<float>(vector.Length, vector);
    }

    private ProductQuantizer GetQuantizer(VBuffer<ReadOnlyMemory<char>> encoded)
    {
        ReadOnlySpan<ReadOnlyMemory<char>> chunks = encoded.GetValues();
        if (chunks.IsEmpty)
            throw new InvalidDataException("The model's product quantizer column is empty. The model file is damaged or its value mapping was replaced.");

        Cached? cached = Volatile.Read(ref _cached);
        if (cached is not null && chunks[0].Span.SequenceEqual(cached.Header))
            return cached.Quantizer;

        string header = chunks[0].ToString();
        ReadOnlyMemory<char>[] copies = chunks.ToArray();
        ProductQuantizer quantizer = QuantizerCache.GetOrDecode(header, () => Deserialize(TextPayload.Decode(copies)));
        Volatile.Write(ref _cached, new Cached(header, quantizer));
        return quantizer;
    }

    public static byte[] Serialize(ProductQuantizer quantizer)
    {
        using var stream = new MemoryStream();
        quantizer.Save(stream);
        return stream.ToArray();
    }

    private static ProductQuantizer Deserialize(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        ProductQuantizer quantizer = ProductQuantizer.Load(stream);
        if (!quantizer.IsTrained)
            throw new InvalidDataException("The model's product quantizer is not trained. The model file is damaged or was not written by MLNetRetrieval.");
        return quantizer;
    }
}

/// <summary>Decoded quantizers of this process, keyed by payload header (which carries the SHA-256); entries are weak.</summary>
internal static class QuantizerCache
{
    private static readonly Dictionary<string, WeakReference<ProductQuantizer>> Quantizers = new(StringComparer.Ordinal);

    public static ProductQuantizer GetOrDecode(string header, Func<ProductQuantizer> decode)
    {
        lock (Quantizers)
        {
            if (Quantizers.TryGetValue(header, out var reference) && reference.TryGetTarget(out ProductQuantizer? cached))
                return cached;
        }

        return Add(header, decode());
    }

    public static ProductQuantizer Add(string header, ProductQuantizer quantizer)
    {
        lock (Quantizers)
        {
            if (Quantizers.TryGetValue(header, out var reference) && reference.TryGetTarget(out ProductQuantizer? cached))
                return cached;
            Quantizers[header] = new WeakReference<ProductQuantizer>(quantizer);
            if (Quantizers.Count > 64)
            {
                foreach (string key in Quantizers.Where(pair => !pair.Value.TryGetTarget(out _)).Select(pair => pair.Key).ToList())
                    Quantizers.Remove(key);
            }

            return quantizer;
        }
    }
}
