using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetRetrieval.Kernels;

/// <summary>
/// Keeps the k smallest (distance, id) pairs of a stream. Pairs are ordered by distance, then by id,
/// so among equal distances the lower id wins and the kept set does not depend on the scan order.
/// The heap is a max-heap on that order stored in two spans of length k; its root is the current worst.
/// </summary>
internal static unsafe class TopK
{
    /// <summary>Returns whether (d1, id1) comes before (d2, id2): smaller distance, then lower id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Precedes(float d1, long id1, float d2, long id2) => d1 < d2 || (d1 == d2 && id1 < id2);

    /// <summary>Returns the distance a candidate must not exceed to enter the heap: +∞ until the heap is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Threshold(ReadOnlySpan<float> distances, int count) => count < distances.Length ? float.PositiveInfinity : distances[0];

    /// <summary>Offers one pair to the heap; <paramref name="count"/> is the number of filled slots.</summary>
    public static void Push(Span<float> distances, Span<long> ids, ref int count, float distance, long id)
    {
        int k = distances.Length;
        if (count < k)
        {
            // Sift up from the new leaf.
            int child = count++;
            while (child > 0)
            {
                int parent = (child - 1) >> 1;
                if (!Precedes(distances[parent], ids[parent], distance, id))
                {
                    break;
                }

                distances[child] = distances[parent];
                ids[child] = ids[parent];
                child = parent;
            }

            distances[child] = distance;
            ids[child] = id;
            return;
        }

        if (k == 0 || !Precedes(distance, id, distances[0], ids[0]))
        {
            return;
        }

        // Replace the root and sift down.
        int node = 0;
        while (true)
        {
            int left = (2 * node) + 1;
            if (left >= k)
            {
                break;
            }

            int worse = left;
            int right = left + 1;
            if (right < k && Precedes(distances[left], ids[left], distances[right], ids[right]))
            {
                worse = right;
            }

            if (!Precedes(distance, id, distances[worse], ids[worse]))
            {
                break;
            }

            distances[node] = distances[worse];
            ids[node] = ids[worse];
            node = worse;
        }

        distances[node] = distance;
        ids[node] = id;
    }

    /// <summary>
    /// Offers every pair (<paramref name="row"/>[j], <paramref name="rowIds"/>[j]) to the heap, skipping
    /// <paramref name="excludedId"/>. Compares a whole register of distances with the current threshold
    /// first and touches the heap only for lanes at or below it.
    /// </summary>
    public static void PushRow(ReadOnlySpan<float> row, ReadOnlySpan<long> rowIds, long excludedId, Span<float> distances, Span<long> ids, ref int count, VectorWidth width)
    {
        if (row.Length != rowIds.Length)
        {
            throw new ArgumentException($"Row has {row.Length} distances but {rowIds.Length} ids.", nameof(rowIds));
        }

        switch (width)
        {
            case VectorWidth.Vector512:
                PushRow<Vector512<float>, Vector512Ops>(row, rowIds, excludedId, distances, ids, ref count);
                break;
            case VectorWidth.Vector256:
                PushRow<Vector256<float>, Vector256Ops>(row, rowIds, excludedId, distances, ids, ref count);
                break;
            case VectorWidth.Vector128:
                PushRow<Vector128<float>, Vector128Ops>(row, rowIds, excludedId, distances, ids, ref count);
                break;
            default:
                PushRowScalar(row, rowIds, excludedId, distances, ids, ref count);
                break;
        }
    }

    /// <summary>Scalar twin of <see cref="PushRow"/>: offers every pair in turn.</summary>
    public static void PushRowScalar(ReadOnlySpan<float> row, ReadOnlySpan<long> rowIds, long excludedId, Span<float> distances, Span<long> ids, ref int count)
    {
        for (int j = 0; j < row.Length; j++)
        {
            if (rowIds[j] != excludedId)
            {
                Push(distances, ids, ref count, row[j], rowIds[j]);
            }
        }
    }

    /// <summary>
    /// Writes the heap's pairs best first into <paramref name="outDistances"/> and <paramref name="outIds"/>
    /// (length k), padding empty slots with +∞ and id −1. Empties the heap.
    /// </summary>
    public static void Drain(Span<float> distances, Span<long> ids, ref int count, Span<float> outDistances, Span<long> outIds)
    {
        int k = distances.Length;
        for (int slot = count; slot < k; slot++)
        {
            outDistances[slot] = float.PositiveInfinity;
            outIds[slot] = -1;
        }

        // Heap sort: move the root (the worst kept pair) to the back, shrink, restore the heap.
        while (count > 0)
        {
            int last = count - 1;
            outDistances[last] = distances[0];
            outIds[last] = ids[0];
            float movedDistance = distances[last];
            long movedId = ids[last];
            count = last;
            if (last == 0)
            {
                break;
            }

            int node = 0;
            while (true)
            {
                int left = (2 * node) + 1;
                if (left >= last)
                {
                    break;
                }

                int worse = left;
                int right = left + 1;
                if (right < last && Precedes(distances[left], ids[left], distances[right], ids[right]))
                {
                    worse = right;
                }

                if (!Precedes(movedDistance, movedId, distances[worse], ids[worse]))
                {
                    break;
                }

                distances[node] = distances[worse];
                ids[node] = ids[worse];
                node = worse;
            }

            distances[node] = movedDistance;
            ids[node] = movedId;
        }
    }

    private static void PushRow<TVec, TOps>(ReadOnlySpan<float> row, ReadOnlySpan<long> rowIds, long excludedId, Span<float> distances, Span<long> ids, ref int count)
        where TVec : struct
        where TOps : ISimdOps<TVec>
    {
        int n = row.Length;
        int lanes = TOps.Count;
        float threshold = Threshold(distances, count);
        TVec limit = TOps.Broadcast(threshold);
        int j = 0;
        fixed (float* pRow = row)
        {
            for (; j <= n - lanes; j += lanes)
            {
                ulong mask = TOps.LessThanOrEqualMask(TOps.Load(pRow + j), limit);
                if (mask == 0)
                {
                    continue;
                }

                do
                {
                    int lane = BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    long id = rowIds[j + lane];
                    if (id != excludedId)
                    {
                        Push(distances, ids, ref count, pRow[j + lane], id);
                    }
                }
                while (mask != 0);

                limit = TOps.Broadcast(Threshold(distances, count));
            }
        }

        for (; j < n; j++)
        {
            if (rowIds[j] != excludedId)
            {
                Push(distances, ids, ref count, row[j], rowIds[j]);
            }
        }
    }
}
