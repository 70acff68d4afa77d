using MLNetRetrieval.Evaluation;
using Xunit;

namespace MLNetRetrieval.Tests.Evaluation;

public class RankingEvaluatorTests
{
    private const double Tolerance = 1e-12;

    private static QueryMetrics ScoreOne(JudgedRanking ranking, RankingEvaluatorOptions? options = null) =>
        RankingEvaluator.Evaluate([ranking], options).Queries[0];

    [Fact]
    public void SimpleRankingHandComputed()
    {
        // rel = 1 0 0 1 1, N_rel = 3.
        // AP = (P@1 + P@4 + P@5) / 3 = (1 + 2/4 + 3/5) / 3 = 2.1 / 3 = 0.7
        // MAP@R, R = 3: only position 1 is relevant within the top 3: (1) / 3 = 1/3
        // P@1 = 1, P@4 = 2/4, P@10 = 3/10 (positions 6..10 are missing, so misses)
        // Recall@1 = 1, Recall@2 = 1
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1, 2], PrecisionCutoffs = [1, 4, 10] };
        QueryMetrics row = ScoreOne(new JudgedRanking(5, [true, false, false, true, true], relevantCount: 3), options);

        Assert.Equal(0.7, row.AveragePrecision!.Value, Tolerance);
        Assert.Equal(1.0 / 3, row.MapAtR!.Value, Tolerance);
        Assert.Equal([1.0, 0.5, 0.3], row.PrecisionAt!);
        Assert.Equal([1.0, 1.0], row.RecallAt!);
        Assert.False(row.ShorterThanR);
    }

    [Fact]
    public void TiesScoredAsRanked()
    {
        // rel = 1 0 1 0 with the first three tied, N_rel = 2, scored in the given order.
        // AP = (1 + 2/3) / 2 = 5/6; MAP@R (R = 2) = (1) / 2 = 1/2; Recall@1 = 1; P@2 = 1/2.
        var ranking = new JudgedRanking(1, [true, false, true, false], [0.5f, 0.5f, 0.5f, 0.9f], relevantCount: 2);
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1], PrecisionCutoffs = [2] };
        QueryMetrics row = ScoreOne(ranking, options);

        Assert.Equal(5.0 / 6, row.AveragePrecision!.Value, Tolerance);
        Assert.Equal(0.5, row.MapAtR!.Value, Tolerance);
        Assert.Equal(1.0, row.RecallAt![0], Tolerance);
        Assert.Equal(0.5, row.PrecisionAt![0], Tolerance);
    }

    [Fact]
    public void TiesAveragedOverOrderings()
    {
        // Same ranking. The tied group of 3 contains 2 relevant items, so its three relevance patterns are
        // equally likely: 110, 101, 011 (position 4 stays a miss).
        // AP:     110 -> (1 + 2/2)/2 = 1;  101 -> (1 + 2/3)/2 = 5/6;  011 -> (1/2 + 2/3)/2 = 7/12
        //         mean = (12 + 10 + 7) / 36 = 29/36
        // MAP@R:  110 -> (1 + 1)/2 = 1;    101 -> 1/2;                011 -> (1/2)/2 = 1/4
        //         mean = (1 + 1/2 + 1/4) / 3 = 7/12
        // Recall@1 = P(position 1 relevant) = 2/3;  P@2 = (1 + 1/2 + 1/2) / 3 = 2/3
        var ranking = new JudgedRanking(1, [true, false, true, false], [0.5f, 0.5f, 0.5f, 0.9f], relevantCount: 2);
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1], PrecisionCutoffs = [2], TieHandling = TieHandling.Average };
        QueryMetrics row = ScoreOne(ranking, options);

        Assert.Equal(29.0 / 36, row.AveragePrecision!.Value, Tolerance);
        Assert.Equal(7.0 / 12, row.MapAtR!.Value, Tolerance);
        Assert.Equal(2.0 / 3, row.RecallAt![0], Tolerance);
        Assert.Equal(2.0 / 3, row.PrecisionAt![0], Tolerance);
    }

    [Fact]
    public void TieAwareRecallAtCutoffInsideGroup()
    {
        // rel = 0 0 0 1 all tied, N_rel = 1. Recall@2 = 1 - C(3,2)/C(4,2) = 1 - 3/6 = 1/2.
        // AP = E[1 / position] = (1 + 1/2 + 1/3 + 1/4) / 4 = 25/48.
        var ranking = new JudgedRanking(1, [false, false, false, true], [1f, 1f, 1f, 1f], relevantCount: 1);
        var options = new RankingEvaluatorOptions { RecallCutoffs = [2], PrecisionCutoffs = [], TieHandling = TieHandling.Average };
        QueryMetrics row = ScoreOne(ranking, options);

        Assert.Equal(0.5, row.RecallAt![0], Tolerance);
        Assert.Equal(25.0 / 48, row.AveragePrecision!.Value, Tolerance);
    }

    [Fact]
    public void TieAverageNeedsDistances()
    {
        var ranking = new JudgedRanking(3, [true, false], relevantCount: 1);
        var options = new RankingEvaluatorOptions { TieHandling = TieHandling.Average };

        var error = Assert.Throws<ArgumentException>(() => RankingEvaluator.Evaluate([ranking], options));
        Assert.Contains("Query 3", error.Message);
    }

    [Fact]
    public void QueriesWithoutRelevantExcluded()
    {
        // Query 1: rel = 0 1, N_rel = 1 -> AP = 1/2. Query 2 has no relevant item: excluded, so mAP = 1/2.
        var rankings = new[]
        {
            new JudgedRanking(1, [false, true], relevantCount: 1),
            new JudgedRanking(2, [false, false], relevantCount: 0),
        };
        RankingReport report = RankingEvaluator.Evaluate(rankings);

        Assert.Equal(1, report.EvaluatedQueryCount);
        Assert.Equal(1, report.ExcludedQueryCount);
        Assert.Equal(0.5, report.MeanAveragePrecision!.Value, Tolerance);
        Assert.True(report.Queries[1].Excluded);
        Assert.Null(report.Queries[1].AveragePrecision);
        Assert.Equal(2, report.Queries.Count);
    }

    [Fact]
    public void AllExcludedGivesNullMeans()
    {
        RankingReport report = RankingEvaluator.Evaluate([new JudgedRanking(9, [false], relevantCount: 0)]);

        Assert.Equal(0, report.EvaluatedQueryCount);
        Assert.Null(report.MeanAveragePrecision);
        Assert.Null(report.MeanMapAtR);
        Assert.Null(report.MeanRecall[0].Mean);
    }

    [Fact]
    public void TruncatedRankingPenalised()
    {
        // rel = 1 1, N_rel = 4: two relevant items were never retrieved.
        // AP = (1 + 1) / 4 = 0.5. MAP@R with R = 4 scores positions 3 and 4 as misses: (1 + 1) / 4 = 0.5.
        RankingReport report = RankingEvaluator.Evaluate([new JudgedRanking(4, [true, true], relevantCount: 4)]);
        QueryMetrics row = report.Queries[0];

        Assert.Equal(0.5, row.AveragePrecision!.Value, Tolerance);
        Assert.Equal(0.5, row.MapAtR!.Value, Tolerance);
        Assert.True(row.ShorterThanR);
        Assert.Equal(1, report.ShortRankingCount);
    }

    [Fact]
    public void MapAtRShortRankingRejected()
    {
        var options = new RankingEvaluatorOptions { ShortRankingForMapAtR = ShortRankingHandling.Reject };
        var ranking = new JudgedRanking(4, [true, false, true], relevantCount: 5);

        var error = Assert.Throws<ArgumentException>(() => RankingEvaluator.Evaluate([ranking], options));
        Assert.Contains("Query 4 has 5 relevant items", error.Message);
    }

    [Fact]
    public void RecallListOverQueries()
    {
        // First relevant item at position 1, at position 3, and not retrieved (N_rel = 1 each).
        // Recall@1 = 1/3, Recall@2 = 1/3, Recall@3 = 2/3, Recall@5 = 2/3 (past the end of every ranking).
        var rankings = new[]
        {
            new JudgedRanking(0, [true, false, false], relevantCount: 1),
            new JudgedRanking(1, [false, false, true], relevantCount: 1),
            new JudgedRanking(2, [false, false, false], relevantCount: 1),
        };
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1, 2, 3, 5] };
        RankingReport report = RankingEvaluator.Evaluate(rankings, options);

        Assert.Equal(1.0 / 3, report.MeanRecall[0].Mean!.Value, Tolerance);
        Assert.Equal(1.0 / 3, report.MeanRecall[1].Mean!.Value, Tolerance);
        Assert.Equal(2.0 / 3, report.MeanRecall[2].Mean!.Value, Tolerance);
        Assert.Equal(2.0 / 3, report.MeanRecall[3].Mean!.Value, Tolerance);
        Assert.Equal(5, report.MeanRecall[3].Cutoff);
    }

    [Fact]
    public void RelevantCountTooSmallRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new JudgedRanking(8, [true, true], relevantCount: 1));

        Assert.Contains("contains 2 relevant items", error.Message);
    }

    [Fact]
    public void DecreasingDistancesRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new JudgedRanking(8, [true, false], [2f, 1f], relevantCount: 1));

        Assert.Contains("non-decreasing", error.Message);
    }

    [Fact]
    public void NonPositiveCutoffRejected()
    {
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1, 0] };

        Assert.Throws<ArgumentOutOfRangeException>(() => RankingEvaluator.Evaluate([], options));
    }

    [Fact]
    public void ReportJsonRoundTrip()
    {
        var rankings = new[]
        {
            new JudgedRanking(1, [false, true], relevantCount: 1),
            new JudgedRanking(2, [false, false], relevantCount: 0),
        };
        RankingReport report = RankingEvaluator.Evaluate(rankings);

        string json = report.ToJson();
        RankingReport read = RankingReport.FromJson(json);

        Assert.Contains("\"TieHandling\": \"AsRanked\"", json);
        Assert.Equal(report.MeanAveragePrecision, read.MeanAveragePrecision);
        Assert.Equal(report.ExcludedQueryCount, read.ExcludedQueryCount);
        Assert.Equal(report.Queries[0].RecallAt, read.Queries[0].RecallAt);
        Assert.Null(read.Queries[1].MapAtR);
        Assert.Equal(json, read.ToJson());
    }

    [Fact]
    public void ReportTableListsMetrics()
    {
        RankingReport report = RankingEvaluator.Evaluate([new JudgedRanking(1, [false, true], relevantCount: 1)]);

        string table = report.ToTable(includeQueries: true);

        Assert.Contains("mAP           0.5000", table);
        Assert.Contains("Recall@100    1.0000", table);
        Assert.Contains("MAP@R         0.0000", table);
        Assert.Contains("Query\tR\tRanked\tJunk", table);
    }

    [Fact]
    public void AnnRecallHandComputed()
    {
        // Query 0: returned {1, 2, 3}, true {3, 1, 9}: 2 shared -> 2/3.
        // Query 1: returned {4, 5} plus padding, true {7, 8, 4}: 1 shared -> 1/3. Mean = 1/2.
        long[][] returned = [[1, 2, 3], [4, 5, -1]];
        long[][] truth = [[3, 1, 9], [7, 8, 4]];

        AnnRecallReport report = RankingEvaluator.AnnRecall(returned, truth, k: 3);

        Assert.Equal(0.5, report.Mean, Tolerance);
        Assert.Equal(2.0 / 3, report.PerQuery[0], Tolerance);
        Assert.Equal(1.0 / 3, report.PerQuery[1], Tolerance);
    }

    [Fact]
    public void AnnRecallFlatBuffersMatch()
    {
        // Returned rows of 4 scored at k = 2: query 0 {1, 2} vs true {2, 7} -> 1/2; query 1 {5, 5} vs {5, 6} -> 1/2
        // (the repeated 5 counts once).
        long[] returned = [1, 2, 3, 4, 5, 5, 6, 7];
        long[] truth = [2, 7, 8, 5, 6, 0];

        AnnRecallReport report = RankingEvaluator.AnnRecall(returned, 4, truth, 3, k: 2);

        Assert.Equal(0.5, report.PerQuery[0], Tolerance);
        Assert.Equal(0.5, report.PerQuery[1], Tolerance);
    }

    [Fact]
    public void AnnRecallShortTruthRejected()
    {
        long[][] returned = [[1, 2, 3]];
        long[][] truth = [[1, 2, -1]];

        var error = Assert.Throws<ArgumentException>(() => RankingEvaluator.AnnRecall(returned, truth, k: 3));
        Assert.Contains("only 2 distinct ids", error.Message);
    }
}
