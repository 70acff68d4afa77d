using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    /// <paramref name="table"/> (layout (m, 256)) into <paramref name="distances"/>. Every width runs the same
    /// unrolled loop, bit-identical to <see cref="ScanCodesScalar"/>; the parameter keeps the kernel's signature
    /// in line with the others.
    /// </summary>
    public static void ScanCodes(ReadOnlySpan<byte> codes, int count, int m, ReadOnlySpan<float> table, Span<float> distances, VectorWidth width)
    {
        CheckScan(codes, count, m, table, distances);
        VectorWidths.EnsureSupported(width);
        fixed (byte* pCodes = codes)
        fixed (float* pTable = table, pDistances = distances)
        {
            ScanCodesUnrolled(pCodes, count, m, pTable, pDistances);
        }
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
    /// Portable kernel of <see cref="ScanCodes"/>: four codes per step in four independent add chains, each in
    /// subspace order, so results are bit-identical to <see cref="ScanCodesScalar"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScanCodesUnrolled(byte* codes, int count, int m, float* table, float* distances)
    {
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            byte* c0 = codes + ((long)i * m);
            byte* c1 = c0 + m;
            byte* c2 = c1 + m;
            byte* c3 = c2 + m;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            float* subTable = table;
            for (int j = 0; j < m; j++)
            {
                s0 += subTable[c0[j]];
                s1 += subTable[c1[j]];
                s2 += subTable[c2[j]];
                s3 += subTable[c3[j]];
                subTable += Ksub;
            }

            distances[i] = s0;
            distances[i + 1] = s1;
            distances[i + 2] = s2;
            distances[i + 3] = s3;
        }

        for (; i < count; i++)
        {
            distances[i] = ScoreCode(new ReadOnlySpan<byte>(codes + ((long)i * m), m), new ReadOnlySpan<float>(table, m * Ksub));
        }
    }

    private static void CheckScan(ReadOnlySpan<byte> codes, int count, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        if (count < 0 || m < 1 || codes.Length < (long)count * m || table.Length != m * Ksub || distances.Length < count)
        {
            throw new ArgumentException($"ADC scan needs count × m = {count} × {m} code bytes, an m × 256 table and {count} outputs, got {codes.Length}, {table.Length} and {distances.Length}.", nameof(codes));
        }
    }
}
