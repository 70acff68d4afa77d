using System.Text;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Everything a fitted neighbor search needs at scoring time: the index, k, the leave-one-out flag
/// and the collection's labels (row-aligned with the index).
/// </summary>
internal sealed class SearchState
{
    // Binary layout, little-endian:
    //   signature "MLNRSRCH" (8 bytes) | u32 writtenVersion | u32 minReaderVersion
    //   i32 k | u8 excludeSelf | u8 hasLabels
    //   [hasLabels] i32 labelCount, then labelCount × (i32 utf8Length, utf8 bytes)
    //   fourcc indexKind (4 ASCII bytes) | i64 indexLength | index bytes (the index's own format)
    // Version history:
    //   1: first version.
    private const string Signature = "MLNRSRCH";
    private const uint WrittenVersion = 1;
    private const uint MinReaderVersion = 1;
    private const uint ReaderVersion = 1;

    /// <summary>Upper bound on a label's UTF-8 length: enforced when fitting, and guards allocation when reading.</summary>
    internal const int MaxLabelBytes = 1 << 20;

    private Dictionary<string, int>? _labelCounts;

    public SearchState(INeighborIndex index, int k, bool excludeSelf, string[]? labels)
    {
        if (labels is not null && labels.Length != index.Count)
            throw new ArgumentException($"Got {labels.Length} labels for {index.Count} indexed vectors; they must match.", nameof(labels));
        Index = index;
        K = k;
        ExcludeSelf = excludeSelf;
        Labels = labels;
    }

    public INeighborIndex Index { get; }

    public int K { get; }

    public bool ExcludeSelf { get; }

    /// <summary>Collection labels by index row, or null when the collection had no label column.</summary>
    public string[]? Labels { get; }

    /// <summary>Number of collection items per label; empty when there are no labels.</summary>
    public IReadOnlyDictionary<string, int> LabelCounts => _labelCounts ??= CountLabels(Labels);

    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Signature));
            writer.Write(WrittenVersion);
            writer.Write(MinReaderVersion);
            writer.Write(K);
            writer.Write((byte)(ExcludeSelf ? 1 : 0));
            writer.Write((byte)(Labels is null ? 0 : 1));
            if (Labels is not null)
            {
                writer.Write(Labels.Length);
                foreach (string label in Labels)
                {
                    byte[] bytes = Encoding.UTF8.GetBytes(label);
                    writer.Write(bytes.Length);
                    writer.Write(bytes);
                }
            }

            writer.Write(Encoding.ASCII.GetBytes(Index.Kind));
            long lengthPosition = stream.Position;
            writer.Write(0L);
            writer.Flush();
            long start = stream.Position;
            Index.Save(stream);
            long end = stream.Position;
            stream.Position = lengthPosition;
            writer.Write(end - start);
            writer.Flush();
            stream.Position = end;
        }

        return stream.ToArray();
    }

    public static SearchState Deserialize(byte[] bytes)
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
                throw new InvalidDataException($"The retrieval state was written by format version {writtenVersion} and needs a reader of version {minReaderVersion} or newer; this MLNetRetrieval reads version {ReaderVersion}. Upgrade MLNetRetrieval.");

            long offset = stream.Position;
            int k = reader.ReadInt32();
            if (k < 1 || k > NeighborSearchOptions.Defaults.MaxNumberOfNeighbors)
                throw Corrupt(offset, $"k is {k}, expected 1 to {NeighborSearchOptions.Defaults.MaxNumberOfNeighbors}");
            offset = stream.Position;
            bool excludeSelf = ReadFlag(reader, "excludeSelf", offset);
            offset = stream.Position;
            bool hasLabels = ReadFlag(reader, "hasLabels", offset);

            string[]? labels = null;
            if (hasLabels)
            {
                offset = stream.Position;
                int count = reader.ReadInt32();
                // Each label takes at least its 4-byte length: reject counts the remaining bytes cannot hold.
                if (count < 0 || count > (stream.Length - stream.Position) / 4)
                    throw Corrupt(offset, $"label count {count} does not fit in the remaining {stream.Length - stream.Position} bytes");
                labels = new string[count];
                for (int i = 0; i < count; i++)
                {
                    offset = stream.Position;
                    int length = reader.ReadInt32();
                    if (length < 0 || length > MaxLabelBytes || length > stream.Length - stream.Position)
                        throw Corrupt(offset, $"label {i} has length {length}");
                    labels[i] = Encoding.UTF8.GetString(reader.ReadBytes(length));
                }
            }

            offset = stream.Position;
            string kind = Encoding.ASCII.GetString(reader.ReadBytes(4));
            offset = stream.Position;
            long indexLength = reader.ReadInt64();
            if (indexLength < 0 || indexLength != stream.Length - stream.Position)
                throw Corrupt(offset, $"index length {indexLength} differs from the {stream.Length - stream.Position} bytes that follow");

            INeighborIndex index = NeighborIndexes.Load(kind, stream);
            if (labels is not null && labels.Length != index.Count)
                throw Corrupt(offset, $"{labels.Length} labels stored for {index.Count} indexed vectors");
            return new SearchState(index, k, excludeSelf, labels);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(stream.Position, "the data ends early");
        }
    }

    private static bool ReadFlag(BinaryReader reader, string field, long offset)
    {
        byte value = reader.ReadByte();
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Corrupt(offset, $"{field} is {value}, expected 0 or 1"),
        };
    }

    private static InvalidDataException Corrupt(long offset, string detail) =>
        new($"The model's retrieval state is invalid at byte {offset}: {detail}. The model file is damaged or was not written by MLNetRetrieval.");

    private static Dictionary<string, int> CountLabels(string[]? labels)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (labels is null)
            return counts;
        foreach (string label in labels)
            counts[label] = counts.TryGetValue(label, out int n) ? n + 1 : 1;
        return counts;
    }
}
