using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using MLNetRetrieval.Evaluation;
using MLNetRetrieval.Indexes;
using MLNetRetrieval.Reports;
using MLNetRetrieval.Transforms;

namespace MLNetRetrieval.Cli;

/// <summary>Builds the command tree and parses the option values that several commands share.</summary>
internal static class CliCommands
{
    public static RootCommand CreateRoot(CliContext context)
    {
        var root = new RootCommand("Content-based retrieval with ML.NET: build exact, PQ and IVF k-nearest-neighbor indexes as model zips, benchmark them, search them, evaluate the rankings and measure 1:1 verification.");
        root.Add(context.Json);
        root.Add(context.Quiet);
        root.Add(context.Verbose);
        root.Add(IndexCommand.Create(context));
        root.Add(SearchCommand.Create(context));
        root.Add(EvaluateCommand.Create(context));
        root.Add(VerifyCommand.Create(context));
        root.Add(DemoCommand.Create(context));
        root.Add(BenchCommand.Create(context));
        root.Add(TrainMetricCommand.Create(context));
        return root;
    }

    public static Option<string> CreateScoringOption() => CreateChoice(
        "--scoring",
        "How queries are scored: 'transform' runs the loaded model's ML.NET Transform one row at a time; 'batch' calls the index's batch search on --threads threads and needs a model without transforms before the search (no --normalize); 'auto' picks batch when allowed. Both paths return the same ids and distances.",
        "auto",
        "auto", "transform", "batch");

    public static ScoringPath ParseScoring(string name) => name switch
    {
        "transform" => ScoringPath.Transform,
        "batch" => ScoringPath.Batch,
        _ => ScoringPath.Auto,
    };

    public static Option<string> CreateChoice(string name, string description, string defaultValue, params string[] choices)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static DistanceMetric ParseMetric(string name) => name switch
    {
        "ip" => DistanceMetric.InnerProduct,
        "cosine" => DistanceMetric.Cosine,
        _ => DistanceMetric.SquaredEuclidean,
    };

    public static string MetricName(DistanceMetric metric) => metric switch
    {
        DistanceMetric.InnerProduct => "ip",
        DistanceMetric.Cosine => "cosine",
        _ => "l2",
    };

    public static TieHandling ParseTies(string name) => name == "average" ? TieHandling.Average : TieHandling.AsRanked;

    public static JudgmentProtocol ParseProtocol(string name) => name switch
    {
        "easy" => JudgmentProtocol.Easy,
        "medium" => JudgmentProtocol.Medium,
        "hard" => JudgmentProtocol.Hard,
        _ => JudgmentProtocol.Standard,
    };

    /// <summary>Creates an option that takes a comma-separated list of cutoffs, each at least 1.</summary>
    public static Option<int[]> CreateCutoffsOption(string name, string description, int[] defaultValue) => new(name)
    {
        Description = description,
        HelpName = "K,K,...",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = string.Join(',', result.Tokens.Select(token => token.Value));
            var cutoffs = new List<int>();
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length == 0)
                    continue;
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int cutoff) || cutoff < 1)
                {
                    result.AddError($"{name}: '{part}' is not a cutoff; give integers >= 1 separated by commas, for example 1,10,100.");
                    return [];
                }

                cutoffs.Add(cutoff);
            }

            return cutoffs.ToArray();
        },
    };

    /// <summary>Creates the --k option; the value must be from 1 to the library's maximum k.</summary>
    public static Option<int?> CreateKOption(string description) => new("--k")
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => ParseInteger(result, 1, NeighborSearchOptions.Defaults.MaxNumberOfNeighbors,
            $"--k must be an integer from 1 to {NeighborSearchOptions.Defaults.MaxNumberOfNeighbors}"),
    };

    /// <summary>
    /// Parses the token of an integer option and checks that it lies in [<paramref name="minimum"/>, <paramref name="maximum"/>].
    /// A token that is not an integer or lies outside the range becomes a parse error (a usage error), because a
    /// validator that calls GetValueOrDefault on a token that failed to convert throws instead.
    /// </summary>
    /// <param name="result">The option's argument result; receives the error.</param>
    /// <param name="minimum">Smallest accepted value.</param>
    /// <param name="maximum">Largest accepted value.</param>
    /// <param name="rule">The requirement as a sentence without the final period, starting with the option name.</param>
    public static int ParseInteger(ArgumentResult result, int minimum, int maximum, string rule)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < minimum || value > maximum)
        {
            result.AddError($"{rule}; got '{text}'.");
            return minimum;
        }

        return value;
    }

    /// <summary>Creates the --report option of the ranking commands (evaluate, demo).</summary>
    public static Option<string?> CreateRankingReportOption() => new("--report")
    {
        Description = $"Also writes an HTML report with a Recall@R plot (PNG) into DIR: {RankingReportWriter.RecallPlotFileName}, one point per Recall@K cutoff, and {RankingReportWriter.PageFileName}. The folder is created when missing, and files of those names are replaced.",
        HelpName = "DIR",
    };

    public static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => bytes.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
    };

    public static string FormatSeconds(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture) + " s";
}
