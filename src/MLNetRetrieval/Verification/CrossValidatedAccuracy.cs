namespace MLNetRetrieval.Verification;

/// <summary>One fold of the best-threshold accuracy protocol.</summary>
/// <param name="Fold">Fold number, from 0.</param>
/// <param name="Threshold">The threshold that maximised accuracy on the other folds.</param>
/// <param name="TrainingAccuracy">Accuracy of that threshold on the other folds.</param>
/// <param name="TestAccuracy">Accuracy of that threshold on this fold.</param>
/// <param name="TestCount">Pairs in this fold.</param>
public sealed record FoldAccuracy(int Fold, float Threshold, double TrainingAccuracy, double TestAccuracy, int TestCount);

/// <summary>Result of the k-fold best-threshold accuracy protocol.</summary>
/// <param name="Mean">Mean of the folds' test accuracies.</param>
/// <param name="StandardDeviation">Population standard deviation (divisor k) of the folds' test accuracies.</param>
/// <param name="Folds">One row per fold.</param>
public sealed record CrossValidatedAccuracy(double Mean, double StandardDeviation, IReadOnlyList<FoldAccuracy> Folds);

/// <summary>
/// Runs the k-fold best-threshold accuracy protocol of the LFW benchmark (Huang et al., "Labeled Faces
/// in the Wild", UMass tech. report 07-49, 2007): for each fold, choose the threshold that maximises
/// accuracy on the other k − 1 folds and measure accuracy with it on the held-out fold.
/// </summary>
/// <remarks>
/// Accuracy(t) = (genuine pairs with score ≥ t + impostor pairs with score &lt; t) / pairs. Only the
/// distinct training scores, plus +∞ (reject all), change accuracy, so those are the candidates. Among
/// candidates of equal accuracy the smallest wins. The threshold applied is the midpoint between the
/// winning score and the next lower distinct training score, which classifies the training pairs
/// identically but does not sit on a training pair. The lowest score and +∞ are used as they are.
/// </remarks>
internal static class KFoldAccuracy
{
    public static CrossValidatedAccuracy Run(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isSame, int foldCount, FoldAssignment assignment, int seed)
    {
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        if (assignment == FoldAssignment.Shuffled)
            new Random(seed).Shuffle(order);

        var foldOf = new int[n];
        for (int position = 0; position < n; position++)
            foldOf[order[position]] = (int)((long)position * foldCount / n);

        var folds = new FoldAccuracy[foldCount];
        var trainScores = new List<float>(n);
        var trainSame = new List<bool>(n);
        for (int fold = 0; fold < foldCount; fold++)
        {
            trainScores.Clear();
            trainSame.Clear();
            for (int i = 0; i < n; i++)
            {
                if (foldOf[i] == fold)
                    continue;
                trainScores.Add(scores[i]);
                trainSame.Add(isSame[i]);
            }

            var (threshold, trainingAccuracy) = BestThreshold(trainScores.ToArray(), trainSame.ToArray());
            int correct = 0;
            int tested = 0;
            for (int i = 0; i < n; i++)
            {
                if (foldOf[i] != fold)
                    continue;
                tested++;
                if ((scores[i] >= threshold) == isSame[i])
                    correct++;
            }

            folds[fold] = new FoldAccuracy(fold, threshold, trainingAccuracy, (double)correct / tested, tested);
        }

        double mean = folds.Average(f => f.TestAccuracy);
        double variance = folds.Sum(f => (f.TestAccuracy - mean) * (f.TestAccuracy - mean)) / foldCount;
        return new CrossValidatedAccuracy(mean, Math.Sqrt(variance), folds);
    }

    /// <summary>Returns the accuracy-maximising threshold on one set of pairs, and that accuracy.</summary>
    internal static (float Threshold, double Accuracy) BestThreshold(float[] scores, bool[] isSame)
    {
        int n = scores.Length;
        var keys = new float[n];
        for (int i = 0; i < n; i++)
            keys[i] = -scores[i];
        Array.Sort(keys, isSame);

        int negatives = isSame.Count(same => !same);

        // At +∞ every pair is rejected: the impostors are right, the genuine pairs wrong.
        int bestCorrect = negatives;
        int bestEnd = 0;
        int correct = negatives;
        for (int i = 0; i < n;)
        {
            float score = -keys[i];
            while (i < n && -keys[i] == score)
            {
                correct += isSame[i] ? 1 : -1;
                i++;
            }

            // Scores descend, so a later candidate is a smaller threshold: ">=" keeps the smallest.
            if (correct >= bestCorrect)
            {
                bestCorrect = correct;
                bestEnd = i;
            }
        }

        float threshold;
        if (bestEnd == 0)
            threshold = float.PositiveInfinity;
        else if (bestEnd == n)
            threshold = -keys[n - 1];
        else
            threshold = Midpoint(-keys[bestEnd - 1], -keys[bestEnd]);
        return (threshold, (double)bestCorrect / n);
    }

    private static float Midpoint(float higher, float lower)
    {
        float middle = (float)(((double)higher + lower) / 2);
        // Rounding can land on the lower score, which would accept it; step back up in that case.
        return middle > lower ? middle : MathF.BitIncrement(lower);
    }
}
