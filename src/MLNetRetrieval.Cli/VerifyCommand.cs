using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MLNetRetrieval.IO;
using MLNetRetrieval.Reports;
using MLNetRetrieval.Verification;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>verify</c>: 1:1 verification metrics of labelled vectors. Draws seeded genuine and impostor pairs
/// from the labels, scores them, prints TAR@FAR, EER, AUC and k-fold accuracy and writes the ROC and
/// precision–recall plots with an HTML page (<see cref="VerificationReportRunner"/>).
/// </summary>
internal static class VerifyCommand
{
    internal const string DefaultOutputFolder = "verification-report";

    /// <summary>Debian's copy of Fashion-MNIST (package dataset-fashion-mnist), used when the bundled copy is missing.</summary>
    internal const string DebianDataFolder = "/usr/share/datasets/fashion-mnist";

    private static readonly double[] DefaultFalseAcceptRates = [1e-1, 1e-2, 1e-3, 1e-4];

    public static Command Create(CliContext context)
    {
        var vectors = new Option<string?>("--vectors")
        {
            Description = "Vector file to verify: CSV, .fvecs, .npy or IDX, optionally .gz for CSV and IDX; the format is detected from the first bytes and the extension. Default: the bundled Fashion-MNIST test split (10000 images of 784 raw pixel values from 0 to 255), else Debian's copy in " + DebianDataFolder + ".",
            HelpName = "FILE",
        };
        var labels = new Option<string?>("--labels")
        {
            Description = "File with one label per vector, in row order: text with one label per line, a 1-D .npy array or a 1-D IDX file. Two vectors with equal labels form a genuine pair. Required with --vectors.",
            HelpName = "FILE",
        };
        var output = new Option<string>("--out")
        {
            Description = "Folder for roc.png, precision_recall.png, index.html and metrics.txt; created when missing, and files of those names are replaced.",
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultOutputFolder,
        };
        Option<int> samePairs = CreatePairCountOption("--same-pairs", "Genuine pairs to draw: two different vectors with the same label.");
        Option<int> differentPairs = CreatePairCountOption("--different-pairs", "Impostor pairs to draw: two vectors with different labels.");
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the pair sampling and of --shuffle-folds; the same seed and data give the same pairs.",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
            CustomParser = result => CliCommands.ParseInteger(result, int.MinValue, int.MaxValue, "--seed must be an integer"),
        };
        var withReplacement = new Option<bool>("--with-replacement")
        {
            Description = "Allow a pair to be drawn more than once. Without it every pair is distinct, and requesting more pairs than the labels allow is an error.",
        };
        Option<double[]> falseAcceptRates = CreateFalseAcceptRatesOption();
        var folds = new Option<int>("--folds")
        {
            Description = "Folds K of the best-threshold accuracy (LFW protocol): the threshold with the best accuracy on K - 1 folds is tested on the remaining fold, for each fold. 0 skips the accuracy; otherwise 2 to the number of pairs.",
            HelpName = "K",
            DefaultValueFactory = _ => 10,
            CustomParser = result => ParseFolds(result),
        };
        var shuffleFolds = new Option<bool>("--shuffle-folds")
        {
            Description = "Shuffle the pairs with --seed before splitting them into folds. By default each fold is a contiguous run of the drawn pairs, which are already in random order.",
        };
        Option<string> metric = CliCommands.CreateChoice("--metric",
            "Pair score, higher for more similar vectors: 'cosine' is x·y / (‖x‖ ‖y‖); 'l2' is the negative squared Euclidean distance −‖x − y‖²; 'both' reports both, one table column and plot curve each.",
            "both", "cosine", "l2", "both");

        var command = new Command("verify", "Verification (1:1) metrics of labelled vectors: draw genuine and impostor pairs, print TAR@FAR, EER, AUC and k-fold accuracy, and write ROC and precision-recall plots with an HTML page.");
        command.Add(vectors);
        command.Add(labels);
        command.Add(output);
        command.Add(samePairs);
        command.Add(differentPairs);
        command.Add(seed);
        command.Add(withReplacement);
        command.Add(falseAcceptRates);
        command.Add(folds);
        command.Add(shuffleFolds);
        command.Add(metric);
        command.SetAction(parse =>
        {
            var pairs = new PairSamplingOptions
            {
                SamePairCount = parse.GetValue(samePairs),
                DifferentPairCount = parse.GetValue(differentPairs),
                Seed = parse.GetValue(seed),
                WithReplacement = parse.GetValue(withReplacement),
            };
            var evaluation = new VerificationEvaluatorOptions
            {
                FalseAcceptRates = parse.GetValue(falseAcceptRates)!,
                FoldCount = parse.GetValue(folds),
                FoldAssignment = parse.GetValue(shuffleFolds) ? FoldAssignment.Shuffled : FoldAssignment.Contiguous,
                Seed = parse.GetValue(seed),
            };
            var settings = new VerifySettings(parse.GetValue(vectors), parse.GetValue(labels), parse.GetValue(output)!, pairs, evaluation,
                ParseKinds(parse.GetValue(metric)!), parse.GetValue(context.Json));
            return Run(context, settings);
        });
        return command;
    }

    private sealed record VerifySettings(string? VectorsPath, string? LabelsPath, string OutputFolder, PairSamplingOptions Pairs,
        VerificationEvaluatorOptions Evaluation, PairScoreKind[] Kinds, bool Json);

    private static int Run(CliContext context, VerifySettings settings)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        (string vectorsPath, string labelsPath) = ResolveData(settings.VectorsPath, settings.LabelsPath);
        CheckPairCounts(labelsPath, settings.Pairs, settings.Evaluation.FoldCount);

        var options = new VerificationRunOptions
        {
            OutputDirectory = settings.OutputFolder,
            VectorsPath = vectorsPath,
            LabelsPath = labelsPath,
            Pairs = settings.Pairs,
            Evaluation = settings.Evaluation,
            Kinds = settings.Kinds,
        };
        // The runner also writes progress lines and the table to its writer. They are dropped because
        // the table is printed to standard output below, where --json and --quiet decide what appears.
        VerificationRunResult result = console.RunWithProgress("Verifying", 1, sink =>
        {
            VerificationRunResult finished = VerificationReportRunner.Run(options, TextWriter.Null, context.CancellationToken);
            sink.Advance(1);
            return finished;
        });
        double seconds = clock.Elapsed.TotalSeconds;

        if (settings.Json)
        {
            WriteJson(console, settings, vectorsPath, labelsPath, result, seconds);
            return ExitCodes.Success;
        }

        TextWriter stdout = console.Out;
        VerificationReport first = result.Reports[0].Report;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Verification of {Path.GetFileName(vectorsPath)}: {first.GenuineCount} genuine + {first.ImpostorCount} impostor pairs, seed {settings.Pairs.Seed}, {(settings.Pairs.WithReplacement ? "with" : "without")} replacement"));
        stdout.WriteLine();
        stdout.Write(result.Table);
        stdout.WriteLine();
        stdout.WriteLine($"Report: {result.PagePath} (with {string.Join(", ", result.PlotPaths.Select(Path.GetFileName))} and {VerificationReportRunner.TableFileName}), time: {CliCommands.FormatSeconds(seconds)}");
        return ExitCodes.Success;
    }

    private static Option<int> CreatePairCountOption(string name, string description) => new(name)
    {
        Description = description + " At least 1.",
        HelpName = "N",
        DefaultValueFactory = _ => 6000,
        CustomParser = result => CliCommands.ParseInteger(result, 1, int.MaxValue, $"{name} must be an integer of at least 1 pair"),
    };

    private static int ParseFolds(System.CommandLine.Parsing.ArgumentResult result)
    {
        int folds = CliCommands.ParseInteger(result, 0, int.MaxValue, "--folds must be 0 (skip the accuracy) or an integer of at least 2");
        if (folds == 1)
            result.AddError("--folds must be 0 (skip the accuracy) or an integer of at least 2; got '1'.");
        return folds;
    }

    /// <summary>Creates --far: a comma-separated list of false accept rates, each in (0, 1].</summary>
    private static Option<double[]> CreateFalseAcceptRatesOption() => new("--far")
    {
        Description = "False accept rates at which TAR is reported, comma-separated fractions of impostor pairs in (0, 1]. A rate below 1 / impostor pairs can only be met at FAR = 0 and is marked '*'.",
        HelpName = "RATE,RATE,...",
        DefaultValueFactory = _ => DefaultFalseAcceptRates,
        CustomParser = result =>
        {
            string text = string.Join(',', result.Tokens.Select(token => token.Value));
            var rates = new List<double>();
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length == 0)
                    continue;
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !(rate > 0 && rate <= 1))
                {
                    result.AddError($"--far: '{part}' is not a valid false accept rate. Give fractions in (0, 1] separated by commas, for example 1e-1,1e-2,1e-3.");
                    return [];
                }

                rates.Add(rate);
            }

            if (rates.Count == 0)
                result.AddError("--far is empty. Give at least one false accept rate in (0, 1], for example 1e-2.");
            return rates.ToArray();
        },
    };

    private static PairScoreKind[] ParseKinds(string name) => name switch
    {
        "cosine" => [PairScoreKind.Cosine],
        "l2" => [PairScoreKind.NegativeSquaredEuclidean],
        _ => [PairScoreKind.Cosine, PairScoreKind.NegativeSquaredEuclidean],
    };

    private static string KindName(PairScoreKind kind) => kind == PairScoreKind.Cosine ? "cosine" : "l2";

    /// <summary>Returns the vector and label files to read, which are the given pair or else the Fashion-MNIST test split.</summary>
    /// <exception cref="UsageException">Only one of --vectors and --labels is given.</exception>
    /// <exception cref="FileNotFoundException">Neither copy of Fashion-MNIST exists.</exception>
    private static (string Vectors, string Labels) ResolveData(string? vectorsPath, string? labelsPath)
    {
        if (vectorsPath is not null)
        {
            return labelsPath is null
                ? throw new UsageException($"--vectors {vectorsPath} needs --labels FILE with one label per vector, because genuine and impostor pairs are drawn from the labels.")
                : (vectorsPath, labelsPath);
        }

        if (labelsPath is not null)
            throw new UsageException($"--labels {labelsPath} applies only with --vectors. Drop it to use the default Fashion-MNIST data, which has its own labels.");

        string[] folders = [Path.Combine(AppContext.BaseDirectory, DemoCommand.DataFolder), DebianDataFolder];
        foreach (string folder in folders)
        {
            string images = Path.Combine(folder, VerificationRunOptions.FashionMnistImagesFileName);
            string labels = Path.Combine(folder, VerificationRunOptions.FashionMnistLabelsFileName);
            if (File.Exists(images) && File.Exists(labels))
                return (images, labels);
        }

        throw new FileNotFoundException(
            $"Fashion-MNIST test files ({VerificationRunOptions.FashionMnistImagesFileName}, {VerificationRunOptions.FashionMnistLabelsFileName}) not found in {string.Join(" or ", folders)}. Pass --vectors FILE --labels FILE, rebuild the CLI project (it copies examples/data/** beside the executable) or install Debian's dataset-fashion-mnist.",
            VerificationRunOptions.FashionMnistImagesFileName);
    }

    /// <summary>
    /// Checks the requested pairs against what the labels allow, so the error names the CLI options. The
    /// pair generator checks the same limits, but its messages name library properties.
    /// </summary>
    private static void CheckPairCounts(string labelsPath, PairSamplingOptions pairs, int foldCount)
    {
        long requested = (long)pairs.SamePairCount + pairs.DifferentPairCount;
        if (foldCount > requested)
            throw new UsageException($"--folds {foldCount} is more than the {requested} pairs requested. Use at most one fold per pair, or 0 to skip the accuracy.");
        if (pairs.WithReplacement)
            return;

        string[] labels = VectorFile.ReadLabels(labelsPath);
        long total = (long)labels.Length * (labels.Length - 1) / 2;
        long same = 0;
        foreach (IGrouping<string, string> group in labels.GroupBy(label => label, StringComparer.Ordinal))
        {
            long size = group.Count();
            same += size * (size - 1) / 2;
        }

        if (pairs.SamePairCount > same)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--same-pairs {pairs.SamePairCount} is more than the {same} distinct same-label pairs in {labelsPath}. Request fewer or pass --with-replacement."));
        if (pairs.DifferentPairCount > total - same)
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--different-pairs {pairs.DifferentPairCount} is more than the {total - same} distinct different-label pairs in {labelsPath}. Request fewer or pass --with-replacement."));
    }

    private static void WriteJson(CliConsole console, VerifySettings settings, string vectorsPath, string labelsPath, VerificationRunResult result, double seconds)
    {
        console.WriteJson(new
        {
            command = "verify",
            vectors = vectorsPath,
            labels = labelsPath,
            pairs = new
            {
                genuine = result.Reports[0].Report.GenuineCount,
                impostor = result.Reports[0].Report.ImpostorCount,
                seed = settings.Pairs.Seed,
                withReplacement = settings.Pairs.WithReplacement,
            },
            folds = settings.Evaluation.FoldCount,
            foldAssignment = settings.Evaluation.FoldAssignment == FoldAssignment.Shuffled ? "shuffled" : "contiguous",
            results = settings.Kinds.Zip(result.Reports, (kind, entry) => ToJson(kind, entry.Report)).ToArray(),
            files = new
            {
                page = result.PagePath,
                plots = result.PlotPaths,
                table = Path.Combine(settings.OutputFolder, VerificationReportRunner.TableFileName),
            },
            seconds,
        });
    }

    private static object ToJson(PairScoreKind kind, VerificationReport report) => new
    {
        metric = KindName(kind),
        tarAtFar = report.TarAtFar.Select(point => new
        {
            targetFalseAcceptRate = point.TargetFalseAcceptRate,
            trueAcceptRate = point.TrueAcceptRate,
            falseAcceptRate = point.FalseAcceptRate,
            threshold = FiniteOrNull(point.Threshold),
            belowResolution = point.BelowResolution,
        }).ToArray(),
        equalErrorRate = report.EqualErrorRate,
        equalErrorThreshold = FiniteOrNull(report.EqualErrorThreshold),
        areaUnderRoc = report.AreaUnderRoc,
        accuracy = report.Accuracy is null ? null : new
        {
            mean = report.Accuracy.Mean,
            standardDeviation = report.Accuracy.StandardDeviation,
            folds = report.Accuracy.Folds.Select(fold => new
            {
                fold = fold.Fold,
                threshold = FiniteOrNull(fold.Threshold),
                trainingAccuracy = fold.TrainingAccuracy,
                testAccuracy = fold.TestAccuracy,
                testCount = fold.TestCount,
            }).ToArray(),
        },
    };

    /// <summary>Maps the +∞ threshold ("accept nothing") to null, because JSON has no infinity.</summary>
    private static float? FiniteOrNull(float threshold) => float.IsFinite(threshold) ? threshold : null;
}
