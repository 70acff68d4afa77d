namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Relevance by class label: a retrieved item is relevant when its label equals the query's label
/// (ordinal string comparison).
/// </summary>
/// <remarks>
/// The instance stores the label of every collection item, so it can label retrieved ids and count
/// the relevant items of a query. In leave-one-out retrieval each query is itself a collection item
/// under the same id: pass <c>leaveOneOut: true</c> to drop the query's own id from its ranking and
/// subtract it from the count of relevant items.
/// </remarks>
public sealed class LabelRelevance
{
    private readonly Dictionary<long, string> _labelById;
    private readonly Dictionary<string, int> _countByLabel;

    /// <summary>Stores the labels of the collection.</summary>
    /// <param name="itemIds">Id of every collection item, as the index returns it.</param>
    /// <param name="itemLabels">Label of every collection item, in the same order.</param>
    /// <exception cref="ArgumentException">
    /// The lists differ in length, an id repeats, an id is <see cref="RankedList.Padding"/>, or a label is null.
    /// </exception>
    public LabelRelevance(IReadOnlyList<long> itemIds, IReadOnlyList<string> itemLabels)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(itemLabels);
        if (itemIds.Count != itemLabels.Count)
        {
            throw new ArgumentException(
                $"Got {itemIds.Count} item ids but {itemLabels.Count} labels. Pass one label per item.",
                nameof(itemLabels));
        }

        _labelById = new Dictionary<long, string>(itemIds.Count);
        for (int i = 0; i < itemIds.Count; i++)
        {
            long id = itemIds[i];
            if (id == RankedList.Padding)
            {
                throw new ArgumentException(
                    $"Item id at position {i} is {RankedList.Padding}, which marks padding. Use ids of 0 or more.",
                    nameof(itemIds));
            }

            string label = itemLabels[i] ?? throw new ArgumentException($"The label at position {i} is null.", nameof(itemLabels));
            if (!_labelById.TryAdd(id, label))
            {
                throw new ArgumentException($"Item id {id} occurs more than once (again at position {i}).", nameof(itemIds));
            }
        }

        _countByLabel = CountLabels(itemLabels);
    }

    /// <summary>Number of items in the collection.</summary>
    public int CollectionSize => _labelById.Count;

    /// <summary>Counts how often each label occurs.</summary>
    /// <param name="labels">Labels of the collection items.</param>
    /// <returns>The number of items with each label, compared ordinally.</returns>
    /// <exception cref="ArgumentException">A label is null.</exception>
    public static Dictionary<string, int> CountLabels(IEnumerable<string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        int position = 0;
        foreach (string label in labels)
        {
            if (label is null)
            {
                throw new ArgumentException($"The label at position {position} is null.", nameof(labels));
            }

            counts[label] = counts.GetValueOrDefault(label) + 1;
            position++;
        }

        return counts;
    }

    /// <summary>
    /// Computes, for each query, the number of collection items that share its label.
    /// </summary>
    /// <param name="collectionLabels">Labels of all collection items.</param>
    /// <param name="queryLabels">Label of each query.</param>
    /// <param name="leaveOneOut">
    /// True when every query is also a collection item with its label: the query itself is then not
    /// counted (one is subtracted).
    /// </param>
    /// <returns>The relevant-item count of each query, in query order.</returns>
    /// <exception cref="ArgumentException">
    /// A label is null, or <paramref name="leaveOneOut"/> is true and a query label does not occur in the collection.
    /// </exception>
    public static int[] CountRelevant(IEnumerable<string> collectionLabels, IReadOnlyList<string> queryLabels, bool leaveOneOut)
    {
        ArgumentNullException.ThrowIfNull(queryLabels);
        Dictionary<string, int> counts = CountLabels(collectionLabels);
        var result = new int[queryLabels.Count];
        for (int q = 0; q < result.Length; q++)
        {
            result[q] = CountRelevant(counts, queryLabels[q], leaveOneOut, nameof(queryLabels));
        }

        return result;
    }

    /// <summary>Computes the number of collection items relevant to a query with the given label.</summary>
    /// <param name="queryLabel">Label of the query.</param>
    /// <param name="leaveOneOut">True when the query is itself a collection item with this label, so it is not counted.</param>
    /// <returns>The number of collection items with <paramref name="queryLabel"/>, minus one under leave-one-out.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="leaveOneOut"/> is true but no collection item has <paramref name="queryLabel"/>.
    /// </exception>
    public int CountRelevant(string queryLabel, bool leaveOneOut = false)
    {
        ArgumentNullException.ThrowIfNull(queryLabel);
        return CountRelevant(_countByLabel, queryLabel, leaveOneOut, nameof(queryLabel));
    }

    /// <summary>Looks up the label of a collection item.</summary>
    /// <param name="itemId">Id of the item.</param>
    /// <returns>The item's label.</returns>
    /// <exception cref="ArgumentException">No collection item has this id.</exception>
    public string GetLabel(long itemId)
    {
        if (!_labelById.TryGetValue(itemId, out string? label))
        {
            throw new ArgumentException(
                $"Item id {itemId} is not in the collection of {CollectionSize} labelled items.", nameof(itemId));
        }

        return label;
    }

    /// <summary>
    /// Marks each retrieved item relevant or not by comparing its stored label with the query's label.
    /// </summary>
    /// <param name="ranking">The query's result list. Padding entries are skipped.</param>
    /// <param name="queryLabel">Label of the query.</param>
    /// <param name="leaveOneOut">
    /// True when the query is itself a collection item under <see cref="RankedList.QueryId"/>: that id
    /// is dropped from the ranking and the query is not counted as relevant to itself.
    /// </param>
    /// <returns>The judged ranking, with the relevant count taken from the whole collection.</returns>
    /// <exception cref="ArgumentException">
    /// A retrieved id is not in the collection, a count is inconsistent, or under leave-one-out the query id
    /// is missing from the collection or has another label.
    /// </exception>
    public JudgedRanking Judge(RankedList ranking, string queryLabel, bool leaveOneOut = false)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(queryLabel);
        int relevantCount = CountRelevant(queryLabel, leaveOneOut);
        if (leaveOneOut && !string.Equals(GetLabel(ranking.QueryId), queryLabel, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Leave-one-out needs query {ranking.QueryId} in the collection with label '{queryLabel}', " +
                $"but the collection gives it label '{GetLabel(ranking.QueryId)}'.",
                nameof(queryLabel));
        }

        ReadOnlySpan<long> ids = ranking.ItemIds.Span;
        ReadOnlySpan<float> distances = ranking.Distances.Span;
        var relevant = new List<bool>(ids.Length);
        var keptDistances = ranking.HasDistances ? new List<float>(ids.Length) : null;
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id == RankedList.Padding || (leaveOneOut && id == ranking.QueryId))
            {
                continue;
            }

            relevant.Add(string.Equals(GetLabel(id), queryLabel, StringComparison.Ordinal));
            keptDistances?.Add(distances[i]);
        }

        return new JudgedRanking(ranking.QueryId, relevant.ToArray(), keptDistances?.ToArray(), relevantCount, 0, validate: true);
    }

    /// <summary>
    /// Marks each retrieved item relevant or not from labels given alongside the ranking, for callers that
    /// do not keep the collection's labels.
    /// </summary>
    /// <param name="ranking">The query's result list. Padding entries are skipped together with their labels.</param>
    /// <param name="queryLabel">Label of the query.</param>
    /// <param name="itemLabels">Label of each entry of <see cref="RankedList.ItemIds"/>; entries at padding positions are ignored and may be null.</param>
    /// <param name="relevantCount">
    /// Number of collection items relevant to the query, for example from
    /// <see cref="CountRelevant(IEnumerable{string}, IReadOnlyList{string}, bool)"/>.
    /// </param>
    /// <returns>The judged ranking.</returns>
    /// <exception cref="ArgumentException">
    /// The label list has the wrong length, a label is null, or the ranking contains more relevant items
    /// than <paramref name="relevantCount"/>.
    /// </exception>
    public static JudgedRanking JudgeByLabels(RankedList ranking, string queryLabel, IReadOnlyList<string?> itemLabels, int relevantCount)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(queryLabel);
        ArgumentNullException.ThrowIfNull(itemLabels);
        ReadOnlySpan<long> ids = ranking.ItemIds.Span;
        if (itemLabels.Count != ids.Length)
        {
            throw new ArgumentException(
                $"Query {ranking.QueryId} has {ids.Length} item ids but {itemLabels.Count} item labels.", nameof(itemLabels));
        }

        ReadOnlySpan<float> distances = ranking.Distances.Span;
        var relevant = new List<bool>(ids.Length);
        var keptDistances = ranking.HasDistances ? new List<float>(ids.Length) : null;
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] == RankedList.Padding)
            {
                continue;
            }

            string label = itemLabels[i]
                ?? throw new ArgumentException($"Query {ranking.QueryId}: the label of item {ids[i]} at position {i} is null.", nameof(itemLabels));
            relevant.Add(string.Equals(label, queryLabel, StringComparison.Ordinal));
            keptDistances?.Add(distances[i]);
        }

        return new JudgedRanking(ranking.QueryId, relevant.ToArray(), keptDistances?.ToArray(), relevantCount, 0, validate: true);
    }

    private static int CountRelevant(Dictionary<string, int> counts, string queryLabel, bool leaveOneOut, string parameterName)
    {
        if (queryLabel is null)
        {
            throw new ArgumentException("A query label is null.", parameterName);
        }

        int count = counts.GetValueOrDefault(queryLabel);
        if (!leaveOneOut)
        {
            return count;
        }

        if (count == 0)
        {
            throw new ArgumentException(
                $"Query label '{queryLabel}' does not occur in the collection, so the query cannot be a collection item. " +
                "Pass leaveOneOut: false for queries from outside the collection.",
                parameterName);
        }

        return count - 1;
    }
}
