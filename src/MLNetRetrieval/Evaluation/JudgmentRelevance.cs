namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Relevance by explicit (query, item, grade) judgments, with junk removal as in the Oxford and Paris
/// benchmarks and their revisited Easy, Medium and Hard settings.
/// </summary>
/// <remarks>
/// <see cref="JudgmentProtocol"/> maps each grade to relevant, junk or non-relevant. Junk items are
/// removed from the ranking before scoring, so they neither help nor hurt and the items after them
/// move up. Items without a judgment are non-relevant. A query's relevant count is the number of its
/// items that the protocol maps to relevant, retrieved or not.
/// </remarks>
public sealed class JudgmentRelevance
{
    private readonly Dictionary<(long QueryId, long ItemId), ItemRelevance> _relevance = [];
    private readonly Dictionary<long, int> _relevantCountByQuery = [];

    /// <summary>Stores the judgments under a protocol.</summary>
    /// <param name="judgments">The judgments. A (query, item) pair may repeat only with the same grade.</param>
    /// <param name="protocol">How grades map to relevant, junk and non-relevant.</param>
    /// <exception cref="ArgumentException">
    /// A pair repeats with another grade, a grade or protocol is undefined, or an item id is <see cref="RankedList.Padding"/>.
    /// </exception>
    public JudgmentRelevance(IEnumerable<Judgment> judgments, JudgmentProtocol protocol = JudgmentProtocol.Standard)
    {
        ArgumentNullException.ThrowIfNull(judgments);
        Protocol = protocol;
        var grades = new Dictionary<(long, long), JudgmentGrade>();
        foreach (Judgment judgment in judgments)
        {
            if (judgment.ItemId == RankedList.Padding)
            {
                throw new ArgumentException(
                    $"Query {judgment.QueryId} has a judgment for item id {RankedList.Padding}, which marks padding.",
                    nameof(judgments));
            }

            var key = (judgment.QueryId, judgment.ItemId);
            if (grades.TryGetValue(key, out JudgmentGrade earlier))
            {
                if (earlier != judgment.Grade)
                {
                    throw new ArgumentException(
                        $"Query {judgment.QueryId}, item {judgment.ItemId} is graded both {earlier} and {judgment.Grade}. " +
                        "Keep one grade per pair.",
                        nameof(judgments));
                }

                continue;
            }

            grades.Add(key, judgment.Grade);
            ItemRelevance relevance = Classify(judgment.Grade, protocol);
            _relevance.Add(key, relevance);
            if (relevance == ItemRelevance.Relevant)
            {
                _relevantCountByQuery[judgment.QueryId] = _relevantCountByQuery.GetValueOrDefault(judgment.QueryId) + 1;
            }
        }
    }

    /// <summary>Protocol that maps the grades.</summary>
    public JudgmentProtocol Protocol { get; }

    /// <summary>Maps a grade to its role in scoring under a protocol (table in <see cref="JudgmentProtocol"/>).</summary>
    /// <param name="grade">The judgment grade.</param>
    /// <param name="protocol">The protocol.</param>
    /// <returns>Whether an item of this grade is relevant, junk or non-relevant.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="grade"/> or <paramref name="protocol"/> is not a defined value.</exception>
    public static ItemRelevance Classify(JudgmentGrade grade, JudgmentProtocol protocol)
    {
        if (!Enum.IsDefined(protocol))
        {
            throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Use Standard, Easy, Medium or Hard.");
        }

        return grade switch
        {
            JudgmentGrade.Negative => ItemRelevance.NonRelevant,
            JudgmentGrade.Positive => ItemRelevance.Relevant,
            JudgmentGrade.Junk => ItemRelevance.Junk,
            JudgmentGrade.Easy => protocol == JudgmentProtocol.Hard ? ItemRelevance.Junk : ItemRelevance.Relevant,
            JudgmentGrade.Hard => protocol == JudgmentProtocol.Easy ? ItemRelevance.Junk : ItemRelevance.Relevant,
            _ => throw new ArgumentOutOfRangeException(
                nameof(grade), grade, "Use Negative, Easy, Hard, Junk or Positive."),
        };
    }

    /// <summary>Counts the items judged relevant to a query under <see cref="Protocol"/>.</summary>
    /// <param name="queryId">Id of the query.</param>
    /// <returns>The number of relevant items; 0 for a query without judgments.</returns>
    public int CountRelevant(long queryId) => _relevantCountByQuery.GetValueOrDefault(queryId);

    /// <summary>Looks up the role of an item in scoring a query.</summary>
    /// <param name="queryId">Id of the query.</param>
    /// <param name="itemId">Id of the item.</param>
    /// <returns>The mapped relevance; <see cref="ItemRelevance.NonRelevant"/> when the pair has no judgment.</returns>
    public ItemRelevance GetRelevance(long queryId, long itemId) =>
        _relevance.GetValueOrDefault((queryId, itemId), ItemRelevance.NonRelevant);

    /// <summary>Removes padding and junk from a result list and marks the remaining items relevant or not.</summary>
    /// <param name="ranking">The query's result list.</param>
    /// <returns>The judged ranking; <see cref="JudgedRanking.RemovedJunkCount"/> gives the junk removed.</returns>
    /// <exception cref="ArgumentException">
    /// The ranking contains more relevant items than the query has, which happens when an id repeats.
    /// </exception>
    public JudgedRanking Judge(RankedList ranking)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ReadOnlySpan<long> ids = ranking.ItemIds.Span;
        ReadOnlySpan<float> distances = ranking.Distances.Span;
        var relevant = new List<bool>(ids.Length);
        var keptDistances = ranking.HasDistances ? new List<float>(ids.Length) : null;
        int junkCount = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] == RankedList.Padding)
            {
                continue;
            }

            ItemRelevance relevance = GetRelevance(ranking.QueryId, ids[i]);
            if (relevance == ItemRelevance.Junk)
            {
                junkCount++;
                continue;
            }

            relevant.Add(relevance == ItemRelevance.Relevant);
            keptDistances?.Add(distances[i]);
        }

        return new JudgedRanking(
            ranking.QueryId, relevant.ToArray(), keptDistances?.ToArray(), CountRelevant(ranking.QueryId), junkCount, validate: true);
    }
}
