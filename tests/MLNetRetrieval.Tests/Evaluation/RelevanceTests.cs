using MLNetRetrieval.Evaluation;
using Xunit;

namespace MLNetRetrieval.Tests.Evaluation;

public class RelevanceTests
{
    private const double Tolerance = 1e-12;

    private static readonly Judgment[] RevisitedJudgments =
    [
        new(1, 1, JudgmentGrade.Easy),
        new(1, 2, JudgmentGrade.Hard),
        new(1, 3, JudgmentGrade.Junk),
        new(1, 4, JudgmentGrade.Easy),
    ];

    // Ranking of query 1 for the Easy, Medium and Hard tests; 5 and 6 have no judgment.
    private static readonly RankedList RevisitedRanking = new(1, new long[] { 2, 5, 1, 3, 4, 6 });

    private static double AveragePrecision(JudgedRanking ranking) =>
        RankingEvaluator.Evaluate([ranking]).Queries[0].AveragePrecision!.Value;

    [Fact]
    public void JunkRemovedBeforeScoring()
    {
        // Grades: 10 Positive, 11 Junk, 12 Positive, 13 Negative; 99 unjudged. Ranking 11 13 10 99 12.
        // Junk 11 is dropped: 13 10 99 12 -> rel = 0 1 0 1, N_rel = 2.
        // AP = (1/2 + 2/4) / 2 = 0.5 (keeping the junk as a miss would give (1/3 + 2/5) / 2 = 0.3667).
        // MAP@R, R = 2: (P@2) / 2 = (1/2) / 2 = 0.25.
        var relevance = new JudgmentRelevance(
        [
            new(7, 10, JudgmentGrade.Positive),
            new(7, 11, JudgmentGrade.Junk),
            new(7, 12, JudgmentGrade.Positive),
            new(7, 13, JudgmentGrade.Negative),
        ]);
        JudgedRanking judged = relevance.Judge(new RankedList(7, new long[] { 11, 13, 10, 99, 12 }));
        QueryMetrics row = RankingEvaluator.Evaluate([judged]).Queries[0];

        Assert.Equal(0.5, row.AveragePrecision!.Value, Tolerance);
        Assert.Equal(0.25, row.MapAtR!.Value, Tolerance);
        Assert.Equal(1, row.RemovedJunkCount);
        Assert.Equal(4, row.RankedCount);
        Assert.Equal(2, row.RelevantCount);
    }

    [Fact]
    public void RevisitedEasySetting()
    {
        // Easy: relevant = {1, 4}; junk = {3} and hard {2}. 2 5 1 3 4 6 -> 5 1 4 6: rel = 0 1 1 0, N_rel = 2.
        // AP = (1/2 + 2/3) / 2 = 7/12.
        var relevance = new JudgmentRelevance(RevisitedJudgments, JudgmentProtocol.Easy);
        JudgedRanking judged = relevance.Judge(RevisitedRanking);

        Assert.Equal(7.0 / 12, AveragePrecision(judged), Tolerance);
        Assert.Equal(2, judged.RemovedJunkCount);
    }

    [Fact]
    public void RevisitedMediumSetting()
    {
        // Medium: relevant = {1, 2, 4}; junk = {3}. 2 5 1 3 4 6 -> 2 5 1 4 6: rel = 1 0 1 1 0, N_rel = 3.
        // AP = (1 + 2/3 + 3/4) / 3 = 29/36.
        var relevance = new JudgmentRelevance(RevisitedJudgments, JudgmentProtocol.Medium);
        JudgedRanking judged = relevance.Judge(RevisitedRanking);

        Assert.Equal(29.0 / 36, AveragePrecision(judged), Tolerance);
        Assert.Equal(1, judged.RemovedJunkCount);
    }

    [Fact]
    public void RevisitedHardSetting()
    {
        // Hard: relevant = {2}; junk = {3} and easy {1, 4}. 2 5 1 3 4 6 -> 2 5 6: rel = 1 0 0, N_rel = 1. AP = 1.
        var relevance = new JudgmentRelevance(RevisitedJudgments, JudgmentProtocol.Hard);
        JudgedRanking judged = relevance.Judge(RevisitedRanking);

        Assert.Equal(1.0, AveragePrecision(judged), Tolerance);
        Assert.Equal(3, judged.RemovedJunkCount);
        Assert.Equal(1, relevance.CountRelevant(1));
    }

    [Theory]
    [InlineData(JudgmentGrade.Positive, JudgmentProtocol.Hard, ItemRelevance.Relevant)]
    [InlineData(JudgmentGrade.Easy, JudgmentProtocol.Standard, ItemRelevance.Relevant)]
    [InlineData(JudgmentGrade.Easy, JudgmentProtocol.Hard, ItemRelevance.Junk)]
    [InlineData(JudgmentGrade.Hard, JudgmentProtocol.Easy, ItemRelevance.Junk)]
    [InlineData(JudgmentGrade.Hard, JudgmentProtocol.Medium, ItemRelevance.Relevant)]
    [InlineData(JudgmentGrade.Junk, JudgmentProtocol.Medium, ItemRelevance.Junk)]
    [InlineData(JudgmentGrade.Negative, JudgmentProtocol.Easy, ItemRelevance.NonRelevant)]
    public void GradeMapping(JudgmentGrade grade, JudgmentProtocol protocol, ItemRelevance expected)
    {
        Assert.Equal(expected, JudgmentRelevance.Classify(grade, protocol));
    }

    [Fact]
    public void ConflictingGradesRejected()
    {
        Judgment[] judgments = [new(1, 5, JudgmentGrade.Easy), new(1, 5, JudgmentGrade.Junk)];

        var error = Assert.Throws<ArgumentException>(() => new JudgmentRelevance(judgments));
        Assert.Contains("graded both Easy and Junk", error.Message);
    }

    [Fact]
    public void PaddingSkippedWithDistances()
    {
        // Collection 1..6 with labels a a b a b b; query 100 (not in the collection) has label a, so N_rel = 3.
        // Ranking 3 -1 1 -1 -> 3 1: rel = 0 1. AP = (1/2) / 3 = 1/6.
        var relevance = new LabelRelevance([1, 2, 3, 4, 5, 6], ["a", "a", "b", "a", "b", "b"]);
        var ranking = new RankedList(100, new long[] { 3, -1, 1, -1 }, new float[] { 0.1f, float.MaxValue, 0.2f, float.MaxValue });

        JudgedRanking judged = relevance.Judge(ranking, "a");

        Assert.Equal([false, true], judged.Relevant.ToArray());
        Assert.Equal([0.1f, 0.2f], judged.Distances.ToArray());
        Assert.Equal(1.0 / 6, AveragePrecision(judged), Tolerance);
    }

    [Fact]
    public void LeaveOneOutDropsQuery()
    {
        // Collection 0..4 with labels a a a b b; query 0 (label a) is in the collection, so N_rel = 3 - 1 = 2.
        // Ranking 0 3 1 2 -> 3 1 2 (self removed): rel = 0 1 1. AP = (1/2 + 2/3) / 2 = 7/12.
        var relevance = new LabelRelevance([0, 1, 2, 3, 4], ["a", "a", "a", "b", "b"]);

        JudgedRanking judged = relevance.Judge(new RankedList(0, new long[] { 0, 3, 1, 2 }), "a", leaveOneOut: true);

        Assert.Equal(2, judged.RelevantCount);
        Assert.Equal(3, judged.Length);
        Assert.Equal(7.0 / 12, AveragePrecision(judged), Tolerance);
    }

    [Fact]
    public void RelevantCountsFromLabels()
    {
        string[] collection = ["a", "a", "a", "b", "b"];

        int[] outside = LabelRelevance.CountRelevant(collection, ["a", "b", "c"], leaveOneOut: false);
        int[] inside = LabelRelevance.CountRelevant(collection, ["a", "b"], leaveOneOut: true);

        Assert.Equal([3, 2, 0], outside);
        Assert.Equal([2, 1], inside);
    }

    [Fact]
    public void LeaveOneOutUnknownLabelRejected()
    {
        var error = Assert.Throws<ArgumentException>(
            () => LabelRelevance.CountRelevant(["a"], ["z"], leaveOneOut: true));

        Assert.Contains("'z' does not occur", error.Message);
    }

    [Fact]
    public void LabelsGivenWithRanking()
    {
        // Labels travel with the ranking: b a (padding) a, query label a, N_rel = 2. rel = 0 1 1.
        // AP = (1/2 + 2/3) / 2 = 7/12.
        var ranking = new RankedList(3, new long[] { 8, 9, -1, 7 });

        JudgedRanking judged = LabelRelevance.JudgeByLabels(ranking, "a", ["b", "a", null, "a"], relevantCount: 2);

        Assert.Equal(7.0 / 12, AveragePrecision(judged), Tolerance);
    }

    [Fact]
    public void RowsSplitFlatBuffers()
    {
        long[] ids = [1, 2, 3, 4, 5, 6];
        float[] distances = [0f, 1f, 2f, 3f, 4f, 5f];

        IReadOnlyList<RankedList> lists = RankedList.FromRows(ids, distances, k: 3, queryIds: [10L, 20L]);

        Assert.Equal(2, lists.Count);
        Assert.Equal(20, lists[1].QueryId);
        Assert.Equal([4L, 5L, 6L], lists[1].ItemIds.ToArray());
        Assert.Equal([3f, 4f, 5f], lists[1].Distances.ToArray());
    }
}
