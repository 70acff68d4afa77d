using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MLNetRetrieval.Evaluation;
using SkiaSharp;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>
/// Near-duplicate retrieval in the style of INRIA Copydays (Douze, Jégou, Sandhawalia, Amsaleg and Schmid,
/// "Evaluation of GIST descriptors for web-scale image search", CIVR 2009, https://hal.inria.fr/inria-00394212):
/// attacked copies of wallpapers are the queries, and each has exactly one relevant database item, its original.
/// </summary>
internal static class CopydaysBenchmark
{
    // Two wallpapers whose 32x32 thumbnails differ by less than this many levels (of 255) per value on average are
    // treated as the same picture, and only the first in path order is kept. It merges one photo shipped at
    // several resolutions. The thumbnails are compared before L2 normalization, which would make every
    // uniform image equal.
    private const double SameImageMeanLevels = 3.0;

    // Wallpapers with more than this fraction of not fully opaque pixels are overlays that the desktop draws over a
    // background colour of its choice (several MATE PNGs); composited onto white they are almost blank.
    private const double MaxTransparentFraction = 0.01;

    /// <summary>A wallpaper accepted as a possible original.</summary>
    /// <param name="Path">The file.</param>
    /// <param name="Width">Width in pixels.</param>
    /// <param name="Height">Height in pixels.</param>
    private sealed record Wallpaper(string Path, int Width, int Height);

    /// <summary>One attacked copy on disk.</summary>
    /// <param name="Path">The JPEG file.</param>
    /// <param name="OriginalId">Database id of its original.</param>
    /// <param name="Attack">The attack.</param>
    private sealed record Query(string Path, int OriginalId, CopyAttack Attack);

    /// <summary>Runs the benchmark and prints Markdown tables.</summary>
    /// <param name="options">The options.</param>
    /// <param name="featurizers">The features to compare.</param>
    /// <param name="cache">The feature cache.</param>
    public static void Run(ImageBenchmarkOptions options, IReadOnlyList<IImageFeaturizer> featurizers, FeatureCache cache)
    {
        List<Wallpaper> wallpapers = LoadUniqueWallpapers(options);
        int sampleSize = options.Originals == 0 ? wallpapers.Count : Math.Min(options.Originals, wallpapers.Count);
        int[] sample = Enumerable.Range(0, wallpapers.Count).ToArray();
        new Random(options.Seed).Shuffle(sample);
        sample = sample.Take(sampleSize).Order().ToArray();

        List<Query> queries = MakeCopies(options, wallpapers, sample);
        string[] wallpaperPaths = wallpapers.Select(w => w.Path).ToArray();
        ClipartSet? clipart = options.Distractors ? CategoryBenchmark.ListClipart(options.ClipartFolder, options.KeepDuplicates) : null;
        string[] clipartPaths = clipart?.Paths ?? [];

        var results = new Dictionary<(string Method, bool WithDistractors), Dictionary<string, (double Map, double RecallAt1, int Count)>>();
        var timings = new List<string>();
        foreach (IImageFeaturizer featurizer in featurizers)
        {
            (FeatureMatrix wallpaperFeatures, bool wallpapersCached) = cache.GetOrCompute(featurizer, wallpaperPaths, "wallpapers");
            (FeatureMatrix queryFeatures, bool queriesCached) = cache.GetOrCompute(featurizer, queries.Select(q => q.Path).ToArray(), $"copies-seed{options.Seed}");
            timings.Add(TimingRow(featurizer.Name, "wallpapers (originals)", wallpaperFeatures, wallpapersCached));
            timings.Add(TimingRow(featurizer.Name, "attacked copies", queryFeatures, queriesCached));
            results[(featurizer.Name, false)] = Evaluate(queries, [wallpaperFeatures], queryFeatures, options.Threads);
            if (options.Distractors)
            {
                (FeatureMatrix clipartFeatures, bool clipartCached) = cache.GetOrCompute(featurizer, clipartPaths, clipart!.SetName);
                timings.Add(TimingRow(featurizer.Name, "clip-art distractors", clipartFeatures, clipartCached));
                results[(featurizer.Name, true)] = Evaluate(queries, [wallpaperFeatures, clipartFeatures], queryFeatures, options.Threads);
            }
        }

        Console.WriteLine();
        Console.WriteLine(
            $"### Near-duplicate retrieval (Copydays style): {sample.Length} originals x {CopyAttackGenerator.AllAttacks.Count} attacks = " +
            $"{queries.Count} queries, seed {options.Seed}");
        foreach (bool withDistractors in options.Distractors ? new[] { false, true } : [false])
        {
            int databaseSize = wallpapers.Count + (withDistractors ? clipartPaths.Length : 0);
            Console.WriteLine();
            Console.WriteLine(withDistractors
                ? $"Database: {wallpapers.Count} wallpapers + {clipartPaths.Length} openclipart distractors = {databaseSize} images."
                : $"Database: {wallpapers.Count} wallpapers only.");
            Console.WriteLine();
            PrintTable(featurizers.Select(f => f.Name).ToArray(), withDistractors, results);
        }

        Console.WriteLine();
        Console.WriteLine("Embedding throughput:");
        Console.WriteLine();
        Console.WriteLine("| features | images | images/s | seconds | load average (start -> end) |");
        Console.WriteLine("|---|---|---:|---:|---|");
        foreach (string row in timings)
        {
            Console.WriteLine(row);
        }
    }

    private static List<Wallpaper> LoadUniqueWallpapers(ImageBenchmarkOptions options)
    {
        string[] listed = File.ReadAllLines(options.WallpaperList!)
            .Select(line => line.Trim())
            .Where(line => line.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var accepted = new List<Wallpaper>();
        var thumbnails = new List<byte[]>();
        foreach (string path in listed)
        {
            using SKBitmap? image = CopyAttackGenerator.DecodeOpaque(path, out SKEncodedOrigin origin);
            if (image is null)
            {
                Console.Error.WriteLine($"wallpapers: skipped {path}: Skia cannot decode it");
                continue;
            }

            if (Math.Min(image.Width, image.Height) < options.MinSide)
            {
                Console.Error.WriteLine($"wallpapers: skipped {path}: {image.Width}x{image.Height} is below --min-side {options.MinSide}");
                continue;
            }

            double transparent = TransparentFraction(path);
            if (transparent > MaxTransparentFraction)
            {
                Console.Error.WriteLine($"wallpapers: skipped {path}: {transparent:P0} of its pixels are transparent or translucent");
                continue;
            }

            if (origin != SKEncodedOrigin.TopLeft)
            {
                // The copies are made from the stored pixel order, while an embedder may apply the orientation.
                Console.Error.WriteLine($"wallpapers: skipped {path}: EXIF orientation {origin} is not applied by the attack generator");
                continue;
            }

            using SKBitmap small = CopyAttackGenerator.BoxResize(image, RawPixelFeaturizer.Side, RawPixelFeaturizer.Side);
            byte[] thumbnail = small.Bytes;
            int same = thumbnails.FindIndex(other => MeanAbsoluteDifference(other, thumbnail) < SameImageMeanLevels);
            if (same >= 0)
            {
                Console.Error.WriteLine($"wallpapers: skipped {path}: same picture as {accepted[same].Path}");
                continue;
            }

            accepted.Add(new Wallpaper(path, image.Width, image.Height));
            thumbnails.Add(thumbnail);
        }

        Console.Error.WriteLine($"wallpapers: {accepted.Count} unique of {listed.Length} listed");
        if (accepted.Count == 0)
        {
            throw new InvalidDataException($"No usable wallpaper in '{options.WallpaperList}'. Run benchmarks/images/setup.sh.");
        }

        return accepted;
    }

    private static List<Query> MakeCopies(ImageBenchmarkOptions options, List<Wallpaper> wallpapers, int[] sample)
    {
        // The folder name carries the seed and a hash of the originals, so a finished folder is reused as is.
        string listHash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', sample.Select(i => wallpapers[i].Path)))))[..8];
        string folder = Path.Combine(options.CacheFolder, $"copydays-v1-seed{options.Seed}-{listHash.ToLowerInvariant()}");
        string manifest = Path.Combine(folder, "manifest.csv");
        var queries = new List<Query>();
        for (int s = 0; s < sample.Length; s++)
        {
            string stem = Path.GetFileNameWithoutExtension(wallpapers[sample[s]].Path);
            foreach (CopyAttack attack in CopyAttackGenerator.AllAttacks)
            {
                queries.Add(new Query(Path.Combine(folder, $"{s:D3}-{stem}-{attack}.jpg"), sample[s], attack));
            }
        }

        if (File.Exists(manifest))
        {
            Console.Error.WriteLine($"copies: reusing {queries.Count} copies in {folder}");
            return queries;
        }

        Directory.CreateDirectory(folder);
        var generator = new CopyAttackGenerator(options.Seed, options.FontPath);
        var lines = new List<string> { "path,original,attack,width,height,region_left,region_top,region_width,region_height,angle_degrees" };
        for (int s = 0; s < sample.Length; s++)
        {
            Wallpaper original = wallpapers[sample[s]];
            using SKBitmap pixels = CopyAttackGenerator.DecodeOpaque(original.Path, out _)
                ?? throw new InvalidDataException($"Skia could not decode '{original.Path}' again, although it decoded when the wallpapers were listed.");
            foreach (CopyAttack attack in CopyAttackGenerator.AllAttacks)
            {
                AttackedCopy copy = generator.Apply(pixels, s, attack);
                string path = queries[(s * CopyAttackGenerator.AllAttacks.Count) + (int)attack].Path;
                File.WriteAllBytes(path, copy.Encoded);
                lines.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{path},{original.Path},{attack},{copy.Width},{copy.Height},{copy.Region.Left},{copy.Region.Top},{copy.Region.Width},{copy.Region.Height},{copy.AngleDegrees:F3}"));
            }

            Console.Error.WriteLine($"copies: {s + 1}/{sample.Length} originals done");
        }

        File.WriteAllLines(manifest, lines);
        return queries;
    }

    private static Dictionary<string, (double Map, double RecallAt1, int Count)> Evaluate(
        List<Query> queries, IReadOnlyList<FeatureMatrix> database, FeatureMatrix queryFeatures, int threads)
    {
        // The whole database is ranked, so average precision is exact: with one relevant item it is 1 / its rank.
        (long[] found, int k) = ExactRetrieval.Search(database, queryFeatures, 0, threads);
        var judged = new List<(CopyAttack Attack, JudgedRanking Ranking)>();
        var relevant = new bool[k];
        for (int q = 0; q < queries.Count; q++)
        {
            ReadOnlySpan<long> ids = found.AsSpan(q * k, k);
            for (int i = 0; i < k; i++)
            {
                relevant[i] = ids[i] == queries[q].OriginalId;
            }

            // A query that failed to decode has only padding, so it counts as a miss rather than disappearing.
            judged.Add((queries[q].Attack, new JudgedRanking(q, relevant, relevantCount: 1)));
        }

        var options = new RankingEvaluatorOptions { RecallCutoffs = [1], PrecisionCutoffs = [] };
        var byGroup = new Dictionary<string, (double, double, int)>();
        foreach (CopyAttack attack in CopyAttackGenerator.AllAttacks)
        {
            byGroup[attack.ToString()] = Summarize(RankingEvaluator.Evaluate(judged.Where(j => j.Attack == attack).Select(j => j.Ranking), options));
        }

        byGroup["all"] = Summarize(RankingEvaluator.Evaluate(judged.Select(j => j.Ranking), options));
        return byGroup;
    }

    private static (double, double, int) Summarize(RankingReport report) =>
        (report.MeanAveragePrecision ?? double.NaN, report.MeanRecall[0].Mean ?? double.NaN, report.EvaluatedQueryCount);

    private static void PrintTable(
        string[] methods,
        bool withDistractors,
        Dictionary<(string Method, bool WithDistractors), Dictionary<string, (double Map, double RecallAt1, int Count)>> results)
    {
        var header = new StringBuilder("| attack | queries |");
        var rule = new StringBuilder("|---|---:|");
        foreach (string method in methods)
        {
            header.Append(CultureInfo.InvariantCulture, $" {method} mAP | {method} Recall@1 |");
            rule.Append("---:|---:|");
        }

        Console.WriteLine(header);
        Console.WriteLine(rule);
        string[] groups = [.. CopyAttackGenerator.AllAttacks.Select(a => a.ToString()), "all"];
        foreach (string group in groups)
        {
            int count = results[(methods[0], withDistractors)][group].Count;
            var row = new StringBuilder(group == "all" ? $"| **all** | {count} |" : $"| {group} | {count} |");
            foreach (string method in methods)
            {
                var value = results[(method, withDistractors)][group];
                row.Append(CultureInfo.InvariantCulture, $" {value.Map:F4} | {value.RecallAt1:F4} |");
            }

            Console.WriteLine(row);
        }
    }

    private static string TimingRow(string method, string set, FeatureMatrix features, bool fromCache)
    {
        string cached = fromCache ? $" (cached, {features.ComputedAtUtc:yyyy-MM-dd HH:mm}Z)" : string.Empty;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {method} | {set}: {features.Count} | {features.ImagesPerSecond:F1} | {features.Seconds:F1}{cached} | {features.LoadAverage} |");
    }

    // Compares two RGBA thumbnails of the same size on their colour bytes; alpha is 255 in both.
    private static double MeanAbsoluteDifference(byte[] x, byte[] y)
    {
        long sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += Math.Abs(x[i] - y[i]);
        }

        return sum / (x.Length * 0.75);
    }

    private static double TransparentFraction(string path)
    {
        using var codec = SKCodec.Create(path);
        if (codec is null || codec.Info.AlphaType == SKAlphaType.Opaque)
        {
            return 0;
        }

        SKImageInfo info = codec.Info.WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Unpremul);
        using SKBitmap? decoded = SKBitmap.Decode(codec, info);
        if (decoded is null)
        {
            return 0;
        }

        ReadOnlySpan<byte> pixels = decoded.GetPixelSpan();
        long translucent = 0;
        for (int i = 3; i < pixels.Length; i += 4)
        {
            translucent += pixels[i] < 255 ? 1 : 0;
        }

        return (double)translucent / ((long)decoded.Width * decoded.Height);
    }
}
