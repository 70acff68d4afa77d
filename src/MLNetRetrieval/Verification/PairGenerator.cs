namespace MLNetRetrieval.Verification;

/// <summary>A pair of rows with its ground truth: the same class (a genuine pair) or not (an impostor pair).</summary>
/// <param name="First">Row number of the first item.</param>
/// <param name="Second">Row number of the second item; never equal to <paramref name="First"/>.</param>
/// <param name="IsSame">True when both items have the same label.</param>
public readonly record struct LabeledPair(int First, int Second, bool IsSame);

/// <summary>Settings of <see cref="PairGenerator.Generate"/>.</summary>
public sealed class PairSamplingOptions
{
    /// <summary>Genuine (same-label) pairs to draw; 6000 by default.</summary>
    public int SamePairCount { get; set; } = 6000;

    /// <summary>Impostor (different-label) pairs to draw; 6000 by default.</summary>
    public int DifferentPairCount { get; set; } = 6000;

    /// <summary>Seed of the random generator; equal seeds and labels give equal pairs.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>
    /// When false (the default) no unordered pair is drawn twice; when true a pair may repeat.
    /// </summary>
    public bool WithReplacement { get; set; }
}

/// <summary>Draws seeded, balanced verification pairs from class labels.</summary>
/// <remarks>
/// <para>
/// Genuine pairs are uniform over all unordered same-label pairs: a class c is picked with
/// probability proportional to n_c(n_c − 1)/2, then two distinct items of it uniformly. Impostor
/// pairs are uniform over all unordered different-label pairs: two distinct items are drawn
/// uniformly and redrawn while their labels agree. Without replacement, a pair already drawn is
/// redrawn too, so the request must not exceed the number of distinct pairs.
/// </para>
/// <para>
/// The output lists the pairs in a seeded random order, so genuine and impostor pairs are mixed and
/// contiguous folds hold both kinds. Within a pair, <see cref="LabeledPair.First"/> is the smaller
/// row number. The generator is <see cref="Random"/> with a seed, whose sequence .NET keeps stable
/// across versions.
/// </para>
/// </remarks>
public static class PairGenerator
{
    /// <summary>Largest number of pairs one call draws: 100 million, about 1.2 GB of pairs.</summary>
    public const int MaxPairCount = 100_000_000;

    /// <summary>Draws genuine and impostor pairs of rows from one label per row.</summary>
    /// <param name="labels">One label per row.</param>
    /// <param name="options">Counts, seed and replacement; null uses the defaults.</param>
    /// <returns>The pairs, shuffled.</returns>
    /// <exception cref="ArgumentException">
    /// A count is negative, a class has fewer than 2 items, there are fewer than 2 classes while
    /// impostor pairs are requested, or more distinct pairs are requested than exist.
    /// </exception>
    public static LabeledPair[] Generate(IReadOnlyList<string> labels, PairSamplingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        options ??= new PairSamplingOptions();
        if (options.SamePairCount < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.SamePairCount, "SamePairCount must be 0 or more.");
        if (options.DifferentPairCount < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.DifferentPairCount, "DifferentPairCount must be 0 or more.");

        var (classOf, members) = GroupRows(labels);
        long samePairsAvailable = 0;
        foreach (int[] rows in members)
            samePairsAvailable += (long)rows.Length * (rows.Length - 1) / 2;
        long allPairs = (long)labels.Count * (labels.Count - 1) / 2;
        long differentPairsAvailable = allPairs - samePairsAvailable;
        if (options.DifferentPairCount > 0 && members.Count < 2)
            throw new ArgumentException($"Impostor pairs need at least 2 classes, but the labels have {members.Count}.", nameof(labels));
        if (!options.WithReplacement)
        {
            CheckAvailable(options.SamePairCount, samePairsAvailable, "same-label");
            CheckAvailable(options.DifferentPairCount, differentPairsAvailable, "different-label");
        }

        long total = (long)options.SamePairCount + options.DifferentPairCount;
        if (total > MaxPairCount)
            throw new ArgumentOutOfRangeException(nameof(options), total, $"SamePairCount + DifferentPairCount is {total}; at most {MaxPairCount} pairs can be drawn at once (each takes 12 bytes, and scoring keeps a score per pair).");

        var random = new Random(options.Seed);
        var pairs = new List<LabeledPair>((int)total);
        var drawn = new HashSet<long>();
        DrawSame(members, options.SamePairCount, options.WithReplacement, random, drawn, pairs);
        DrawDifferent(classOf, options.DifferentPairCount, options.WithReplacement, random, drawn, pairs);

        LabeledPair[] result = pairs.ToArray();
        random.Shuffle(result);
        return result;
    }

    private static (int[] ClassOf, List<int[]> Members) GroupRows(IReadOnlyList<string> labels)
    {
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var rowsByClass = new List<List<int>>();
        var classOf = new int[labels.Count];
        for (int row = 0; row < labels.Count; row++)
        {
            string label = labels[row] ?? throw new ArgumentException($"Label of row {row} is null. Give every row a label.", nameof(labels));
            if (!classIndex.TryGetValue(label, out int c))
            {
                c = rowsByClass.Count;
                classIndex.Add(label, c);
                rowsByClass.Add(new List<int>());
            }

            classOf[row] = c;
            rowsByClass[c].Add(row);
        }

        foreach (var (label, c) in classIndex)
        {
            if (rowsByClass[c].Count < 2)
                throw new ArgumentException($"Class '{label}' has {rowsByClass[c].Count} item; every class needs at least 2 for same-label pairs. Remove the class or add items to it.", nameof(labels));
        }

        return (classOf, rowsByClass.Select(rows => rows.ToArray()).ToList());
    }

    private static void CheckAvailable(int requested, long available, string kind)
    {
        if (requested > available)
            throw new ArgumentException($"{requested} distinct {kind} pairs were requested, but the labels allow only {available}. Request fewer pairs or set WithReplacement.", "options");
    }

    private static void DrawSame(List<int[]> members, int count, bool withReplacement, Random random, HashSet<long> drawn, List<LabeledPair> pairs)
    {
        // Cumulative same-pair counts per class, so a uniform draw over [0, total) picks class c with
        // probability n_c(n_c − 1)/2 divided by the total.
        var cumulative = new long[members.Count];
        long total = 0;
        for (int c = 0; c < members.Count; c++)
        {
            total += (long)members[c].Length * (members[c].Length - 1) / 2;
            cumulative[c] = total;
        }

        int added = 0;
        while (added < count)
        {
            long pick = random.NextInt64(total);
            int c = Array.BinarySearch(cumulative, pick);
            c = c < 0 ? ~c : c + 1;
            int[] rows = members[c];
            int i = random.Next(rows.Length);
            int j = random.Next(rows.Length - 1);
            if (j >= i)
                j++;
            if (TryAdd(rows[i], rows[j], isSame: true, withReplacement, drawn, pairs))
                added++;
        }
    }

    private static void DrawDifferent(int[] classOf, int count, bool withReplacement, Random random, HashSet<long> drawn, List<LabeledPair> pairs)
    {
        int added = 0;
        while (added < count)
        {
            int i = random.Next(classOf.Length);
            int j = random.Next(classOf.Length - 1);
            if (j >= i)
                j++;
            if (classOf[i] != classOf[j] && TryAdd(i, j, isSame: false, withReplacement, drawn, pairs))
                added++;
        }
    }

    private static bool TryAdd(int a, int b, bool isSame, bool withReplacement, HashSet<long> drawn, List<LabeledPair> pairs)
    {
        int first = Math.Min(a, b);
        int second = Math.Max(a, b);
        // NOTE: without replacement, a request close to the number of distinct pairs makes the
        // rejection loop slow, since most draws then hit a pair already taken.
        if (!withReplacement && !drawn.Add(((long)first << 32) | (uint)second))
            return false;
        pairs.Add(new LabeledPair(first, second, isSame));
        return true;
    }
}
