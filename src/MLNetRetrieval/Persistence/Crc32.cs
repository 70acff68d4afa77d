namespace MLNetRetrieval.Persistence;

/// <summary>
/// CRC-32 as in zlib and PNG (reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF),
/// computed eight bytes at a time with the slicing-by-8 tables. Detects every burst error of up to 32 bits.
/// </summary>
internal struct Crc32
{
    private static readonly uint[] Tables = BuildTables();

    private uint _state;

    /// <summary>Creates a checksum over no bytes.</summary>
    public Crc32()
    {
        _state = 0xFFFFFFFFu;
    }

    /// <summary>The CRC-32 of all bytes appended so far.</summary>
    public readonly uint Value => ~_state;

    /// <summary>Returns the CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = new Crc32();
        crc.Append(data);
        return crc.Value;
    }

    /// <summary>Extends the checksum with <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        uint crc = _state;
        uint[] t = Tables;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint low = crc ^ (uint)(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
            uint high = (uint)(data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
            crc = t[(7 * 256) + (low & 0xFF)] ^ t[(6 * 256) + ((low >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((low >> 16) & 0xFF)] ^ t[(4 * 256) + (low >> 24)]
                ^ t[(3 * 256) + (high & 0xFF)] ^ t[(2 * 256) + ((high >> 8) & 0xFF)]
                ^ t[256 + ((high >> 16) & 0xFF)] ^ t[high >> 24];
        }

        for (; i < data.Length; i++)
        {
            crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        }

        _state = crc;
    }

    private static uint[] BuildTables()
    {
        var tables = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            tables[n] = c;
        }

        // Table s advances a byte through s further zero bytes.
        for (int s = 1; s < 8; s++)
        {
            for (int n = 0; n < 256; n++)
            {
                uint previous = tables[((s - 1) * 256) + n];
                tables[(s * 256) + n] = tables[previous & 0xFF] ^ (previous >> 8);
            }
        }

        return tables;
    }
}
