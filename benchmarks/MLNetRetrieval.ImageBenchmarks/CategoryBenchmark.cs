using System.Globalization;
using System.Security.Cryptography;
using MLNetRetrieval.Evaluation;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>
/// Category retrieval on openclipart-png: every image is a query against all the others (leave-one-out), and a
/// result is relevant when it comes from the same top-level category folder.
/// </summary>
internal static class CategoryBenchmark
{
    /// <summary>
    /// Lists the clip-art PNGs in ordinal path order with their top-level folder as label, leaving out images
    /// that are too small or too large, and files whose bytes repeat (see <see cref="ClipartSet"/>).
    /// </summary>
    /// <param name="folder">The openclipart PNG folder.</param>
    /// <param name="keepDuplicates">Keep every file, repeated bytes included.</param>
    /// <returns>The images and what was left out.</returns>
    public static ClipartSet ListClipart(string folder, bool keepDuplicates)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The clip-art folder '{folder}' does not exist. Run benchmarks/images/setup.sh or pass --clipart DIR.");
        }

        string[] all = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();
        string LabelOf(string path) => Path.GetRelativePath(folder, path).Split(Path.DirectorySeparatorChar)[0];

        var sized = new List<string>();
        int badSize = 0;
        foreach (string path in all)
        {
            if (RawPixelFeaturizer.HasAcceptedSize(path))
            {
                sized.Add(path);
            }
            else
            {
                badSize++;
            }
        }

        if (keepDuplicates)
        {
            return new ClipartSet([.. sized], [.. sized.Select(LabelOf)], all.Length, badSize, 0, 0);
        }

        // The package installs many files more than once, sometimes under several categories. Repeats under one
        // label would make Recall@1 trivial, and a file under two labels has no single correct label, so each
        // content is kept once (first path) when all its copies share a label and dropped otherwise.
        var byContent = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string path in sized)
        {
            string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
            if (!byContent.TryGetValue(hash, out List<string>? group))
            {
                group = [];
                byContent[hash] = group;
            }

            group.Add(path);
        }

        var kept = new List<string>();
        int repeated = 0;
        int ambiguous = 0;
        foreach (List<string> group in byContent.Values)
        {
            if (group.Select(LabelOf).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                ambiguous += group.Count;
                continue;
            }

            kept.Add(group[0]);
            repeated += group.Count - 1;
        }

        kept.Sort(StringComparer.Ordinal);
        return new ClipartSet([.. kept], [.. kept.Select(LabelOf)], all.Length, badSize, repeated, ambiguous);
    }

    /// <summary>Runs the benchmark and prints a Markdown table.</summary>
    /// <param name="options">The options.</param>
    /// <param name="featurizers">The features to compare.</param>
    /// <param name="cache">The feature cache.</param>
    public static void Run(ImageBenchmarkOptions options, IReadOnlyList<IImageFeaturizer> featurizers, FeatureCache cache)
    {
        ClipartSet set = ListClipart(options.ClipartFolder, options.KeepDuplicates);
        string[] paths = set.Paths;
        string[] labels = set.Labels;
        string setName = set.SetName;
        if (options.Limit > 0 && options.Limit < paths.Length)
        {
            int[] chosen = Enumerable.Range(0, paths.Length).ToArray();
            new Random(options.Seed).Shuffle(chosen);
            chosen = chosen.Take(options.Limit).Order().ToArray();
            paths = chosen.Select(i => paths[i]).ToArray();
            labels = chosen.Select(i => labels[i]).ToArray();
            setName = $"{set.SetName}-limit{options.Limit}-seed{options.Seed}";
        }

        int categoryCount = labels.Distinct(StringComparer.Ordinal).Count();
        Console.WriteLine();
        Console.WriteLine($"### Category retrieval: openclipart-png, {paths.Length} images, {categoryCount} categories, leave-one-out");
        Console.WriteLine();
        Console.WriteLine(set.Describe());
        Console.WriteLine();
        Console.WriteLine("| features | dimension | queries | Recall@1 | Recall@10 | MAP@R | images/s | seconds | load average (start -> end) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");

        foreach (IImageFeaturizer featurizer in featurizers)
        {
            (FeatureMatrix features, bool fromCache) = cache.GetOrCompute(featurizer, paths, setName);
            RankingReport report = Evaluate(features, labels, options.Threads);
            string recall1 = Format(report.MeanRecall[0].Mean);
            string recall10 = Format(report.MeanRecall[1].Mean);
            string cached = fromCache ? $" (cached, {features.ComputedAtUtc:yyyy-MM-dd HH:mm}Z)" : string.Empty;
            Console.WriteLine(
                $"| {featurizer.Name} | {features.Dimension} | {report.EvaluatedQueryCount} | {recall1} | {recall10} | {Format(report.MeanMapAtR)} | " +
                $"{features.ImagesPerSecond:F1} | {features.Seconds:F1}{cached} | {features.LoadAverage} |");
            int failed = features.Failed.Count(f => f);
            if (failed > 0)
            {
                Console.WriteLine($"<!-- {featurizer.Name}: {failed} images failed and are left out of queries and database -->");
            }
        }

        Console.WriteLine(
            $"| random ranking (expected) | | {paths.Length} | {ExpectedRandomRecallAtOne(labels).ToString("F4", CultureInfo.InvariantCulture)} | | | | | |");
    }

    private static RankingReport Evaluate(FeatureMatrix features, string[] labels, int threads)
    {
        var kept = Enumerable.Range(0, features.Count).Where(i => !features.Failed[i]).ToArray();
        var ids = kept.Select(i => (long)i).ToArray();
        var keptLabels = kept.Select(i => labels[i]).ToArray();
        var relevance = new LabelRelevance(ids, keptLabels);

        // The query is in its own ranking and is dropped, so k = the largest category size leaves R = size − 1 positions.
        int k = LabelRelevance.CountLabels(keptLabels).Values.Max();
        (long[] found, int width) = ExactRetrieval.Search([features], features, k, threads);
        var options = new RankingEvaluatorOptions { RecallCutoffs = [1, 10], PrecisionCutoffs = [] };
        IEnumerable<JudgedRanking> Judged()
        {
            foreach (int row in kept)
            {
                var ranking = new RankedList(row, found.AsMemory(row * width, width));
                yield return relevance.Judge(ranking, labels[row], leaveOneOut: true);
            }
        }

        return RankingEvaluator.Evaluate(Judged(), options);
    }

    // A random ranking puts a uniformly chosen other image first: P(same label) = Σ_c n_c (n_c − 1) / (n (n − 1)).
    private static double ExpectedRandomRecallAtOne(string[] labels)
    {
        double n = labels.Length;
        double sum = LabelRelevance.CountLabels(labels).Values.Sum(count => (double)count * (count - 1));
        return sum / (n * (n - 1));
    }

    private static string Format(double? value) => value?.ToString("F4", CultureInfo.InvariantCulture) ?? "n/a";
}

/// <summary>The clip-art images of a run and the counts of files left out.</summary>
/// <param name="Paths">Image files in ordinal order.</param>
/// <param name="Labels">Top-level category folder of each file.</param>
/// <param name="ListedCount">PNG files found.</param>
/// <param name="BadSizeCount">Files left out for their size, or because their header could not be read.</param>
/// <param name="RepeatedCount">Files left out because an earlier file with the same label has the same bytes.</param>
/// <param name="AmbiguousCount">Files left out because files with the same bytes sit under different labels.</param>
internal sealed record ClipartSet(string[] Paths, string[] Labels, int ListedCount, int BadSizeCount, int RepeatedCount, int AmbiguousCount)
{
    /// <summary>Name of the set in cache file names.</summary>
    public string SetName => RepeatedCount + AmbiguousCount == 0 ? "clipart-all" : "clipart-unique";

    /// <summary>Describes the filtering in one sentence.</summary>
    /// <returns>The sentence.</returns>
    public string Describe() =>
        $"{ListedCount} PNG files listed; left out: {BadSizeCount} with a side under {RawPixelFeaturizer.Side} pixels, over " +
        $"{RawPixelFeaturizer.MaxPixels / 1_000_000} megapixels or an unreadable header, {RepeatedCount} repeated files with the same label, " +
        $"{AmbiguousCount} files whose bytes also occur under another label; {Paths.Length} remain.";
}
