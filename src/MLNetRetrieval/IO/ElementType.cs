using System.Buffers.Binary;

namespace MLNetRetrieval.IO;

internal enum ElementKind
{
    Float,
    SignedInteger,
    UnsignedInteger,
}

/// <summary>
/// Numeric element type of a binary array (NumPy descr or IDX type code): kind, size in bytes and byte order.
/// </summary>
internal readonly record struct ElementType(ElementKind Kind, int Size, bool BigEndian)
{
    public static readonly ElementType UInt8 = new(ElementKind.UnsignedInteger, 1, false);
    public static readonly ElementType Float32LittleEndian = new(ElementKind.Float, 4, false);
    public static readonly ElementType Int64LittleEndian = new(ElementKind.SignedInteger, 8, false);

    public bool IsInteger => Kind != ElementKind.Float;

    /// <summary>True when the bytes can be copied straight into a float array on this machine.</summary>
    public bool IsNativeFloat32 => Kind == ElementKind.Float && Size == 4 && BigEndian != BitConverter.IsLittleEndian;

    public override string ToString()
    {
        string name = Kind switch
        {
            ElementKind.Float => "float",
            ElementKind.SignedInteger => "int",
            _ => "uint",
        };
        string order = Size == 1 ? string.Empty : BigEndian ? ", big-endian" : ", little-endian";
        return $"{name}{Size * 8}{order}";
    }

    public double ToDouble(ReadOnlySpan<byte> bytes) => Kind switch
    {
        ElementKind.Float => Size switch
        {
            2 => (double)(BigEndian ? BinaryPrimitives.ReadHalfBigEndian(bytes) : BinaryPrimitives.ReadHalfLittleEndian(bytes)),
            4 => BigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
            _ => BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes),
        },
        ElementKind.UnsignedInteger => ToUInt64(bytes),
        _ => ToInt64(bytes),
    };

    /// <summary>Decodes an integer element. Unsigned 64-bit values above <see cref="long.MaxValue"/> wrap to negative values.</summary>
    public long ToInt64(ReadOnlySpan<byte> bytes)
    {
        if (Kind == ElementKind.UnsignedInteger)
        {
            return unchecked((long)ToUInt64(bytes));
        }

        return Size switch
        {
            1 => (sbyte)bytes[0],
            2 => BigEndian ? BinaryPrimitives.ReadInt16BigEndian(bytes) : BinaryPrimitives.ReadInt16LittleEndian(bytes),
            4 => BigEndian ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes),
            _ => BigEndian ? BinaryPrimitives.ReadInt64BigEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes),
        };
    }

    private ulong ToUInt64(ReadOnlySpan<byte> bytes) => Size switch
    {
        1 => bytes[0],
        2 => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        4 => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        _ => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes),
    };
}
