using System.Buffers.Binary;
using System.ComponentModel;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Transforms;

// The types below are the contract between a saved pair-scoring model and this assembly, as in
// SearchMappings.cs: renaming a contract, a row class or a column name breaks saved models.

/// <summary>Column names used inside the standard transformer chain of a pair-scoring transformer.</summary>
internal static class PairColumns
{
    public const string First = "__MLNetRetrieval.PairFirst";
    public const string Second = "__MLNetRetrieval.PairSecond";
    public const string SettingsKey = "__MLNetRetrieval.PairSettingsKey";
    public const string Settings = "__MLNetRetrieval.PairSettings";
    public const string Score = "__MLNetRetrieval.PairScore";
    public const string IsMatch = "__MLNetRetrieval.PairIsMatch";

    /// <summary>The single key of the value mapping that stores the settings.</summary>
    public const string SettingsKeyValue = "pair-settings";
}

/// <summary>Infrastructure for saved models: the input row of the pair-settings key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PairSettingsKeyInput
{
    /// <summary>The first vector; read only so that the mapping has an input column.</summary>
    [ColumnName(PairColumns.First)]
    [VectorType]
    public VBuffer<float> First;
}

/// <summary>Infrastructure for saved models: the output row of the pair-settings key mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PairSettingsKeyOutput
{
    /// <summary>The constant key under which the value mapping stores the settings.</summary>
    [ColumnName(PairColumns.SettingsKey)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>Infrastructure for saved models: emits the constant key of the pair-scoring settings.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PairSettingsKeyMappingFactory : CustomMappingFactory<PairSettingsKeyInput, PairSettingsKeyOutput>
{
    internal const string ContractName = "MLNetRetrieval.PairScoreKey.v1";

    private static readonly ReadOnlyMemory<char> KeyValue = PairColumns.SettingsKeyValue.AsMemory();

    /// <inheritdoc />
    public override Action<PairSettingsKeyInput, PairSettingsKeyOutput> GetMapping() => static (_, output) => output.Key = KeyValue;
}

/// <summary>Infrastructure for saved models: the input row of the pair-scoring mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PairScoreInput
{
    /// <summary>The first embedding of the pair.</summary>
    [ColumnName(PairColumns.First)]
    [VectorType]
    public VBuffer<float> First;

    /// <summary>The second embedding of the pair.</summary>
    [ColumnName(PairColumns.Second)]
    [VectorType]
    public VBuffer<float> Second;

    /// <summary>The encoded settings (similarity and threshold).</summary>
    [ColumnName(PairColumns.Settings)]
    [VectorType]
    public VBuffer<ReadOnlyMemory<char>> Settings;
}

/// <summary>Infrastructure for saved models: the output row of the pair-scoring mapping.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PairScoreOutput
{
    /// <summary>The pair's similarity; higher is more similar.</summary>
    [ColumnName(PairColumns.Score)]
    public float Score;

    /// <summary>Whether the score is at or above the threshold; false when there is none.</summary>
    [ColumnName(PairColumns.IsMatch)]
    public bool IsMatch;
}

/// <summary>Infrastructure for saved models: scores each pair row.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PairScoreMappingFactory : CustomMappingFactory<PairScoreInput, PairScoreOutput>
{
    internal const string ContractName = "MLNetRetrieval.PairScore.v1";

    /// <inheritdoc />
    public override Action<PairScoreInput, PairScoreOutput> GetMapping()
    {
        var scorer = new RowPairScorer();
        return scorer.Score;
    }
}

/// <summary>The settings of a pair-scoring transformer, as stored in the model.</summary>
/// <remarks>
/// Binary layout, little-endian: signature "MLNRPAIR" (8 bytes) | u32 written version | u32 oldest
/// reader version | u8 <see cref="PairScoreKind"/> | u8 has-threshold flag (0 or 1) | f32 threshold.
/// Version history: 1, the first layout.
/// </remarks>
internal sealed record PairScoreSettings(PairScoreKind Kind, float? Threshold)
{
    private static ReadOnlySpan<byte> SignatureBytes => "MLNRPAIR"u8;
    private const uint Version = 1;
    private const int Length = 8 + 4 + 4 + 1 + 1 + 4;

    public byte[] Serialize()
    {
        var bytes = new byte[Length];
        SignatureBytes.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), Version);
        bytes[16] = (byte)Kind;
        bytes[17] = Threshold.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(18), Threshold ?? 0f);
        return bytes;
    }

    public static PairScoreSettings Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 || !bytes[..8].SequenceEqual(SignatureBytes))
            throw new InvalidDataException("The model's pair-scoring settings do not start with the signature 'MLNRPAIR'. The model file is damaged or was not saved by MLNetRetrieval.");
        uint written = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        uint oldestReader = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (oldestReader > Version)
            throw new InvalidDataException($"The model's pair-scoring settings have version {written} and need a reader of version {oldestReader} or newer; this MLNetRetrieval reads version {Version}. Upgrade MLNetRetrieval.");
        if (bytes.Length != Length)
            throw new InvalidDataException($"The model's pair-scoring settings are {bytes.Length} bytes long; version {Version} has {Length}. The model file is damaged.");

        var kind = (PairScoreKind)bytes[16];
        if (!Enum.IsDefined(kind))
            throw new InvalidDataException($"The model's pair-scoring settings have score kind {bytes[16]} at offset 16; known kinds are {string.Join(", ", Enum.GetValues<PairScoreKind>().Select(k => $"{(byte)k} ({k})"))}. The model file is damaged or newer than this MLNetRetrieval.");
        if (bytes[17] > 1)
            throw new InvalidDataException($"The model's pair-scoring settings have threshold flag {bytes[17]} at offset 17; expected 0 or 1. The model file is damaged.");
        float threshold = BinaryPrimitives.ReadSingleLittleEndian(bytes[18..]);
        if (float.IsNaN(threshold))
            throw new InvalidDataException("The model's pair-scoring settings have a NaN threshold at offset 18. The model file is damaged.");
        return new PairScoreSettings(kind, bytes[17] == 1 ? threshold : null);
    }
}

/// <summary>Decodes the settings once per mapping and scores one pair per call; safe for parallel cursors.</summary>
internal sealed class RowPairScorer
{
    private sealed record Cached(string Header, PairScoreSettings Settings);

    private Cached? _cached;

    /// <summary>Seeds the cache, so a freshly fitted transformer skips decoding.</summary>
    public RowPairScorer(string? header = null, PairScoreSettings? settings = null)
    {
        if (header is not null && settings is not null)
            _cached = new Cached(header, settings);
    }

    public void Score(PairScoreInput input, PairScoreOutput output)
    {
        PairScoreSettings settings = GetSettings(input.Settings);
        if (input.First.Length != input.Second.Length)
            throw new ArgumentOutOfRangeException(nameof(input), $"A pair has vectors of {input.First.Length} and {input.Second.Length} components. Both columns need vectors of one size.");

        float score = PairScorer.ScoreUnchecked(Dense(input.First), Dense(input.Second), settings.Kind);
        output.Score = score;
        output.IsMatch = settings.Threshold is float threshold && score >= threshold;
    }

    private static ReadOnlySpan<float> Dense(VBuffer<float> vector)
    {
        if (vector.IsDense)
            return vector.GetValues();
        var dense = new float[vector.Length];
        vector.CopyTo(dense);
        return dense;
    }

    private PairScoreSettings GetSettings(VBuffer<ReadOnlyMemory<char>> encoded)
    {
        ReadOnlySpan<ReadOnlyMemory<char>> chunks = encoded.GetValues();
        if (chunks.IsEmpty)
            throw new InvalidDataException("The model's pair-scoring settings column is empty. The model file is damaged or its value mapping was replaced.");

        Cached? cached = Volatile.Read(ref _cached);
        if (cached is not null && chunks[0].Span.SequenceEqual(cached.Header))
            return cached.Settings;

        PairScoreSettings settings = PairScoreSettings.Deserialize(TextPayload.Decode(chunks));
        Volatile.Write(ref _cached, new Cached(chunks[0].ToString(), settings));
        return settings;
    }
}
