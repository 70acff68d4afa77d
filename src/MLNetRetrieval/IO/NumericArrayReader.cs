using System.Buffers;
using System.Runtime.InteropServices;

namespace MLNetRetrieval.IO;

/// <summary>
/// Reads the data block of an NumPy or IDX array and converts each element to float, double or long.
/// </summary>
/// <remarks>
/// When the caller knows the bytes left in the file, it has already checked them against the element count,
/// so the reader allocates the result at once. For compressed streams the length is unknown, so a header that
/// claims more elements than the stream holds must not cause a huge allocation: the reader then fills chunks of
/// at most <see cref="ChunkElements"/> elements and allocates the final array only after all data has arrived.
/// </remarks>
internal static class NumericArrayReader
{
    private const int ChunkElements = 1 << 20;
    private const int ByteBufferSize = 1 << 16;

    public static float[] ReadFloats(Stream stream, ElementType type, long count, bool lengthChecked, string path, long dataOffset)
    {
        if (type.IsNativeFloat32)
        {
            return ReadArray<float>(stream, type, count, lengthChecked, path, dataOffset, null);
        }

        return ReadArray(stream, type, count, lengthChecked, path, dataOffset, static (t, b) => (float)t.ToDouble(b));
    }

    public static long[] ReadInt64s(Stream stream, ElementType type, long count, bool lengthChecked, string path, long dataOffset) =>
        ReadArray(stream, type, count, lengthChecked, path, dataOffset, static (t, b) => t.ToInt64(b));

    public static double[] ReadDoubles(Stream stream, ElementType type, long count, bool lengthChecked, string path, long dataOffset) =>
        ReadArray(stream, type, count, lengthChecked, path, dataOffset, static (t, b) => t.ToDouble(b));

    /// <summary>
    /// Reads <paramref name="count"/> elements. A null <paramref name="convert"/> copies raw bytes, which is valid only
    /// when <typeparamref name="T"/> has the element's size and byte order.
    /// </summary>
    private static T[] ReadArray<T>(
        Stream stream, ElementType type, long count, bool lengthChecked, string path, long dataOffset, Func<ElementType, ReadOnlySpan<byte>, T>? convert)
        where T : unmanaged
    {
        if (count > Array.MaxLength)
        {
            throw FileErrors.Invalid(path, $"header declares {count} elements, more than one array can hold ({Array.MaxLength}). Split the file into smaller parts.");
        }

        long offset = dataOffset;
        if (lengthChecked)
        {
            var result = new T[count];
            ReadInto(stream, type, result, path, ref offset, convert);
            return result;
        }

        var chunks = new List<T[]>();
        long remaining = count;
        while (remaining > 0)
        {
            var chunk = new T[Math.Min(remaining, ChunkElements)];
            ReadInto(stream, type, chunk, path, ref offset, convert);
            chunks.Add(chunk);
            remaining -= chunk.Length;
        }

        if (chunks.Count == 1)
        {
            return chunks[0];
        }

        var joined = new T[count];
        long position = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(joined, position);
            position += chunk.Length;
        }

        return joined;
    }

    private static void ReadInto<T>(
        Stream stream, ElementType type, Span<T> destination, string path, ref long offset, Func<ElementType, ReadOnlySpan<byte>, T>? convert)
        where T : unmanaged
    {
        if (convert is null)
        {
            Span<byte> raw = MemoryMarshal.AsBytes(destination);
            FileErrors.ReadExactly(stream, raw, path, offset, "the array data");
            offset += raw.Length;
            return;
        }

        int size = type.Size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ByteBufferSize);
        try
        {
            int elementsPerBuffer = ByteBufferSize / size;
            int done = 0;
            while (done < destination.Length)
            {
                int elements = Math.Min(elementsPerBuffer, destination.Length - done);
                Span<byte> bytes = buffer.AsSpan(0, elements * size);
                FileErrors.ReadExactly(stream, bytes, path, offset, "the array data");
                for (int i = 0; i < elements; i++)
                {
                    destination[done + i] = convert(type, bytes.Slice(i * size, size));
                }

                done += elements;
                offset += bytes.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
