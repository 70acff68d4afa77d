namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Result list of one query as an index returns it: item ids best first, with optional distances.
/// </summary>
/// <remarks>
/// The id <see cref="Padding"/> (−1) marks an empty slot, as in a k-NN result that found fewer than k
/// items. Padding is skipped wherever it occurs and its distance is ignored. The memory is not copied,
/// so keep it unchanged until the list has been judged.
/// </remarks>
public sealed class RankedList
{
    /// <summary>Item id that marks an empty result slot.</summary>
    public const long Padding = -1;

    /// <summary>Creates the result list of one query.</summary>
    /// <param name="queryId">Id of the query; it links the list to judgments and names the query in reports.</param>
    /// <param name="itemIds">Retrieved item ids, best first; <see cref="Padding"/> marks an empty slot.</param>
    /// <param name="distances">
    /// Distance of each retrieved item, non-decreasing (smaller is better), or empty when not known.
    /// Only tie-aware scoring reads them.
    /// </param>
    /// <exception cref="ArgumentException">
    /// <paramref name="distances"/> is neither empty nor as long as <paramref name="itemIds"/>.
    /// </exception>
    public RankedList(long queryId, ReadOnlyMemory<long> itemIds, ReadOnlyMemory<float> distances = default)
    {
        if (!distances.IsEmpty && distances.Length != itemIds.Length)
        {
            throw new ArgumentException(
                $"Query {queryId} has {itemIds.Length} item ids but {distances.Length} distances. " +
                "Pass one distance per item id, or none.",
                nameof(distances));
        }

        QueryId = queryId;
        ItemIds = itemIds;
        Distances = distances;
    }

    /// <summary>Id of the query.</summary>
    public long QueryId { get; }

    /// <summary>Retrieved item ids, best first, possibly with <see cref="Padding"/> entries.</summary>
    public ReadOnlyMemory<long> ItemIds { get; }

    /// <summary>Distance of each item in <see cref="ItemIds"/>, or empty when distances are not known.</summary>
    public ReadOnlyMemory<float> Distances { get; }

    /// <summary>Whether the list carries distances.</summary>
    public bool HasDistances => !Distances.IsEmpty;

    /// <summary>
    /// Splits row-major k-NN result buffers (query i owns entries [i·k, (i+1)·k)) into one list per query,
    /// without copying.
    /// </summary>
    /// <param name="itemIds">Item ids, size n·k.</param>
    /// <param name="distances">Distances, size n·k, or empty when not known.</param>
    /// <param name="k">Entries per query.</param>
    /// <param name="queryIds">Id of each query, size n, or empty to number the queries 0 to n − 1.</param>
    /// <returns>The n result lists, in buffer order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">A buffer size does not match n·k or n.</exception>
    public static IReadOnlyList<RankedList> FromRows(
        ReadOnlyMemory<long> itemIds, ReadOnlyMemory<float> distances, int k, ReadOnlySpan<long> queryIds = default)
    {
        if (k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "Entries per query must be at least 1.");
        }

        if (itemIds.Length % k != 0)
        {
            throw new ArgumentException(
                $"The item id buffer contains {itemIds.Length} entries, which is not a multiple of k = {k}.",
                nameof(itemIds));
        }

        int queryCount = itemIds.Length / k;
        if (!distances.IsEmpty && distances.Length != itemIds.Length)
        {
            throw new ArgumentException(
                $"The distance buffer contains {distances.Length} entries but the item id buffer contains {itemIds.Length}. " +
                "Pass buffers of the same size, or an empty distance buffer.",
                nameof(distances));
        }

        if (!queryIds.IsEmpty && queryIds.Length != queryCount)
        {
            throw new ArgumentException(
                $"Got {queryIds.Length} query ids for {queryCount} result rows of k = {k}.",
                nameof(queryIds));
        }

        var lists = new RankedList[queryCount];
        for (int i = 0; i < queryCount; i++)
        {
            long queryId = queryIds.IsEmpty ? i : queryIds[i];
            ReadOnlyMemory<float> rowDistances = distances.IsEmpty ? default : distances.Slice(i * k, k);
            lists[i] = new RankedList(queryId, itemIds.Slice(i * k, k), rowDistances);
        }

        return lists;
    }
}
