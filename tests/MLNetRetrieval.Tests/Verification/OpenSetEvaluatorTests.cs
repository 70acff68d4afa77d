using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Verification;

/// <summary>Open-set identification on a hand-made 2-D gallery; similarities are cosines of unit vectors.</summary>
public sealed class OpenSetEvaluatorTests
{
    private const float Close = 1e-5f;

    // Gallery: A = (1, 0) and (0.8, 0.6); B = (0, 1); C = (-1, 0).
    private static readonly float[] GalleryVectors = [1, 0, 0.8f, 0.6f, 0, 1, -1, 0];
    private static readonly string[] GalleryIdentities = ["A", "A", "B", "C"];

    // Probes and their cosines with a1, a2, b1, c1:
    //   A (1, 0):       1,    0.8,   0,    -1   -> A 1.0 first (mate at rank 1)
    //   B (0.6, 0.8):   0.6,  0.96,  0.8,  -0.6 -> A 0.96, then B 0.8 (mate at rank 2)
    //   C (-0.8, 0.6): -0.8, -0.28,  0.6,   0.8 -> C 0.8, then B 0.6 (mate at rank 1)
    //   X (0, -1):      0,   -0.6,  -1,     0   -> first similarity 0 (non-mated)
    //   Y (0.6, -0.8):  0.6,  0,    -0.8,  -0.6 -> first similarity 0.6 (non-mated)
    private static readonly float[] Probes = [1, 0, 0.6f, 0.8f, -0.8f, 0.6f, 0, -1, 0.6f, -0.8f];
    private static readonly string[] ProbeIdentities = ["A", "B", "C", "X", "Y"];

    private static OpenSetReport Evaluate(int rank, float? threshold = null) =>
        OpenSetEvaluator.Evaluate(
            new IdentificationGallery(GalleryVectors, 2, GalleryIdentities, GalleryTemplate.BestOf),
            Probes, ProbeIdentities,
            new OpenSetEvaluatorOptions { Rank = rank, FalsePositiveIdentificationRates = [0.5, 0.1], DecisionThreshold = threshold });

    [Fact]
    public void BestOfRanksByMaxImage()
    {
        var gallery = new IdentificationGallery(GalleryVectors, 2, GalleryIdentities, GalleryTemplate.BestOf);

        IdentificationCandidate[] candidates = gallery.Identify([0.6f, 0.8f], 3)[0];

        Assert.Equal(["A", "B", "C"], candidates.Select(c => c.Identity));
        Assert.Equal(0.96f, candidates[0].Similarity, Close);
        Assert.Equal(0.8f, candidates[1].Similarity, Close);
    }

    [Fact]
    public void MeanTemplateSimilarity()
    {
        // Template of A = ((1, 0) + (0.8, 0.6)) / 2 = (0.9, 0.3), norm sqrt(0.9);
        // cosine with (0.6, 0.8) = (0.54 + 0.24) / sqrt(0.9) = 0.78 / 0.948683 = 0.822192.
        var gallery = new IdentificationGallery(GalleryVectors, 2, GalleryIdentities, GalleryTemplate.MeanEmbedding);

        IdentificationCandidate[] candidates = gallery.Identify([0.6f, 0.8f], 2)[0];

        Assert.Equal("A", candidates[0].Identity);
        Assert.Equal(0.822192f, candidates[0].Similarity, Close);
    }

    [Fact]
    public void RankOneIdentificationRate()
    {
        // A and C are first, B is second: 2 of 3 mated probes.
        OpenSetReport report = Evaluate(rank: 1);

        Assert.Equal(3, report.MatedProbeCount);
        Assert.Equal(2, report.NonMatedProbeCount);
        Assert.Equal(2.0 / 3, report.RankOneIdentificationRate, 1e-9);
    }

    [Fact]
    public void DirAtFpirRankOne()
    {
        // Rank 1 mated scores: 1.0 (A), 0.8 (C); B is missed at any threshold. Non-mated firsts: 0, 0.6.
        // FPIR <= 0.5: the smallest such threshold is 0.6 (FPIR 1/2); DIR = 2/3, FNIR = 1/3.
        DirAtFpir point = Evaluate(rank: 1).AtFalsePositiveIdentificationRate[0];

        Assert.Equal(0.6f, point.Point.Threshold, Close);
        Assert.Equal(0.5, point.Point.FalsePositiveIdentificationRate, 1e-9);
        Assert.Equal(2.0 / 3, point.Point.DetectionAndIdentificationRate, 1e-9);
        Assert.Equal(1.0 / 3, point.Point.FalseNegativeIdentificationRate, 1e-9);
    }

    [Fact]
    public void FpirTargetBelowResolution()
    {
        // 1 / 2 non-mated probes > 0.1: only FPIR = 0 qualifies, smallest threshold 0.8, DIR 2/3.
        DirAtFpir point = Evaluate(rank: 1).AtFalsePositiveIdentificationRate[1];

        Assert.True(point.Point.BelowResolution);
        Assert.Equal(0.8f, point.Point.Threshold, Close);
        Assert.Equal(0.0, point.Point.FalsePositiveIdentificationRate, 1e-9);
        Assert.Equal(2.0 / 3, point.Point.DetectionAndIdentificationRate, 1e-9);
    }

    [Fact]
    public void DirAtFpirRankTwo()
    {
        // Rank 2 adds B's mate at 0.8, so at threshold 0.6 all 3 mated probes are detected.
        OpenSetReport report = Evaluate(rank: 2);

        Assert.Equal(1.0, report.IdentificationRateAtRank, 1e-9);
        Assert.Equal(1.0, report.AtFalsePositiveIdentificationRate[0].Point.DetectionAndIdentificationRate, 1e-9);
    }

    [Fact]
    public void DecisionThresholdPoint()
    {
        // At 0.9 only A's mate (1.0) is detected and no non-mated first reaches it.
        OpenSetOperatingPoint point = Evaluate(rank: 1, threshold: 0.9f).AtDecisionThreshold!.Value;

        Assert.Equal(1.0 / 3, point.DetectionAndIdentificationRate, 1e-9);
        Assert.Equal(2.0 / 3, point.FalseNegativeIdentificationRate, 1e-9);
        Assert.Equal(0.0, point.FalsePositiveIdentificationRate, 1e-9);
    }

    [Fact]
    public void ZeroProbeRejected()
    {
        var gallery = new IdentificationGallery(GalleryVectors, 2, GalleryIdentities, GalleryTemplate.BestOf);

        Assert.Throws<ArgumentException>(() => gallery.Identify([0f, 0f], 1));
    }
}
