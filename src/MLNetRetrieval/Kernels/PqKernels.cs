using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Asymmetric distance computation (ADC) over 8-bit product-quantization codes: a code of m bytes scores
/// <c>Σ_j table[j * 256 + code[j]]</c> against a query's distance table, layout (m, 256).
/// </summary>
/// <remarks>
/// <para>Two kernels serve the two access patterns. <see cref="ScanCodes"/> scores many codes against one
/// table: with AVX2 it widens 8 code bytes to 8 indices and fetches the 8 table entries with one gather, then
/// reduces the partial sums of 8 codes at once with horizontal adds. Its sums are grouped differently from the
/// scalar twin, so the two agree to float rounding, not bit for bit.</para>
/// <para><see cref="ScanInterleaved{TVec, TOps}"/> scores many codes against the tables of one register's worth
/// of queries at once. The tables are interleaved, layout (m, 256, lanes), so the entries of all lanes for one
/// code byte are one contiguous register: each code byte costs one vector load and one add for all lanes, and
/// no gather. Each lane's sum runs in subspace order, bit-identical to <see cref="ScanCodesScalar"/>.</para>
/// </remarks>
internal static unsafe class PqKernels
{
    /// <summary>Entries per subspace table: 2^8 for 8-bit codes.</summary>
    public const int Ksub = 256;

    /// <summary>
    /// Writes the ADC distance of each of <paramref name="count"/> codes (layout (count, m)) against
    /// <paramref name="table"/> (layout (m, 256)) into <paramref name="distances"/>, at <paramref name="width"/>.
    /// Widths of 256 bits and more use AVX2 gathers when the CPU has them (.NET has no 512-bit gather).
    /// </summary>
    public static void ScanCodes(ReadOnlySpan<byte> codes, int count, int m, ReadOnlySpan<float> table, Span<float> distances, VectorWidth width)
    {
        CheckScan(codes, count, m, table, distances);
        if (width >= VectorWidth.Vector256 && Avx2.IsSupported && m >= 8)
        {
            fixed (byte* pCodes = codes)
            fixed (float* pTable = table, pDistances = distances)
            {
                ScanCodesGather(pCodes, count, m, pTable, pDistances);
            }

            return;
        }

        ScanCodesScalar(codes, count, m, table, distances);
    }

    /// <summary>Scalar twin of <see cref="ScanCodes"/>: one sum per code, in subspace order.</summary>
    public static void ScanCodesScalar(ReadOnlySpan<byte> codes, int count, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        CheckScan(codes, count, m, table, distances);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> code = codes.Slice(i * m, m);
            float sum = 0f;
            for (int j = 0; j < m; j++)
            {
                sum += table[(j * Ksub) + code[j]];
            }

            distances[i] = sum;
        }
    }

    /// <summary>Returns the ADC distance of one code (m bytes) against <paramref name="table"/> (layout (m, 256)), summed in subspace order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ScoreCode(ReadOnlySpan<byte> code, ReadOnlySpan<float> table)
    {
        float sum = 0f;
        for (int j = 0; j < code.Length; j++)
        {
            sum += table[(j * Ksub) + code[j]];
        }

        return sum;
    }

    /// <summary>
    /// Copies the tables of up to <c>lanes</c> queries (each layout (m, 256), stored one after another in
    /// <paramref name="tables"/>) into <paramref name="interleaved"/>, layout (m, 256, lanes). Lanes beyond
    /// <paramref name="queries"/> are zero.
    /// </summary>
    public static void Interleave(ReadOnlySpan<float> tables, int queries, int m, int lanes, Span<float> interleaved)
    {
        int entries = m * Ksub;
        if (queries > lanes || tables.Length < queries * entries || interleaved.Length != entries * lanes)
        {
            throw new ArgumentException($"Interleave needs at most {lanes} tables of {entries} entries and an output of {entries * lanes}, got {queries} queries, {tables.Length} and {interleaved.Length}.", nameof(interleaved));
        }

        if (queries < lanes)
        {
            interleaved.Clear();
        }

        for (int q = 0; q < queries; q++)
        {
            ReadOnlySpan<float> table = tables.Slice(q * entries, entries);
            for (int e = 0; e < entries; e++)
            {
                interleaved[(e * lanes) + q] = table[e];
            }
        }
    }

    /// <summary>
    /// Writes into <paramref name="tile"/> (layout (count, lanes)) the ADC distance of each of
    /// <paramref name="count"/> codes (layout (count, m)) for each lane's query, from
    /// <paramref name="interleaved"/> tables of layout (m, 256, lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScanInterleaved<TVec, TOps>(byte* codes, int count, int m, float* interleaved, float* tile)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int lanes = TOps.Count;
        int stride = Ksub * lanes;
        int i = 0;

        // Two codes per step give the out-of-order core two independent add chains.
        for (; i + 1 < count; i += 2)
        {
            byte* a = codes + ((long)i * m);
            byte* b = a + m;
            TVec sumA = TOps.Zero;
            TVec sumB = TOps.Zero;
            float* subTable = interleaved;
            for (int j = 0; j < m; j++)
            {
                sumA = TOps.Add(sumA, TOps.Load(subTable + (a[j] * lanes)));
                sumB = TOps.Add(sumB, TOps.Load(subTable + (b[j] * lanes)));
                subTable += stride;
            }

            TOps.Store(sumA, tile + ((long)i * lanes));
            TOps.Store(sumB, tile + ((long)(i + 1) * lanes));
        }

        for (; i < count; i++)
        {
            byte* a = codes + ((long)i * m);
            TVec sum = TOps.Zero;
            float* subTable = interleaved;
            for (int j = 0; j < m; j++)
            {
                sum = TOps.Add(sum, TOps.Load(subTable + (a[j] * lanes)));
                subTable += stride;
            }

            TOps.Store(sum, tile + ((long)i * lanes));
        }
    }

    /// <summary>
    /// AVX2 kernel of <see cref="ScanCodes"/>: for 8 codes at a time, gathers 8 table entries per 8 code bytes,
    /// adds the gathered registers of each code, and reduces the 8 registers to 8 sums with horizontal adds.
    /// Subspaces past the last multiple of 8 are added one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScanCodesGather(byte* codes, int count, int m, float* table, float* distances)
    {
        int wide = m & ~7;
        Vector256<int> step = Vector256.Create(0, Ksub, 2 * Ksub, 3 * Ksub, 4 * Ksub, 5 * Ksub, 6 * Ksub, 7 * Ksub);
        Vector256<int> chunkOffset = Vector256.Create(8 * Ksub);
        int i = 0;
        for (; i + 8 <= count; i += 8)
        {
            byte* block = codes + ((long)i * m);
            Vector256<float> s0 = GatherSum(block, wide, table, step, chunkOffset);
            Vector256<float> s1 = GatherSum(block + m, wide, table, step, chunkOffset);
            Vector256<float> s2 = GatherSum(block + (2 * m), wide, table, step, chunkOffset);
            Vector256<float> s3 = GatherSum(block + (3 * m), wide, table, step, chunkOffset);
            Vector256<float> s4 = GatherSum(block + (4 * m), wide, table, step, chunkOffset);
            Vector256<float> s5 = GatherSum(block + (5 * m), wide, table, step, chunkOffset);
            Vector256<float> s6 = GatherSum(block + (6 * m), wide, table, step, chunkOffset);
            Vector256<float> s7 = GatherSum(block + (7 * m), wide, table, step, chunkOffset);

            // hadd(hadd(s0, s1), hadd(s2, s3)) holds the 128-bit-lane sums of s0..s3 in each half.
            Vector256<float> low = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));
            Vector256<float> high = Avx.HorizontalAdd(Avx.HorizontalAdd(s4, s5), Avx.HorizontalAdd(s6, s7));
            Vector256<float> sums = Avx.Add(Avx.Permute2x128(low, high, 0x20), Avx.Permute2x128(low, high, 0x31));
            if (wide < m)
            {
                for (int c = 0; c < 8; c++)
                {
                    byte* code = block + (c * m);
                    float tail = 0f;
                    for (int j = wide; j < m; j++)
                    {
                        tail += table[(j * Ksub) + code[j]];
                    }

                    sums = sums.WithElement(c, sums.GetElement(c) + tail);
                }
            }

            sums.Store(distances + i);
        }

        for (; i < count; i++)
        {
            distances[i] = ScoreCode(new ReadOnlySpan<byte>(codes + ((long)i * m), m), new ReadOnlySpan<float>(table, m * Ksub));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GatherSum(byte* code, int wide, float* table, Vector256<int> step, Vector256<int> chunkOffset)
    {
        Vector256<float> sum = Vector256<float>.Zero;
        Vector256<int> offset = step;
        for (int j = 0; j < wide; j += 8)
        {
            Vector256<int> index = Avx2.Add(Avx2.ConvertToVector256Int32(code + j), offset);
            sum = Avx.Add(sum, Avx2.GatherVector256(table, index, 4));
            offset = Avx2.Add(offset, chunkOffset);
        }

        return sum;
    }

    private static void CheckScan(ReadOnlySpan<byte> codes, int count, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        if (count < 0 || m < 1 || codes.Length < (long)count * m || table.Length != m * Ksub || distances.Length < count)
        {
            throw new ArgumentException($"ADC scan needs count × m = {count} × {m} code bytes, an m × 256 table and {count} outputs, got {codes.Length}, {table.Length} and {distances.Length}.", nameof(codes));
        }
    }
}
