using System.CommandLine;
using Microsoft.ML;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>Index kinds the index and bench commands build.</summary>
internal enum IndexType
{
    Exact,
    Pq,
    IvfFlat,
    IvfPq,
    Hnsw,
    IvfHnswPq,
}

/// <summary>Settings of the compressed index types, parsed from the command line.</summary>
internal sealed record CompressionSettings(int Lists, int Probes, int Subquantizers, int Bits, int Rerank, int TrainSample, int? Seed);

/// <summary>
/// The --type option and the options of the compressed index types (--lists, --probes,
/// --subquantizers, --bits, --rerank, --train-sample, --seed), shared by the index and bench commands.
/// </summary>
internal sealed class IndexTypeOptions
{
    /// <summary>Types that bench builds and sweeps.</summary>
    public static readonly string[] TypeNames = ["exact", "pq", "ivf-flat", "ivf-pq"];

    /// <summary>Types that index builds: those of bench plus hnsw and ivf-hnsw-pq, in <see cref="IndexType"/> order.</summary>
    public static readonly string[] IndexTypeNames = [.. TypeNames, "hnsw", "ivf-hnsw-pq"];

    public IndexTypeOptions()
    {
        Lists = PositiveOption("--lists", $"Inverted lists nlist of ivf-flat and ivf-pq: k-means cells; the collection needs at least this many rows.", IvfIndexOptions.Defaults.NumberOfLists);
        Probes = PositiveOption("--probes", $"Lists scanned per query nprobe of ivf-flat and ivf-pq, in [1, --lists]; stored in the model as its default.", IvfIndexOptions.Defaults.NumberOfProbes);
        Subquantizers = PositiveOption("--subquantizers", $"PQ subquantizers M of pq and ivf-pq: bytes per stored vector; must divide the dimension.", PqIndexingEstimator.Options.Defaults.NumberOfSubquantizers);
        Bits = PositiveOption("--bits", "Bits per PQ sub-code nbits (ksub = 2^nbits centroids per subquantizer); only 8 is supported.", PqIndexingEstimator.Options.Defaults.BitsPerSubquantizer);
        Rerank = NonNegativeOption("--rerank", "ivf-pq only: candidates per query re-ranked by exact distance; 0 turns re-ranking off, otherwise at least k. A positive value also stores the raw vectors (4 bytes per component).", 0);
        TrainSample = NonNegativeOption("--train-sample", $"Rows drawn at random to train k-means (pq, ivf-flat, ivf-pq); 0 trains on every row. Every row is indexed either way.", TrainedIndexOptions.Defaults.TrainingSampleSize);
        Seed = new Option<int?>("--seed")
        {
            Description = "Seed of the training sample and of k-means, and of the HNSW node levels; the same seed and input give the same index (for hnsw only with --threads 1). Default: 1.",
            HelpName = "N",
        };
    }

    public Option<int> Lists { get; }

    public Option<int> Probes { get; }

    public Option<int> Subquantizers { get; }

    public Option<int> Bits { get; }

    public Option<int> Rerank { get; }

    public Option<int> TrainSample { get; }

    public Option<int?> Seed { get; }

    public static Option<string> CreateTypeOption() => CliCommands.CreateChoice("--type",
        "Index type: 'exact' brute force over raw vectors; 'pq' exhaustive scan of product-quantization codes (M bytes per vector); 'ivf-flat' inverted lists of raw vectors, --probes of --lists scanned per query; 'ivf-pq' inverted lists of PQ codes; 'hnsw' graph of raw vectors, searched with a beam of --ef candidates; 'ivf-hnsw-pq' ivf-pq whose --lists coarse centroids are found through an HNSW graph (--connectivity, --ef), for large --lists. pq, ivf-flat, ivf-pq and ivf-hnsw-pq use squared Euclidean distance only; exact and hnsw take every metric.",
        "exact", IndexTypeNames);

    public static IndexType ParseType(string name) => name switch
    {
        "pq" => IndexType.Pq,
        "ivf-flat" => IndexType.IvfFlat,
        "ivf-pq" => IndexType.IvfPq,
        "hnsw" => IndexType.Hnsw,
        "ivf-hnsw-pq" => IndexType.IvfHnswPq,
        _ => IndexType.Exact,
    };

    public static string TypeName(IndexType type) => IndexTypeNames[(int)type];

    /// <summary>Adds the options to <paramref name="command"/>; bench sweeps nprobe with its own --probes list, so it leaves this one out.</summary>
    public void AddTo(Command command, bool includeProbes = true)
    {
        command.Add(Lists);
        if (includeProbes)
            command.Add(Probes);
        command.Add(Subquantizers);
        command.Add(Bits);
        command.Add(Rerank);
        command.Add(TrainSample);
        command.Add(Seed);
    }

    /// <summary>
    /// Reads the settings. Defaults that do not fit the given --lists follow it: nprobe is capped at
    /// nlist, and the training sample grows to every row when nlist exceeds its default size.
    /// </summary>
    public CompressionSettings Read(ParseResult parse)
    {
        int lists = parse.GetValue(Lists);
        int probes = parse.GetResult(Probes) is null or { Implicit: true } ? Math.Min(IvfIndexOptions.Defaults.NumberOfProbes, lists) : parse.GetValue(Probes);
        int trainSample = parse.GetResult(TrainSample) is null or { Implicit: true } && lists > TrainedIndexOptions.Defaults.TrainingSampleSize
            ? 0
            : parse.GetValue(TrainSample);
        return new(lists, probes, parse.GetValue(Subquantizers), parse.GetValue(Bits), parse.GetValue(Rerank), trainSample, parse.GetValue(Seed));
    }

    /// <summary>Creates the estimator of <paramref name="type"/>, filling <paramref name="columns"/> with the compression settings.</summary>
    /// <exception cref="UsageException">A setting does not fit the type (for example a metric other than l2 for a compressed type).</exception>
    public static IEstimator<NeighborSearchingTransformer> CreateEstimator(MLContext context, IndexType type, NeighborSearchOptions columns,
        Indexes.DistanceMetric metric, CompressionSettings settings, HnswSettings? hnsw = null)
    {
        if (type is not (IndexType.Exact or IndexType.Hnsw) && metric != Indexes.DistanceMetric.SquaredEuclidean)
            throw new UsageException($"--type {TypeName(type)} supports only --metric l2. For cosine similarity, pass --normalize with --metric l2: on unit vectors the ranking is the same.");
        if (settings.Rerank > 0 && type is not (IndexType.IvfPq or IndexType.IvfHnswPq))
            throw new UsageException($"--rerank applies to --type ivf-pq and ivf-hnsw-pq only, not {TypeName(type)}.");

        try
        {
            return type switch
            {
                IndexType.Pq => context.Retrieval().IndexPq(Fill(new PqIndexingEstimator.Options
                {
                    NumberOfSubquantizers = settings.Subquantizers,
                    BitsPerSubquantizer = settings.Bits,
                }, columns, settings)),
                IndexType.IvfFlat => context.Retrieval().IndexIvfFlat(Fill(new IvfFlatIndexingEstimator.Options
                {
                    NumberOfLists = settings.Lists,
                    NumberOfProbes = settings.Probes,
                }, columns, settings)),
                IndexType.IvfPq => context.Retrieval().IndexIvfPq(Fill(new IvfPqIndexingEstimator.Options
                {
                    NumberOfLists = settings.Lists,
                    NumberOfProbes = settings.Probes,
                    NumberOfSubquantizers = settings.Subquantizers,
                    BitsPerSubquantizer = settings.Bits,
                    RerankCount = settings.Rerank,
                }, columns, settings)),
                IndexType.IvfHnswPq => context.Retrieval().IndexIvfPq(Fill(new IvfPqIndexingEstimator.Options
                {
                    NumberOfLists = settings.Lists,
                    NumberOfProbes = settings.Probes,
                    NumberOfSubquantizers = settings.Subquantizers,
                    BitsPerSubquantizer = settings.Bits,
                    RerankCount = settings.Rerank,
                    CoarseSearch = Indexes.CoarseSearch.Hnsw,
                    CoarseConnectivity = hnsw?.Connectivity ?? Indexes.IvfPqIndex.DefaultCoarseConnectivity,
                    CoarseEfSearch = hnsw?.EfSearch ?? Indexes.IvfPqIndex.DefaultCoarseEfSearch,
                }, columns, settings)),
                IndexType.Hnsw => context.Retrieval().IndexHnsw(Fill(new HnswIndexingEstimator.Options
                {
                    Metric = metric,
                    Connectivity = hnsw?.Connectivity ?? HnswIndexingEstimator.Options.Defaults.Connectivity,
                    EfConstruction = hnsw?.EfConstruction ?? HnswIndexingEstimator.Options.Defaults.EfConstruction,
                    EfSearch = hnsw?.EfSearch ?? HnswIndexingEstimator.Options.Defaults.EfSearch,
                    Seed = settings.Seed ?? 1,
                }, columns, null)),
                _ => context.Retrieval().IndexExact(Fill(new ExactIndexingEstimator.Options { Metric = metric }, columns, null)),
            };
        }
        catch (ArgumentException e)
        {
            // The options' checks name the library property, so name the command-line option to change instead.
            throw new UsageException($"{CommandLineName(e.ParamName)}: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
    }

    private static T Fill<T>(T options, NeighborSearchOptions columns, CompressionSettings? settings)
        where T : NeighborSearchOptions
    {
        options.FeatureColumnName = columns.FeatureColumnName;
        options.IdColumnName = columns.IdColumnName;
        options.LabelColumnName = columns.LabelColumnName;
        options.NumberOfNeighbors = columns.NumberOfNeighbors;
        options.ExcludeSelf = columns.ExcludeSelf;
        options.NumberOfThreads = columns.NumberOfThreads;
        options.Progress = columns.Progress;
        options.CancellationToken = columns.CancellationToken;
        if (options is TrainedIndexOptions trained && settings is not null)
        {
            trained.TrainingSampleSize = settings.TrainSample;
            trained.Seed = settings.Seed ?? 1;
        }

        return options;
    }

    private static string CommandLineName(string? parameter) => parameter switch
    {
        "NumberOfLists" => "--lists",
        "NumberOfProbes" => "--probes",
        "numberOfSubquantizers" or "NumberOfSubquantizers" => "--subquantizers",
        "bitsPerSubquantizer" or "BitsPerSubquantizer" => "--bits",
        "RerankCount" => "--rerank",
        "CoarseConnectivity" => "--connectivity",
        "CoarseEfSearch" => "--ef",
        "trainingSampleSize" or "TrainingSampleSize" => "--train-sample",
        "NumberOfNeighbors" => "--k",
        "Connectivity" => "--connectivity",
        "EfConstruction" => "--ef-construction",
        "EfSearch" => "--ef",
        _ => "invalid setting",
    };

    private static Option<int> PositiveOption(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => CliCommands.ParseInteger(result, 1, int.MaxValue, $"{name} must be an integer of at least 1"),
    };

    private static Option<int> NonNegativeOption(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => CliCommands.ParseInteger(result, 0, int.MaxValue, $"{name} must be an integer of 0 or more"),
    };
}
