using System.CommandLine;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>Graph settings of <c>index --type hnsw</c>, parsed from the command line.</summary>
internal sealed record HnswSettings(int Connectivity, int EfConstruction, int EfSearch);

/// <summary>
/// The options of <c>index --type hnsw</c> (--connectivity, --ef-construction, --ef), and the --ef option of the
/// commands that score with a saved model.
/// </summary>
internal sealed class HnswTypeOptions
{
    public HnswTypeOptions()
    {
        Connectivity = Create("--connectivity",
            "hnsw only: links per graph node M (layer 0 keeps up to 2M), in [2, 1024]. More links raise recall and cost build time and (2M + 1) × 4 bytes per vector.",
            2, Indexes.HnswOptions.MaxConnectivity, HnswIndexingEstimator.Options.Defaults.Connectivity);
        EfConstruction = Create("--ef-construction",
            "hnsw only: candidates kept per insertion (efConstruction), at least 1. A wider build beam gives a better graph and a slower build.",
            1, int.MaxValue, HnswIndexingEstimator.Options.Defaults.EfConstruction);
        EfSearch = Create("--ef",
            "hnsw only: candidates kept per query (efSearch), at least 1, stored in the model as its default; a query uses max(ef, k). Search and evaluate can override it.",
            1, int.MaxValue, HnswIndexingEstimator.Options.Defaults.EfSearch);
    }

    public Option<int> Connectivity { get; }

    public Option<int> EfConstruction { get; }

    public Option<int> EfSearch { get; }

    public void AddTo(Command command)
    {
        command.Add(Connectivity);
        command.Add(EfConstruction);
        command.Add(EfSearch);
    }

    public HnswSettings Read(ParseResult parse) =>
        new(parse.GetValue(Connectivity), parse.GetValue(EfConstruction), parse.GetValue(EfSearch));

    /// <summary>Whether the user set any of the options, which then needs --type hnsw.</summary>
    public bool AnyGiven(ParseResult parse) =>
        new Option[] { Connectivity, EfConstruction, EfSearch }.Any(option => parse.GetResult(option) is { Implicit: false });

    /// <summary>Creates the --ef option of search and evaluate.</summary>
    public static Option<int?> CreateSearchEfOption() => new("--ef")
    {
        Description = "HNSW models only (index --type hnsw): candidates kept per query (efSearch), at least 1; a query uses max(ef, k). Overrides the value stored in the model for this run; a larger ef raises recall and costs time roughly in proportion. Default: the model's value.",
        HelpName = "N",
        CustomParser = result => CliCommands.ParseInteger(result, 1, int.MaxValue, "--ef must be an integer of at least 1"),
    };

    /// <summary>Sets efSearch on the loaded model; the searcher shares its index with the loaded pipeline, so both scoring paths use it.</summary>
    /// <exception cref="UsageException">The model is not an HNSW model.</exception>
    public static void ApplySearchEf(ModelFile model, int? ef)
    {
        if (ef is not { } value)
            return;
        if (!model.Searcher.SupportsEfSearch)
            throw new UsageException($"--ef applies to HNSW models, but {model.Path} contains index kind {model.Searcher.IndexKind}, which has no graph. Drop --ef or rebuild with index --type hnsw.");
        model.Searcher.EfSearch = value;
    }

    private static Option<int> Create(string name, string description, int minimum, int maximum, int defaultValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => CliCommands.ParseInteger(result, minimum, maximum,
            maximum == int.MaxValue ? $"{name} must be an integer of at least {minimum}" : $"{name} must be an integer in [{minimum}, {maximum}]"),
    };
}
