namespace MLNetRetrieval.Persistence;

/// <summary>
/// Layout shared by every saved index:
/// <code>
/// header   signature (8 ASCII bytes) | u32 writtenVersion | u32 minReaderVersion
/// body     sections: fourcc (4 ASCII bytes) | i64 length | length bytes of little-endian fields
/// trailer  section "CRC " of length 4: u32 CRC-32 of every byte before this section, header included
/// </code>
/// A reader rejects files whose minReaderVersion is newer than the newest version it reads, so a writer
/// raises minReaderVersion only when old readers would misread the new layout.
/// </summary>
internal static class BinaryFormat
{
    /// <summary>Size of the header in bytes.</summary>
    public const int HeaderLength = 16;

    /// <summary>Size of a section header (fourcc and length) in bytes.</summary>
    public const int SectionHeaderLength = 12;

    /// <summary>Fourcc of the checksum trailer.</summary>
    public const string ChecksumFourcc = "CRC ";

    /// <summary>Throws unless <paramref name="text"/> is exactly <paramref name="length"/> printable ASCII characters.</summary>
    public static void CheckTag(string text, int length, string parameterName)
    {
        if (text.Length != length || text.Any(c => c < 0x20 || c > 0x7E))
        {
            throw new ArgumentException($"Expected {length} printable ASCII characters, got \"{text}\".", parameterName);
        }
    }
}
