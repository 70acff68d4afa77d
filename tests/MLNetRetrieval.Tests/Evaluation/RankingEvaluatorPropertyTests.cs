using MLNetRetrieval.Evaluation;
using Xunit;

namespace MLNetRetrieval.Tests.Evaluation;

public class RankingEvaluatorPropertyTests
{
    private const double Tolerance = 1e-9;
    private static readonly int[] RecallCutoffs = [1, 2, 3, 5, 9];
    private static readonly int[] PrecisionCutoffs = [1, 2, 4, 8];

    [Theory]
    [InlineData(TieHandling.AsRanked, 11)]
    [InlineData(TieHandling.Average, 23)]
    public void MatchesReferenceOnRandomRankings(TieHandling tieHandling, int seed)
    {
        var random = new Random(seed);
        var options = new RankingEvaluatorOptions
        {
            RecallCutoffs = RecallCutoffs,
            PrecisionCutoffs = PrecisionCutoffs,
            TieHandling = tieHandling,
        };

        for (int trial = 0; trial < 300; trial++)
        {
            // Up to 7 positions with distances drawn from 4 values gives many ties, yet at most 7! orderings.
            int length = random.Next(0, 8);
            bool[] relevant = Enumerable.Range(0, length).Select(_ => random.Next(2) == 1).ToArray();
            float[] distances = Enumerable.Range(0, length).Select(_ => (float)random.Next(4)).Order().ToArray();
            int relevantCount = relevant.Count(isRelevant => isRelevant) + random.Next(0, 4);
            if (relevantCount == 0)
            {
                relevantCount = 1;
            }

            var ranking = new JudgedRanking(trial, relevant, distances, relevantCount);
            QueryMetrics actual = RankingEvaluator.Evaluate([ranking], options).Queries[0];
            ReferenceMetrics.Values expected = tieHandling == TieHandling.Average
                ? ReferenceMetrics.TieAveraged(relevant, distances, relevantCount, RecallCutoffs, PrecisionCutoffs)
                : ReferenceMetrics.AsRanked(relevant, relevantCount, RecallCutoffs, PrecisionCutoffs);

            string label = $"trial {trial}: rel = {string.Join("", relevant.Select(r => r ? 1 : 0))}, " +
                $"d = {string.Join(",", distances)}, N_rel = {relevantCount}";
            Assert.True(Math.Abs(expected.AveragePrecision - actual.AveragePrecision!.Value) < Tolerance, "AP, " + label);
            Assert.True(Math.Abs(expected.MapAtR - actual.MapAtR!.Value) < Tolerance, "MAP@R, " + label);
            for (int k = 0; k < RecallCutoffs.Length; k++)
            {
                Assert.True(Math.Abs(expected.RecallAt[k] - actual.RecallAt![k]) < Tolerance, $"Recall@{RecallCutoffs[k]}, {label}");
            }

            for (int k = 0; k < PrecisionCutoffs.Length; k++)
            {
                Assert.True(Math.Abs(expected.PrecisionAt[k] - actual.PrecisionAt![k]) < Tolerance, $"P@{PrecisionCutoffs[k]}, {label}");
            }
        }
    }

    [Fact]
    public void TieAverageWithoutTiesEqualsAsRanked()
    {
        var random = new Random(5);
        bool[] relevant = Enumerable.Range(0, 200).Select(_ => random.Next(3) == 0).ToArray();
        float[] distances = Enumerable.Range(0, 200).Select(i => i * 0.5f).ToArray();
        var ranking = new JudgedRanking(0, relevant, distances, relevant.Count(r => r) + 10);

        RankingReport asRanked = RankingEvaluator.Evaluate([ranking]);
        RankingReport averaged = RankingEvaluator.Evaluate([ranking], new RankingEvaluatorOptions { TieHandling = TieHandling.Average });

        Assert.Equal(asRanked.MeanAveragePrecision!.Value, averaged.MeanAveragePrecision!.Value, 1e-12);
        Assert.Equal(asRanked.MeanMapAtR!.Value, averaged.MeanMapAtR!.Value, 1e-12);
    }
}
