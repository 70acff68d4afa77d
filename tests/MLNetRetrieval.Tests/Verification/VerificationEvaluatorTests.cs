using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Tests.Verification;

/// <summary>Hand-computed verification metrics on small score lists.</summary>
public sealed class VerificationEvaluatorTests
{
    private const double Tolerance = 1e-9;

    // Genuine (P = 4): 0.9, 0.8, 0.6, 0.4. Impostor (N = 5): 0.7, 0.6, 0.3, 0.2, 0.1.
    // 0.6 is a genuine–impostor tie. ROC (threshold: TA, FA -> FAR, TAR):
    //   +inf: 0, 0 -> 0.0, 0.00      0.6: 3, 2 -> 0.4, 0.75
    //   0.9:  1, 0 -> 0.0, 0.25      0.4: 4, 2 -> 0.4, 1.00
    //   0.8:  2, 0 -> 0.0, 0.50      0.3: 4, 3 -> 0.6, 1.00
    //   0.7:  2, 1 -> 0.2, 0.50      0.2: 4, 4 -> 0.8, 1.00
    //                                0.1: 4, 5 -> 1.0, 1.00
    private static readonly float[] Scores = [0.9f, 0.7f, 0.8f, 0.6f, 0.6f, 0.3f, 0.4f, 0.2f, 0.1f];
    private static readonly bool[] IsSame = [true, false, true, true, false, false, true, false, false];

    private static VerificationReport Evaluate(params double[] targets) =>
        VerificationEvaluator.Evaluate(Scores, IsSame, new VerificationEvaluatorOptions { FalseAcceptRates = targets, FoldCount = 0 });

    [Fact]
    public void RocHasOnePointPerDistinctScore()
    {
        VerificationReport report = Evaluate(0.1);

        // 8 distinct scores plus the +inf point; the tie at 0.6 is one step.
        Assert.Equal(9, report.Roc.Count);
        Assert.Equal(float.PositiveInfinity, report.Roc[0].Threshold);
        Assert.Equal(new RocPoint(0.6f, 3, 2, 0.4, 0.75), report.Roc[4]);
    }

    [Fact]
    public void TarAtFarBetweenObservedPoints()
    {
        // FAR = 0.3 lies between the observed 0.2 (threshold 0.7) and 0.4 (threshold 0.6).
        // The smallest threshold with FAR <= 0.3 is 0.7, where TAR = 2/4.
        TarAtFar point = Evaluate(0.3).TarAtFar[0];

        Assert.Equal(0.7f, point.Threshold);
        Assert.Equal(0.2, point.FalseAcceptRate, Tolerance);
        Assert.Equal(0.5, point.TrueAcceptRate, Tolerance);
        Assert.False(point.BelowResolution);
    }

    [Fact]
    public void TarAtFarOnObservedPoint()
    {
        // FAR = 0.4 is reached at 0.6 and at 0.4; the smaller threshold 0.4 accepts all 4 genuine pairs.
        TarAtFar point = Evaluate(0.4).TarAtFar[0];

        Assert.Equal(0.4f, point.Threshold);
        Assert.Equal(1.0, point.TrueAcceptRate, Tolerance);
    }

    [Fact]
    public void TarAtFarBelowResolution()
    {
        // 1/N = 0.2 > 0.1, so only FAR = 0 qualifies; its smallest threshold is 0.8 with TAR = 2/4.
        TarAtFar point = Evaluate(0.1).TarAtFar[0];

        Assert.True(point.BelowResolution);
        Assert.Equal(0.8f, point.Threshold);
        Assert.Equal(0.0, point.FalseAcceptRate, Tolerance);
        Assert.Equal(0.5, point.TrueAcceptRate, Tolerance);
    }

    [Fact]
    public void EqualErrorRateInterpolated()
    {
        // d = FAR - FRR: 0.7 -> 0.2 - 0.5 = -0.3; 0.6 -> 0.4 - 0.25 = +0.15.
        // alpha = 0.3 / 0.45 = 2/3; EER = 0.2 + 2/3 * (0.4 - 0.2) = 1/3 (FRR: 0.5 - 2/3 * 0.25 = 1/3).
        VerificationReport report = Evaluate(0.1);

        Assert.Equal(1.0 / 3, report.EqualErrorRate, Tolerance);
        Assert.Equal(0.6f, report.EqualErrorThreshold);
    }

    [Fact]
    public void AreaUnderRocWithTie()
    {
        // Trapezoids: 0.2*0.5 + 0.2*(0.5+0.75)/2 + 3*0.2*1 = 0.1 + 0.125 + 0.6 = 0.825.
        // Mann-Whitney: impostors below each genuine 5 + 5 + (3 + 1/2 tie) + 3 = 16.5; 16.5 / 20 = 0.825.
        Assert.Equal(0.825, Evaluate(0.1).AreaUnderRoc, Tolerance);
    }

    [Fact]
    public void KFoldAccuracyContiguousFolds()
    {
        // Pairs in order (score, genuine), 4 contiguous folds of 2:
        //   f0: 0.9 T, 0.2 F | f1: 0.8 T, 0.3 F | f2: 0.4 T, 0.5 F | f3: 0.7 T, 0.6 F
        // f0 trains on 0.8T 0.7T 0.6F 0.5F 0.4T 0.3F: best 5/6 accepting {0.8, 0.7}; threshold
        //    midway between 0.7 and 0.6 = 0.65; test: 0.9 accepted, 0.2 rejected -> 1.0.
        // f1 trains on 0.9T 0.7T 0.6F 0.5F 0.4T 0.2F: same, 0.65; test 0.8 in, 0.3 out -> 1.0.
        // f2 trains on 0.9T 0.8T 0.7T 0.6F 0.3F 0.2F: 6/6 at 0.65; test 0.4T rejected (wrong), 0.5F rejected -> 0.5.
        // f3 trains on 0.9T 0.8T 0.5F 0.4T 0.3F 0.2F: 5/6 both accepting {0.9, 0.8} and {0.9 .. 0.4};
        //    the smaller threshold wins: midway between 0.4 and 0.3 = 0.35; test 0.7T in, 0.6F in (wrong) -> 0.5.
        // Mean (1 + 1 + 0.5 + 0.5) / 4 = 0.75; population std sqrt(4 * 0.25^2 / 4) = 0.25.
        float[] scores = [0.9f, 0.2f, 0.8f, 0.3f, 0.4f, 0.5f, 0.7f, 0.6f];
        bool[] isSame = [true, false, true, false, true, false, true, false];

        CrossValidatedAccuracy accuracy = VerificationEvaluator.Evaluate(scores, isSame, new VerificationEvaluatorOptions { FoldCount = 4 }).Accuracy!;

        Assert.Equal(0.75, accuracy.Mean, Tolerance);
        Assert.Equal(0.25, accuracy.StandardDeviation, Tolerance);
        Assert.Equal(0.65f, accuracy.Folds[0].Threshold, 1e-6f);
        Assert.Equal(5.0 / 6, accuracy.Folds[0].TrainingAccuracy, Tolerance);
        Assert.Equal(1.0, accuracy.Folds[2].TrainingAccuracy, Tolerance);
        Assert.Equal(0.35f, accuracy.Folds[3].Threshold, 1e-6f);
        Assert.Equal(0.5, accuracy.Folds[3].TestAccuracy, Tolerance);
    }

    [Fact]
    public void KFoldShuffledIsSeeded()
    {
        var random = new Random(5);
        float[] scores = Enumerable.Range(0, 200).Select(_ => (float)random.NextDouble()).ToArray();
        bool[] isSame = Enumerable.Range(0, 200).Select(i => scores[i] + (0.5 * random.NextDouble()) > 0.7).ToArray();
        var options = new VerificationEvaluatorOptions { FoldAssignment = FoldAssignment.Shuffled, Seed = 3 };

        CrossValidatedAccuracy first = VerificationEvaluator.Evaluate(scores, isSame, options).Accuracy!;
        CrossValidatedAccuracy second = VerificationEvaluator.Evaluate(scores, isSame, options).Accuracy!;

        Assert.Equal(first.Folds.Select(f => f.TestAccuracy), second.Folds.Select(f => f.TestAccuracy));
        Assert.Equal(200, first.Folds.Sum(f => f.TestCount));
    }

    [Fact]
    public void CalibratorMatchesEvaluatorThreshold()
    {
        TarAtFar calibrated = ThresholdCalibrator.ForFalseAcceptRate(Scores, IsSame, 0.3);

        Assert.Equal(0.7f, calibrated.Threshold);
        Assert.Equal(0.2, calibrated.FalseAcceptRate, Tolerance);
        Assert.Equal(0.5, calibrated.TrueAcceptRate, Tolerance);
    }

    [Fact]
    public void CalibratedThresholdHoldsFarOnSet()
    {
        var random = new Random(11);
        float[] scores = Enumerable.Range(0, 500).Select(_ => MathF.Round((float)random.NextDouble(), 2)).ToArray();
        bool[] isSame = Enumerable.Range(0, 500).Select(i => i % 3 == 0).ToArray();

        TarAtFar calibrated = ThresholdCalibrator.ForFalseAcceptRate(scores, isSame, 0.05);
        int negatives = isSame.Count(s => !s);
        int falseAccepts = scores.Where((s, i) => !isSame[i] && s >= calibrated.Threshold).Count();

        Assert.True((double)falseAccepts / negatives <= 0.05);
        // One step lower (the next smaller observed score) must break the target.
        float lower = scores.Where(s => s < calibrated.Threshold).DefaultIfEmpty(float.NegativeInfinity).Max();
        int falseAcceptsLower = scores.Where((s, i) => !isSame[i] && s >= lower).Count();
        Assert.True((double)falseAcceptsLower / negatives > 0.05);
    }

    [Fact]
    public void AucEqualsMannWhitneyWithTies()
    {
        var random = new Random(7);
        // Scores on a grid of 0.05 so genuine-impostor ties are frequent.
        float[] scores = Enumerable.Range(0, 400).Select(_ => MathF.Round((float)random.NextDouble() * 20) / 20).ToArray();
        bool[] isSame = Enumerable.Range(0, 400).Select(i => random.NextDouble() < scores[i]).ToArray();

        double auc = VerificationEvaluator.Evaluate(scores, isSame, new VerificationEvaluatorOptions { FoldCount = 0 }).AreaUnderRoc;

        double wins = 0;
        int pairs = 0;
        for (int g = 0; g < scores.Length; g++)
        {
            for (int i = 0; i < scores.Length; i++)
            {
                if (!isSame[g] || isSame[i])
                    continue;
                pairs++;
                if (scores[g] > scores[i])
                    wins += 1;
                else if (scores[g] == scores[i])
                    wins += 0.5;
            }
        }

        Assert.Equal(wins / pairs, auc, 1e-12);
    }

    [Fact]
    public void TarAtFarMatchesBruteForce()
    {
        var random = new Random(9);
        float[] scores = Enumerable.Range(0, 300).Select(_ => MathF.Round((float)random.NextDouble(), 2)).ToArray();
        bool[] isSame = Enumerable.Range(0, 300).Select(i => random.NextDouble() < scores[i]).ToArray();
        double[] targets = [0.5, 0.2, 0.1, 0.05, 0.01, 0.001];

        VerificationReport report = VerificationEvaluator.Evaluate(scores, isSame, new VerificationEvaluatorOptions { FalseAcceptRates = targets, FoldCount = 0 });

        int positives = isSame.Count(s => s);
        int negatives = scores.Length - positives;
        for (int t = 0; t < targets.Length; t++)
        {
            // Brute force: among all observed thresholds (and +inf) with FAR <= target, take the best TAR.
            double bestTar = scores.Append(float.PositiveInfinity)
                .Where(th => (double)scores.Where((s, i) => !isSame[i] && s >= th).Count() / negatives <= targets[t])
                .Max(th => (double)scores.Where((s, i) => isSame[i] && s >= th).Count() / positives);
            Assert.Equal(bestTar, report.TarAtFar[t].TrueAcceptRate, Tolerance);
        }
    }

    [Fact]
    public void MissingImpostorsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => VerificationEvaluator.Evaluate([0.5f, 0.6f], [true, true]));

        Assert.Contains("0 impostor", error.Message);
    }

    [Fact]
    public void NaNScoreRejected()
    {
        Assert.Throws<ArgumentException>(() => VerificationEvaluator.Evaluate([0.5f, float.NaN], [true, false]));
    }

    [Fact]
    public void TableMarksBelowResolution()
    {
        string table = Evaluate(0.3, 0.1).ToTable("cosine");

        Assert.Contains("TAR@FAR=1e-1", table);
        Assert.Contains("0.5000*", table);
        Assert.Contains("EER", table);
    }
}
