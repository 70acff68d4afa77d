using MLNetRetrieval.Reports;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.IO;
using MLNetRetrieval.Quantization;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>bench</c>: builds indexes of the chosen types over a base file, sweeps nprobe (IVF) or efSearch (HNSW) and prints recall
/// against exact ground truth with throughput, build time and size per vector.
/// </summary>
/// <remarks>
/// The indexes are built with the algorithm layer directly (no ML.NET pipeline), so the times are
/// those of training, adding and searching alone.
/// </remarks>
internal static class BenchCommand
{
    private const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    public static Command Create(CliContext context)
    {
        string defaultBase = Path.Combine(FashionMnistFolder, "train-images-idx3-ubyte.gz");
        string defaultQueries = Path.Combine(FashionMnistFolder, "t10k-images-idx3-ubyte.gz");
        var basePath = new Option<string>("--base")
        {
            Description = $"Vector file to index (any format the index command reads). The default is Fashion-MNIST's training split from Debian's dataset-fashion-mnist package.",
            HelpName = "FILE",
            DefaultValueFactory = _ => defaultBase,
        };
        var queriesPath = new Option<string>("--queries")
        {
            Description = "Vector file with the queries. The default is Fashion-MNIST's test split.",
            HelpName = "FILE",
            DefaultValueFactory = _ => defaultQueries,
        };
        var maxQueries = new Option<int>("--max-queries")
        {
            Description = "Uses only the first N queries, so the one-query-at-a-time pass stays short; 0 uses every query.",
            HelpName = "N",
            DefaultValueFactory = _ => 1000,
            CustomParser = result => CliCommands.ParseInteger(result, 0, int.MaxValue, "--max-queries must be an integer, 0 (every query) or positive"),
        };
        var types = new Option<string[]>("--types")
        {
            Description = "Index types to build, comma-separated, from: exact, pq, ivf-flat, ivf-pq, hnsw, ivf-hnsw-pq.",
            HelpName = "TYPE,TYPE,...",
            DefaultValueFactory = _ => ["pq", "ivf-flat", "ivf-pq"],
            CustomParser = result =>
            {
                string[] names = string.Join(',', result.Tokens.Select(token => token.Value)).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                foreach (string name in names.Where(n => !IndexTypeOptions.IndexTypeNames.Contains(n)))
                    result.AddError($"--types: '{name}' is not an index type; use {string.Join(", ", IndexTypeOptions.IndexTypeNames)}.");
                return names.Distinct().ToArray();
            },
        };
        Option<int[]> probes = CliCommands.CreateCutoffsOption("--probes", "Values of nprobe (lists scanned per query) to sweep for ivf-flat, ivf-pq and ivf-hnsw-pq, comma-separated; values above --lists are skipped.", [1, 2, 4, 8, 16, 32, 64]);
        Option<int[]> efValues = CliCommands.CreateCutoffsOption("--ef", "Values of efSearch (candidates kept per query; a query uses max(ef, k)) to sweep for hnsw, comma-separated. For ivf-hnsw-pq, the efSearch of the centroid graph (a probe uses max(ef, nprobe)), swept against every --probes value.", [16, 32, 64, 128, 256]);
        var hnsw = new HnswTypeOptions();
        Option<int?> k = CliCommands.CreateKOption("Neighbors per query k; recall@k is measured against exact top-k. Default: 10.");
        var compression = new IndexTypeOptions();
        Option<int> threads = CliContext.CreateThreadsOption("training, adding and searching");
        threads.DefaultValueFactory = _ => 1;
        threads.Description = "Worker threads for training, adding and searching; 0 uses every core. The default of 1 gives queries per second on one core.";
        var repeat = new Option<int>("--repeat")
        {
            Description = "Timed passes per setting (batch search, one-query loop, or k-means run); the fastest pass is reported.",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
            CustomParser = result => CliCommands.ParseInteger(result, 1, 100, "--repeat must be an integer from 1 to 100"),
        };
        var synthetic = new Option<int>("--synthetic")
        {
            Description = "Replaces --base and --queries with N seeded clustered base vectors and 10000 queries, generated like the FAISS peer's scale run (1000 centres uniform in [0, 1), Gaussian noise 0.1); 0 reads the files.",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
            CustomParser = result => CliCommands.ParseInteger(result, 0, 10_000_000, "--synthetic must be an integer from 0 (off) to 10000000"),
        };
        var dimension = new Option<int>("--dimension")
        {
            Description = "Dimension of the --synthetic vectors, an even number. Default: 128.",
            HelpName = "D",
            DefaultValueFactory = _ => 128,
            CustomParser = result => CliCommands.ParseInteger(result, 2, 65536, "--dimension must be an even integer from 2 to 65536"),
        };
        var kmeans = new Option<bool>("--kmeans")
        {
            Description = "Times k-means on the base vectors instead of building indexes: random initial centroids as FAISS picks them, --clusters, --iterations, --seed, --threads, --repeat.",
        };
        var clusters = new Option<int>("--clusters")
        {
            Description = "Clusters k of --kmeans. Default: 1024.",
            HelpName = "K",
            DefaultValueFactory = _ => 1024,
            CustomParser = result => CliCommands.ParseInteger(result, 1, 1 << 20, "--clusters must be an integer from 1 to 1048576"),
        };
        var iterations = new Option<int>("--iterations")
        {
            Description = "Lloyd iterations of --kmeans (default 20, as the FAISS peer runs). When given, also the iterations of the coarse and PQ k-means of pq, ivf-flat, ivf-pq and ivf-hnsw-pq, which otherwise run 25.",
            HelpName = "N",
            DefaultValueFactory = _ => 20,
            CustomParser = result => CliCommands.ParseInteger(result, 0, 10000, "--iterations must be an integer from 0 to 10000"),
        };

        var initialization = new Option<string>("--init")
        {
            Description = "Seeding of the coarse and PQ k-means of pq, ivf-flat, ivf-pq and ivf-hnsw-pq: 'kmeans++' (the default) or 'random' (k distinct training vectors, as FAISS seeds). k-means++ seeding runs k sequential passes over the sample, which dominates training at nlist in the tens of thousands.",
            HelpName = "METHOD",
            DefaultValueFactory = _ => "kmeans++",
        };
        initialization.AcceptOnlyFromAmong("kmeans++", "random");
        var coarseEf = new Option<int>("--coarse-ef")
        {
            Description = $"ivf-hnsw-pq only: efSearch of the centroid graph while training and adding, which decides how many vectors land in their true nearest list. Default: {IvfPqIndex.DefaultCoarseEfSearch}.",
            HelpName = "N",
            DefaultValueFactory = _ => IvfPqIndex.DefaultCoarseEfSearch,
            CustomParser = result => CliCommands.ParseInteger(result, 1, int.MaxValue, "--coarse-ef must be an integer of at least 1"),
        };
        var coarseCheck = new Option<int>("--coarse-check")
        {
            Description = "ivf-hnsw-pq only: assigns the first N base vectors to lists both through the centroid graph (at the build efSearch and at each --ef) and by comparing with every centroid, reporting times and the fraction assigned to the true nearest centroid; then also measures the --probes sweep with exact probing. 0 skips the check.",
            HelpName = "N",
            DefaultValueFactory = _ => 0,
            CustomParser = result => CliCommands.ParseInteger(result, 0, int.MaxValue, "--coarse-check must be an integer, 0 (off) or positive"),
        };

        var report = new Option<string?>("--report")
        {
            Description = "Also writes a recall–throughput plot (recall_qps.png: batch queries per second against recall@k, one curve per index type) and an HTML page with the table into DIR. The folder is created when missing.",
            HelpName = "DIR",
        };

        var command = new Command("bench", "Build PQ, IVF and HNSW indexes over a base file and sweep nprobe or efSearch: recall@k against exact search, batch and one-query-at-a-time queries per second, build seconds and bytes per vector.");
        command.Add(basePath);
        command.Add(queriesPath);
        command.Add(maxQueries);
        command.Add(types);
        command.Add(probes);
        command.Add(efValues);
        command.Add(hnsw.Connectivity);
        command.Add(hnsw.EfConstruction);
        command.Add(k);
        compression.AddTo(command, includeProbes: false);
        command.Add(threads);
        command.Add(repeat);
        command.Add(synthetic);
        command.Add(dimension);
        command.Add(kmeans);
        command.Add(clusters);
        command.Add(iterations);
        command.Add(initialization);
        command.Add(coarseEf);
        command.Add(coarseCheck);
        command.Add(report);
        command.SetAction(parse => Run(context, new BenchSettings(
            parse.GetValue(basePath)!, parse.GetValue(queriesPath)!, parse.GetValue(maxQueries),
            parse.GetValue(types)!.Select(IndexTypeOptions.ParseType).ToArray(), parse.GetValue(probes)!,
            parse.GetValue(k) ?? 10, compression.Read(parse), parse.GetValue(threads), parse.GetValue(context.Json),
            parse.GetValue(repeat), parse.GetValue(synthetic), parse.GetValue(dimension),
            parse.GetValue(kmeans), parse.GetValue(clusters), parse.GetValue(iterations), parse.GetValue(report),
            parse.GetValue(efValues)!, new HnswSettings(parse.GetValue(hnsw.Connectivity), parse.GetValue(hnsw.EfConstruction), parse.GetValue(coarseEf)),
            parse.GetResult(iterations) is null or { Implicit: true } ? null : parse.GetValue(iterations), parse.GetValue(coarseCheck),
            parse.GetValue(initialization) == "random" ? KMeansInitialization.Random : KMeansInitialization.KMeansPlusPlus)));
        return command;
    }

    private sealed record BenchSettings(string BasePath, string QueriesPath, int MaxQueries, IndexType[] Types, int[] Probes,
        int K, CompressionSettings Compression, int Threads, bool Json, int Repeat, int Synthetic, int Dimension,
        bool KMeans, int Clusters, int Iterations, string? ReportDirectory, int[] EfValues, HnswSettings Hnsw,
        int? TrainingIterations, int CoarseCheck, KMeansInitialization Initialization);

    /// <summary>What <c>--coarse-check</c> measured on one ivf-hnsw-pq index, with its saved size by component.</summary>
    private sealed record CoarseReport(string Type, int Lists, double TrainSeconds, double AddSeconds, List<BenchCoarse.AssignmentRow> Assignment, BenchCoarse.SizeBreakdown Sizes);

    /// <summary>Writes the recall–throughput plot (batch QPS against recall@k, one curve per index type) and an HTML page with the table.</summary>
    private static string WriteReport(string directory, BenchSettings settings, VectorSet baseSet, int nq, List<BenchRow> rows)
    {
        Directory.CreateDirectory(directory);
        var points = rows.Select(row => new RecallQpsPoint(
                row.Rerank > 0 ? $"{row.Type} + rerank {row.Rerank}" : row.Type,
                row.Recall, row.BatchQps,
                row.Probes is { } probes ? $"nprobe {probes}" : row.Ef is { } ef ? $"ef {ef}" : null))
            .ToList();
        const string plotName = "recall_qps.png";
        ReportPlots.SaveRecallQps(Path.Combine(directory, plotName), points,
            $"Recall–throughput: {Path.GetFileName(settings.BasePath)}, {nq} queries, k = {settings.K}", $"Recall@{settings.K}");

        var page = new HtmlReport("Index benchmark")
            .AddParagraph($"Base {baseSet.Count} × {baseSet.Dimension} from {settings.BasePath}; {nq} queries; k = {settings.K}; {settings.Threads} thread(s). Recall is against exact search.")
            .AddImage(plotName, "Batch queries per second against recall; each point is one nprobe or efSearch value.")
            .AddTable("Measurements", ["type", "nprobe", "ef", "rerank", $"recall@{settings.K}", "batch QPS", "single QPS", "build s", "bytes/vector"],
                rows.Select(row => (IReadOnlyList<string>)
                [
                    row.Type, row.Probes?.ToString(CultureInfo.InvariantCulture) ?? "-", row.Ef?.ToString(CultureInfo.InvariantCulture) ?? "-", row.Rerank.ToString(CultureInfo.InvariantCulture),
                    row.Recall.ToString("F4", CultureInfo.InvariantCulture), row.BatchQps.ToString("F0", CultureInfo.InvariantCulture),
                    row.SingleQps.ToString("F0", CultureInfo.InvariantCulture), row.BuildSeconds.ToString("F2", CultureInfo.InvariantCulture),
                    row.BytesPerVector.ToString("F1", CultureInfo.InvariantCulture),
                ]));
        string pagePath = Path.Combine(directory, "index.html");
        File.WriteAllText(pagePath, page.ToHtml());
        return pagePath;
    }

    /// <summary>
    /// One measured configuration. Probes is null for index types without inverted lists, and Ef (efSearch)
    /// is null for types other than hnsw. Rerank is the
    /// number of candidates re-ranked by exact distance (0 for none). RecallAt has recall@r for the
    /// cutoffs 1, 10 and 100 that do not exceed k, keyed by r.
    /// </summary>
    internal sealed record BenchRow(string Type, int? Probes, int Rerank, double Recall, IReadOnlyDictionary<string, double> RecallAt,
        double BatchQps, double SingleQps, double BuildSeconds, double BytesPerVector, int? Ef = null);

    private static int Run(CliContext context, BenchSettings settings)
    {
        CliConsole console = context.Console;
        CancellationToken token = context.CancellationToken;
        if (settings.Compression.Rerank > 0 && settings.Compression.Rerank < settings.K)
            throw new UsageException($"--rerank {settings.Compression.Rerank} must be 0 or at least --k {settings.K}.");

        var (baseSet, querySet) = LoadVectors(console, settings);
        if (settings.KMeans)
            return BenchKMeans.Run(context, baseSet, settings.Clusters, settings.Iterations, settings.Compression.Seed ?? 1234, settings.Threads, settings.Repeat, settings.Json);

        if (querySet.Dimension != baseSet.Dimension)
            throw new InvalidDataException($"{settings.QueriesPath}: the queries have dimension {querySet.Dimension}, but {settings.BasePath} has dimension {baseSet.Dimension}. Pass files of the same dimension.");
        int nq = settings.MaxQueries == 0 ? querySet.Count : Math.Min(settings.MaxQueries, querySet.Count);
        int d = baseSet.Dimension;
        float[] queries = querySet.Values.AsSpan(0, checked(nq * d)).ToArray();
        console.Info($"Base {baseSet.Count} × {d}, {nq} queries, k = {settings.K}, {settings.Threads} thread(s).");

        long[] truth = GroundTruth(baseSet, queries, nq, settings.K, settings.Threads, token);
        var rows = new List<BenchRow>();
        var coarseReports = new List<CoarseReport>();
        foreach (IndexType type in settings.Types)
        {
            token.ThrowIfCancellationRequested();
            console.Info($"Building {IndexTypeOptions.TypeName(type)}...");
            var clock = Stopwatch.StartNew();
            BenchIndex index = BenchIndex.Build(type, baseSet, settings.Compression, settings.Hnsw, settings.Threads, settings.TrainingIterations, settings.Initialization, token);
            double buildSeconds = clock.Elapsed.TotalSeconds;
            long serializedBytes = index.SerializedBytes();
            double bytesPerVector = (double)serializedBytes / baseSet.Count;
            console.Info($"Built {IndexTypeOptions.TypeName(type)} in {buildSeconds:F1} s, {bytesPerVector:F1} bytes per vector.");

            int[] sweep = index.HasProbes ? settings.Probes.Where(p => p <= settings.Compression.Lists).Distinct().ToArray()
                : index.HasEf ? settings.EfValues.Distinct().ToArray()
                : [0];
            if (sweep.Length == 0)
                throw new UsageException($"Every --probes value ({string.Join(",", settings.Probes)}) exceeds --lists {settings.Compression.Lists}, so {IndexTypeOptions.TypeName(type)} has nothing to measure. Pass values from 1 to {settings.Compression.Lists}.");

            // An ivf-pq index that stores vectors for re-ranking is measured without re-ranking as well.
            int[] reranks = index.Rerank > 0 ? [0, index.Rerank] : [0];
            string typeName = IndexTypeOptions.TypeName(type);
            if (index.HasCoarseEf)
            {
                // The graph's efSearch is swept against nprobe; the build's value is restored for the check below.
                IvfPqIndex ivf = index.IvfPq!;
                int buildEf = ivf.CoarseEfSearch;
                foreach (int rerank in reranks)
                {
                    foreach (int ef in settings.EfValues.Distinct())
                    {
                        ivf.CoarseEfSearch = ef;
                        MeasureSweep(index, typeName, sweep, rerank, ef, buildSeconds, bytesPerVector);
                    }
                }

                ivf.CoarseEfSearch = buildEf;
                if (settings.CoarseCheck > 0)
                {
                    console.Info($"Checking coarse assignment of {Math.Min(settings.CoarseCheck, baseSet.Count)} base vectors against brute force...");
                    List<BenchCoarse.AssignmentRow> assignment = BenchCoarse.Check(ivf, baseSet, settings.CoarseCheck, settings.EfValues, token);
                    coarseReports.Add(new CoarseReport(typeName, ivf.NumberOfLists, index.TrainSeconds, index.AddSeconds, assignment, BenchCoarse.Sizes(ivf, serializedBytes)));

                    // Exact probing on the same lists shows what the graph costs in recall at query time. Switching
                    // drops the graph, so this runs last.
                    ivf.CoarseSearch = CoarseSearch.Exact;
                    foreach (int rerank in reranks)
                        MeasureSweep(index, $"{typeName} (exact probing)", sweep, rerank, null, buildSeconds, bytesPerVector);
                }

                continue;
            }

            foreach (int rerank in reranks)
                MeasureSweep(index, typeName, sweep, rerank, null, buildSeconds, bytesPerVector);
        }

        // Measures one row per sweep value: nprobe (IVF types, with the coarse efSearch already set for ivf-hnsw-pq) or efSearch (hnsw).
        void MeasureSweep(BenchIndex index, string typeName, int[] sweep, int rerank, int? coarseEf, double buildSeconds, double bytesPerVector)
        {
            foreach (int value in sweep)
            {
                var (found, batchQps, singleQps) = Measure(index, queries, nq, d, settings.K, value, rerank, settings.Threads, settings.Repeat, token);
                int? ef = index.HasEf ? value : coarseEf;
                rows.Add(new BenchRow(typeName, index.HasProbes ? value : null, rerank, Recall(found, truth, nq, settings.K),
                    RecallAtCutoffs(found, truth, nq, settings.K), batchQps, singleQps, buildSeconds, bytesPerVector, ef));
            }
        }

        Print(console, settings, baseSet, nq, rows, coarseReports);
        if (settings.ReportDirectory is { } directory)
            console.Info($"Report: {WriteReport(directory, settings, baseSet, nq, rows)}");
        return ExitCodes.Success;
    }

    private static (VectorSet Base, VectorSet Queries) LoadVectors(CliConsole console, BenchSettings settings)
    {
        if (settings.Synthetic == 0)
            return (VectorFile.Read(settings.BasePath), VectorFile.Read(settings.QueriesPath));

        var clock = Stopwatch.StartNew();
        var generated = BenchSynthetic.Generate(settings.Synthetic, BenchSynthetic.QueryCount, settings.Dimension);
        console.Info($"Generated {settings.Synthetic} synthetic base vectors and {BenchSynthetic.QueryCount} queries of dimension {settings.Dimension} in {clock.Elapsed.TotalSeconds:F1} s.");
        return generated;
    }

    private static long[] GroundTruth(VectorSet baseSet, float[] queries, int nq, int k, int threads, CancellationToken token)
    {
        var exact = new ExactIndex(baseSet.Dimension, DistanceMetric.SquaredEuclidean);
        exact.Add(baseSet.Values);
        var ids = new long[checked(nq * k)];
        exact.Search(queries, k, ids, new float[ids.Length], new SearchParameters { Threads = threads, CancellationToken = token });
        return ids;
    }

    /// <summary>Searches every query in one batch and one at a time, each <paramref name="repeat"/> times, and keeps the fastest pass of each.</summary>
    private static (long[] Found, double BatchQps, double SingleQps) Measure(BenchIndex index, float[] queries, int nq, int d,
        int k, int sweepValue, int rerank, int threads, int repeat, CancellationToken token)
    {
        var ids = new long[checked(nq * k)];
        var distances = new float[ids.Length];

        // Warm up: the first search JIT-compiles the kernels and builds derived tables and packed lists.
        int warmup = Math.Min(nq, 16);
        index.Search(queries.AsSpan(0, warmup * d), k, ids.AsSpan(0, warmup * k), distances.AsSpan(0, warmup * k), sweepValue, rerank, threads, token);

        double batchSeconds = double.PositiveInfinity;
        double singleSeconds = double.PositiveInfinity;
        var oneIds = new long[k];
        var oneDistances = new float[k];
        for (int r = 0; r < repeat; r++)
        {
            var clock = Stopwatch.StartNew();
            index.Search(queries, k, ids, distances, sweepValue, rerank, threads, token);
            batchSeconds = Math.Min(batchSeconds, clock.Elapsed.TotalSeconds);

            clock.Restart();
            for (int q = 0; q < nq; q++)
            {
                token.ThrowIfCancellationRequested();
                index.Search(queries.AsSpan(q * d, d), k, oneIds, oneDistances, sweepValue, rerank, threads, token);
            }

            singleSeconds = Math.Min(singleSeconds, clock.Elapsed.TotalSeconds);
        }

        return (ids, nq / batchSeconds, nq / singleSeconds);
    }

    /// <summary>Recall@r for r in {1, 10, 100} up to k, computed like the FAISS peer: |found top r ∩ exact top r| / r, averaged over queries.</summary>
    internal static Dictionary<string, double> RecallAtCutoffs(long[] found, long[] truth, int nq, int k)
    {
        var recalls = new Dictionary<string, double>();
        foreach (int r in new[] { 1, 10, 100 }.Where(r => r <= k))
            recalls[r.ToString(CultureInfo.InvariantCulture)] = RecallAt(found, truth, nq, k, r);
        return recalls;
    }

    /// <summary>Recall@k: the fraction of the exact top-k ids found in the approximate top-k, averaged over queries.</summary>
    internal static double Recall(long[] found, long[] truth, int nq, int k) => RecallAt(found, truth, nq, k, k);

    /// <summary>
    /// Recall@r over rows of k ids: |approximate top-r ∩ exact top-r| / |exact top-r|, pooled over queries.
    /// Padding (−1) never counts: when the collection has fewer than r items, the exact list is shorter
    /// and the denominator shrinks with it.
    /// </summary>
    private static double RecallAt(long[] found, long[] truth, int nq, int k, int r)
    {
        long hits = 0;
        long expectedCount = 0;
        var expected = new HashSet<long>();
        for (int q = 0; q < nq; q++)
        {
            expected.Clear();
            for (int i = 0; i < r; i++)
            {
                long id = truth[(q * k) + i];
                if (id >= 0)
                    expected.Add(id);
            }

            expectedCount += expected.Count;
            for (int i = 0; i < r; i++)
            {
                long id = found[(q * k) + i];
                if (id >= 0 && expected.Contains(id))
                    hits++;
            }
        }

        return expectedCount == 0 ? 1.0 : (double)hits / expectedCount;
    }

    private static void Print(CliConsole console, BenchSettings settings, VectorSet baseSet, int nq, List<BenchRow> rows, List<CoarseReport> coarseReports)
    {
        if (settings.Json)
        {
            console.WriteJson(new
            {
                command = "bench",
                basePath = settings.BasePath,
                queries = settings.QueriesPath,
                baseCount = baseSet.Count,
                queryCount = nq,
                dimension = baseSet.Dimension,
                k = settings.K,
                threads = settings.Threads,
                connectivity = settings.Hnsw.Connectivity,
                efConstruction = settings.Hnsw.EfConstruction,
                lists = settings.Compression.Lists,
                subquantizers = settings.Compression.Subquantizers,
                bits = settings.Compression.Bits,
                rerank = settings.Compression.Rerank,
                repeat = settings.Repeat,
                synthetic = settings.Synthetic,
                trainingIterations = settings.TrainingIterations,
                initialization = settings.Initialization,
                coarseEf = settings.Hnsw.EfSearch,
                trainSample = settings.Compression.TrainSample,
                peakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64,
                rows,
                coarseChecks = coarseReports,
            });
            return;
        }

        string recallHeader = $"recall@{settings.K}";
        // The ef column appears only with hnsw rows, so the IVF tables keep their width on narrow terminals.
        bool showEf = rows.Any(row => row.Ef is not null);
        var table = CliConsole.CreateTable().AddColumn("type").AddColumn("nprobe");
        if (showEf)
            table.AddColumn("ef");
        table.AddColumn(recallHeader).AddColumn("batch q/s").AddColumn("single q/s").AddColumn("build s").AddColumn("B/vector");
        foreach (BenchRow row in rows)
        {
            // The type column names the re-ranking depth, so narrow terminals need no extra column.
            var cells = new List<string>
            {
                row.Rerank > 0 ? $"{row.Type} +rerank {row.Rerank}" : row.Type,
                row.Probes?.ToString(CultureInfo.InvariantCulture) ?? "-",
            };
            if (showEf)
                cells.Add(row.Ef?.ToString(CultureInfo.InvariantCulture) ?? "-");
            cells.AddRange(
            [
                row.Recall.ToString("F4", CultureInfo.InvariantCulture),
                row.BatchQps.ToString("F0", CultureInfo.InvariantCulture),
                row.SingleQps.ToString("F0", CultureInfo.InvariantCulture),
                row.BuildSeconds.ToString("F2", CultureInfo.InvariantCulture),
                row.BytesPerVector.ToString("F1", CultureInfo.InvariantCulture),
            ]);
            table.AddRow(cells.ToArray());
        }

        console.Write(table);
        foreach (CoarseReport coarse in coarseReports)
        {
            console.Info($"{coarse.Type}, nlist {coarse.Lists}: train {coarse.TrainSeconds:F1} s, add {coarse.AddSeconds:F1} s. Coarse assignment on every core (database seconds are scaled from the checked rows):");
            var check = CliConsole.CreateTable().AddColumn("method").AddColumn("ef").AddColumn("rows").AddColumn("µs/vector").AddColumn("database s").AddColumn("true nearest");
            foreach (BenchCoarse.AssignmentRow row in coarse.Assignment)
            {
                check.AddRow(row.Method, row.Ef?.ToString(CultureInfo.InvariantCulture) ?? "-", row.Rows.ToString(CultureInfo.InvariantCulture),
                    row.MicrosecondsPerVector.ToString("F1", CultureInfo.InvariantCulture), row.DatabaseSeconds.ToString("F1", CultureInfo.InvariantCulture),
                    row.Agreement.ToString("F4", CultureInfo.InvariantCulture));
            }

            console.Write(check);
            BenchCoarse.SizeBreakdown sizes = coarse.Sizes;
            console.Info($"Saved bytes: codes {sizes.Codes}, ids {sizes.Ids}, centroids {sizes.Centroids}, codebooks {sizes.Codebooks}, graph and headers {sizes.GraphAndHeaders}, total {sizes.Total}.");
        }

        console.Info($"Peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB.");
    }
}
