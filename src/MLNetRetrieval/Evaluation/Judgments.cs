namespace MLNetRetrieval.Evaluation;

/// <summary>
/// Grade of one (query, item) judgment, following the Oxford and Paris ground truth files and their
/// revisited versions.
/// </summary>
/// <remarks>
/// <see cref="JudgmentProtocol"/> decides whether a grade counts as relevant, junk or non-relevant.
/// Items without a judgment are non-relevant, exactly as if graded <see cref="Negative"/>.
/// </remarks>
public enum JudgmentGrade : byte
{
    /// <summary>Not relevant. The same as having no judgment.</summary>
    Negative = 0,

    /// <summary>Relevant and easy to recognise ("easy" in the revisited Oxford and Paris files).</summary>
    Easy = 1,

    /// <summary>Relevant but hard to recognise ("hard" in the revisited Oxford and Paris files).</summary>
    Hard = 2,

    /// <summary>Ambiguous: removed from the ranking before scoring under every protocol.</summary>
    Junk = 3,

    /// <summary>Relevant without a difficulty split ("good" or "ok" in the original Oxford and Paris files).</summary>
    Positive = 4,
}

/// <summary>
/// Mapping from <see cref="JudgmentGrade"/> to <see cref="ItemRelevance"/>: the original Oxford and Paris
/// protocol and the three settings of Radenović, Iscen, Tolias, Avrithis and Chum, "Revisiting Oxford
/// and Paris: Large-Scale Image Retrieval Benchmarking", CVPR 2018.
/// </summary>
/// <remarks>
/// <code>
/// grade      Standard  Easy      Medium    Hard
/// Positive   relevant  relevant  relevant  relevant
/// Easy       relevant  relevant  relevant  junk
/// Hard       relevant  junk      relevant  relevant
/// Junk       junk      junk      junk      junk
/// Negative   -         -         -         -
/// </code>
/// <see cref="Standard"/> and <see cref="Medium"/> map every grade the same way. Both exist so that code
/// for binary judgments need not name a difficulty setting. <see cref="JudgmentGrade.Positive"/> has no
/// difficulty, so it counts as relevant in every setting. Give revisited data the grades
/// <see cref="JudgmentGrade.Easy"/> and <see cref="JudgmentGrade.Hard"/> instead.
/// </remarks>
public enum JudgmentProtocol : byte
{
    /// <summary>Original Oxford and Paris protocol: every relevant grade counts, junk is removed.</summary>
    Standard = 0,

    /// <summary>Revisited Easy: relevant = Easy; junk = Junk and Hard.</summary>
    Easy = 1,

    /// <summary>Revisited Medium: relevant = Easy and Hard; junk = Junk.</summary>
    Medium = 2,

    /// <summary>Revisited Hard: relevant = Hard; junk = Junk and Easy.</summary>
    Hard = 3,
}

/// <summary>Role of a retrieved item in scoring.</summary>
public enum ItemRelevance : byte
{
    /// <summary>Counts as a miss.</summary>
    NonRelevant = 0,

    /// <summary>Counts as a hit, and toward the query's number of relevant items.</summary>
    Relevant = 1,

    /// <summary>Removed from the ranking before scoring, so the items after it move up one position.</summary>
    Junk = 2,
}

/// <summary>One relevance judgment: how relevant item <paramref name="ItemId"/> is to query <paramref name="QueryId"/>.</summary>
/// <param name="QueryId">Id of the query.</param>
/// <param name="ItemId">Id of the collection item, as the index returns it.</param>
/// <param name="Grade">Grade of the item for this query.</param>
public readonly record struct Judgment(long QueryId, long ItemId, JudgmentGrade Grade);
