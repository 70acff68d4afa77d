using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNetRetrieval.IO;
using MLNetRetrieval.MetricLearning;
using MLNetRetrieval.MetricLearning.Losses;
using MLNetRetrieval.Transforms;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>train-metric</c>: trains an embedding head with a metric-learning loss on labeled vectors and
/// saves it as an ML.NET model zip that maps the Features column to the embedding in place, so
/// <c>index --transform</c> and the other commands can apply it.
/// </summary>
internal static class TrainMetricCommand
{
    /// <summary>Fashion-MNIST training images in Debian's dataset-fashion-mnist (gzip-compressed IDX, 60000 × 28 × 28 uint8).</summary>
    internal const string FashionMnistTrainImages = "train-images-idx3-ubyte.gz";

    /// <summary>Fashion-MNIST training labels (gzip-compressed IDX, 60000 uint8).</summary>
    internal const string FashionMnistTrainLabels = "train-labels-idx1-ubyte.gz";

    /// <summary>Learning rate of --optimizer adam when --lr is not given; the trainer's default (0.05) suits SGD.</summary>
    private const float DefaultAdamLearningRate = 1e-3f;

    private static readonly string[] LossNames = Enum.GetValues<MetricLossKind>().Select(MetricLossOptions.GetName).ToArray();
    private static readonly string[] MiningNames = Enum.GetValues<TripletMining>().Select(MetricLossOptions.GetName).ToArray();

    public static Command Create(CliContext context)
    {
        var input = new VectorInputOptions("--train", "Labeled vector file to train on; labels from --labels or --label-column.");
        input.Path.Required = false;
        var fashionMnist = new Option<bool>("--fashion-mnist")
        {
            Description = $"Train on the 60000 Fashion-MNIST training images in {VerifyCommand.DebianDataFolder} (Debian's dataset-fashion-mnist) instead of --train; pixels are scaled to [0, 1] unless --input-scale is given.",
        };
        var inputScale = new Option<double?>("--input-scale")
        {
            Description = "Factor applied to every input value before the head, in training and in the saved model. Default: 1, or 1/255 with --fashion-mnist.",
            HelpName = "S",
            CustomParser = result => ParsePositive(result, "--input-scale must be a positive number"),
        };
        var loss = new Option<string>("--loss")
        {
            Description = "Loss: 'contrastive' (pairs), 'triplet' (online mining), 'center' (softmax + centre term), 'sphereface', 'cosface', 'arcface' (angular margins) or 'softmax' (normalised softmax, no margin).",
            Required = true,
        };
        loss.AcceptOnlyFromAmong(LossNames);
        Option<string> mining = CliCommands.CreateChoice("--mining",
            "Triplet mining inside each batch: 'batch-all' every triplet with positive loss, 'batch-hard' the hardest positive and negative per anchor, 'semi-hard' negatives beyond the positive but within the margin. Triplet loss only.",
            "batch-hard", MiningNames);
        var margin = new Option<double?>("--margin")
        {
            Description = "Margin: α of contrastive and triplet (squared distance), m of cosface (cosine) and arcface (radians), the integer m of sphereface. Default: the loss's own.",
            HelpName = "M",
            CustomParser = result => ParsePositive(result, "--margin must be a positive number"),
        };
        var scale = new Option<double?>("--scale")
        {
            Description = "Logit scale s of sphereface, cosface, arcface and softmax. Default: the loss's own.",
            HelpName = "S",
            CustomParser = result => ParsePositive(result, "--scale must be a positive number"),
        };
        var centerWeight = new Option<double?>("--center-weight")
        {
            Description = "Weight λ of the centre term of the center loss. Default: the loss's own.",
            HelpName = "L",
            CustomParser = result => ParsePositive(result, "--center-weight must be a positive number"),
        };
        var hidden = new Option<int[]>("--hidden")
        {
            Description = "Hidden layer sizes of the MLP, comma-separated, such as 512 or 1024,512; 0 trains a single linear layer.",
            HelpName = "N,N,...",
            DefaultValueFactory = _ => [512],
            CustomParser = ParseHiddenLayers,
        };
        var batchNorm = new Option<bool>("--batch-norm")
        {
            Description = "Add batch normalisation after each hidden linear layer.",
        };
        var dropout = new Option<double>("--dropout")
        {
            Description = "Dropout rate after each hidden layer while training, in [0, 1); 0 turns dropout off.",
            HelpName = "RATE",
            DefaultValueFactory = _ => 0,
            CustomParser = ParseDropout,
        };
        var dimension = new Option<int>("--dim")
        {
            Description = "Embedding dimension: length of the output vectors.",
            HelpName = "N",
            DefaultValueFactory = _ => 128,
            CustomParser = result => CliCommands.ParseInteger(result, 1, 1 << 16, "--dim must be an integer from 1 to 65536"),
        };
        var epochs = new Option<int>("--epochs")
        {
            Description = "Passes over the training vectors.",
            HelpName = "N",
            DefaultValueFactory = _ => 20,
            CustomParser = result => CliCommands.ParseInteger(result, 1, 100_000, "--epochs must be an integer from 1 to 100000"),
        };
        var batch = new Option<int>("--batch")
        {
            Description = "Vectors per batch. Pair and triplet losses draw each batch as P classes of K vectors.",
            HelpName = "N",
            DefaultValueFactory = _ => 256,
            CustomParser = result => CliCommands.ParseInteger(result, 2, 1 << 20, "--batch must be an integer from 2 to 1048576"),
        };
        var learningRate = new Option<double?>("--lr")
        {
            Description = "Peak learning rate. Default: the trainer's, which depends on --optimizer.",
            HelpName = "RATE",
            CustomParser = result => ParsePositive(result, "--lr must be a positive number"),
        };
        Option<string> optimizer = CliCommands.CreateChoice("--optimizer", "Optimizer: 'sgd' (momentum 0.9) or 'adam'.", "sgd", "sgd", "adam");
        var weightDecay = new Option<double?>("--weight-decay")
        {
            Description = "L2 weight decay λ on the weight matrices (not on biases). Default: the trainer's.",
            HelpName = "L",
            CustomParser = result => ParseNonNegative(result, "--weight-decay must be a number of at least 0"),
        };
        var warmup = new Option<double?>("--warmup")
        {
            Description = "Epochs of linear learning-rate warm-up before the cosine decay. Default: the trainer's.",
            HelpName = "EPOCHS",
            CustomParser = result => ParseNonNegative(result, "--warmup must be a number of at least 0"),
        };
        var samplesPerClass = new Option<int?>("--per-class")
        {
            Description = "K of the P x K batches of the contrastive and triplet losses: vectors per class in a batch. Default: the trainer's.",
            HelpName = "K",
            CustomParser = result => CliCommands.ParseInteger(result, 2, 1 << 20, "--per-class must be an integer from 2 to 1048576"),
        };
        var validation = new Option<double>("--validation")
        {
            Description = "Share of the training vectors held out to report validation MAP@R after each epoch, in [0, 0.5]; 0 skips validation.",
            HelpName = "FRACTION",
            DefaultValueFactory = _ => 0.1,
            CustomParser = ParseValidationFraction,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the initial weights and of the batch order; the same seed and --threads give the same model.",
            HelpName = "N",
            DefaultValueFactory = _ => 1,
            CustomParser = result => CliCommands.ParseInteger(result, int.MinValue, int.MaxValue, "--seed must be an integer"),
        };
        Option<int> threads = CliContext.CreateThreadsOption("training");
        var output = new Option<string>("--output", "--out", "-o")
        {
            Description = "Model zip to write; an existing file is replaced only when training succeeds.",
            HelpName = "FILE",
            Required = true,
        };

        var command = new Command("train-metric", "Train an embedding head (linear or MLP) with a metric-learning loss on labeled vectors and save it as an ML.NET model zip for index --transform.");
        input.AddTo(command);
        command.Add(fashionMnist);
        command.Add(inputScale);
        command.Add(loss);
        command.Add(mining);
        command.Add(margin);
        command.Add(scale);
        command.Add(centerWeight);
        command.Add(hidden);
        command.Add(batchNorm);
        command.Add(dropout);
        command.Add(dimension);
        command.Add(epochs);
        command.Add(batch);
        command.Add(learningRate);
        command.Add(optimizer);
        command.Add(weightDecay);
        command.Add(warmup);
        command.Add(samplesPerClass);
        command.Add(validation);
        command.Add(seed);
        command.Add(threads);
        command.Add(output);
        command.SetAction(parse =>
        {
            var lossOptions = new MetricLossOptions
            {
                Kind = Enum.GetValues<MetricLossKind>().First(kind => MetricLossOptions.GetName(kind) == parse.GetValue(loss)),
                Mining = Enum.GetValues<TripletMining>().First(kind => MetricLossOptions.GetName(kind) == parse.GetValue(mining)),
                Margin = parse.GetValue(margin),
                Scale = parse.GetValue(scale),
                CenterWeight = parse.GetValue(centerWeight),
            };
            var settings = new TrainSettings(input, parse, parse.GetValue(fashionMnist), parse.GetValue(inputScale), lossOptions,
                parse.GetResult(mining) is { Implicit: false }, parse.GetValue(hidden)!, parse.GetValue(batchNorm), parse.GetValue(dropout),
                parse.GetValue(dimension), parse.GetValue(epochs),
                parse.GetValue(batch), parse.GetValue(learningRate), parse.GetValue(optimizer)!, parse.GetValue(weightDecay), parse.GetValue(warmup),
                parse.GetValue(samplesPerClass), parse.GetValue(validation), parse.GetValue(seed), parse.GetValue(threads),
                parse.GetValue(output)!, parse.GetValue(context.Json));
            return Run(context, settings);
        });
        return command;
    }

    private sealed record TrainSettings(VectorInputOptions Input, ParseResult Parse, bool FashionMnist, double? InputScale,
        MetricLossOptions Loss, bool MiningGiven, int[] HiddenLayers, bool BatchNorm, double Dropout, int Dimension, int Epochs, int BatchSize, double? LearningRate,
        string Optimizer, double? WeightDecay, double? Warmup, int? SamplesPerClass, double Validation, int Seed, int Threads, string Output, bool Json);

    private static int Run(CliContext context, TrainSettings settings)
    {
        CliConsole console = context.Console;
        var clock = Stopwatch.StartNew();
        CheckCombinations(settings);
        using var zip = new AtomicFile(settings.Output);

        (VectorSet vectors, string inputPath) = ReadTrainingSet(settings);
        if (vectors.Labels is null)
            throw new UsageException($"{inputPath}: the vectors have no labels, and metric learning needs a class per vector. Pass --labels FILE or --label-column NAME.");
        float inputScale = (float)(settings.InputScale ?? (settings.FashionMnist ? 1.0 / 255 : 1.0));
        context.CancellationToken.ThrowIfCancellationRequested();

        var ml = new MLContext(seed: settings.Seed);
        IDataView view = VectorViews.Create(ml, vectors);
        var history = new List<MetricEpochProgress>();
        MetricLearningTransformer model = console.RunWithProgress("Training", settings.Epochs, sink =>
        {
            var options = new MetricLearningEstimator.Options
            {
                Loss = settings.Loss,
                Trainer = CreateTrainerOptions(settings),
                InputScale = inputScale,
                Progress = new EpochReporter(console, sink, settings.Epochs, history),
                CancellationToken = context.CancellationToken,
            };
            return ml.Retrieval().TrainMetric(VectorViews.FeatureColumn, VectorViews.FeatureColumn, VectorViews.LabelColumn, options).Fit(view);
        });

        context.CancellationToken.ThrowIfCancellationRequested();
        ml.Model.Save(model, view.Schema, zip.TemporaryPath);
        zip.Commit();
        long zipBytes = new FileInfo(zip.Path).Length;
        double seconds = clock.Elapsed.TotalSeconds;
        string network = string.Join(" -> ", new[] { vectors.Dimension }.Concat(settings.HiddenLayers).Append(model.Head.OutputDimension));
        MetricEpochProgress? last = history.Count > 0 ? history[^1] : null;

        if (settings.Json)
        {
            console.WriteJson(new
            {
                command = "train-metric",
                input = inputPath,
                output = zip.Path,
                rows = vectors.Count,
                dimension = vectors.Dimension,
                classes = vectors.Labels.Distinct(StringComparer.Ordinal).Count(),
                inputScale,
                loss = MetricLossOptions.GetName(settings.Loss.Kind),
                mining = settings.Loss.Kind == MetricLossKind.Triplet ? MetricLossOptions.GetName(settings.Loss.Mining) : null,
                margin = settings.Loss.Margin,
                scale = settings.Loss.Scale,
                network,
                epochs = history.Select(epoch => new
                {
                    epoch = epoch.Epoch,
                    loss = epoch.TrainingLoss,
                    validationMapAtR = double.IsNaN(epoch.ValidationMapAtR) ? (double?)null : epoch.ValidationMapAtR,
                    learningRate = epoch.LearningRate,
                    seconds = epoch.Elapsed.TotalSeconds,
                }),
                zipBytes,
                seconds,
            });
            return ExitCodes.Success;
        }

        var table = CliConsole.CreateTable().AddColumn("Training").AddColumn("Value");
        table.AddRow("input", Markup.Escape(inputPath));
        table.AddRow("rows", vectors.Count.ToString(CultureInfo.InvariantCulture));
        table.AddRow("input scale", inputScale.ToString("G6", CultureInfo.InvariantCulture));
        table.AddRow("loss", Markup.Escape(settings.Loss.ToString()));
        table.AddRow("network", network);
        table.AddRow("epochs", history.Count.ToString(CultureInfo.InvariantCulture));
        if (last is { } final)
        {
            table.AddRow("final loss", final.TrainingLoss.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow("validation MAP@R", EvaluateCommand.FormatMetric(double.IsNaN(final.ValidationMapAtR) ? null : final.ValidationMapAtR));
        }

        table.AddRow("model zip", Markup.Escape(zip.Path));
        table.AddRow("zip size", CliCommands.FormatBytes(zipBytes));
        table.AddRow("time", CliCommands.FormatSeconds(seconds));
        console.Write(table);
        return ExitCodes.Success;
    }

    /// <summary>Rejects options that do not apply to the chosen input or loss, before any file is read.</summary>
    private static void CheckCombinations(TrainSettings settings)
    {
        bool trainGiven = settings.Parse.GetValue(settings.Input.Path) is not null;
        if (settings.FashionMnist == trainGiven)
            throw new UsageException("Pass exactly one of --train FILE and --fashion-mnist.");
        if (settings.FashionMnist && (settings.Parse.GetValue(settings.Input.Labels) is not null || settings.Parse.GetValue(settings.Input.LabelColumn) is not null))
            throw new UsageException("--fashion-mnist brings its own labels; drop --labels and --label-column.");

        MetricLossOptions loss = settings.Loss;
        string name = MetricLossOptions.GetName(loss.Kind);
        if (settings.MiningGiven && loss.Kind != MetricLossKind.Triplet)
            throw new UsageException($"--mining applies to --loss triplet only, not {name}.");
        if (loss.Margin is not null && loss.Kind is MetricLossKind.Center or MetricLossKind.Softmax)
            throw new UsageException($"--loss {name} has no margin; drop --margin.");
        if (loss.Scale is not null && loss.Kind is MetricLossKind.Contrastive or MetricLossKind.Triplet or MetricLossKind.Center)
            throw new UsageException($"--loss {name} has no logit scale; drop --scale.");
        if (loss.CenterWeight is not null && loss.Kind != MetricLossKind.Center)
            throw new UsageException($"--center-weight applies to --loss center only, not {name}.");
    }

    private static (VectorSet Vectors, string Path) ReadTrainingSet(TrainSettings settings)
    {
        if (!settings.FashionMnist)
            return (settings.Input.Read(settings.Parse), settings.Parse.GetValue(settings.Input.Path)!);

        string images = Path.Combine(VerifyCommand.DebianDataFolder, FashionMnistTrainImages);
        string labels = Path.Combine(VerifyCommand.DebianDataFolder, FashionMnistTrainLabels);
        if (!File.Exists(images) || !File.Exists(labels))
            throw new FileNotFoundException($"Fashion-MNIST training files ({FashionMnistTrainImages}, {FashionMnistTrainLabels}) not found in {VerifyCommand.DebianDataFolder}. Install Debian's dataset-fashion-mnist, or pass --train FILE --labels FILE.", images);
        return (VectorFile.Read(images, new VectorReadOptions { LabelsPath = labels }), images);
    }

    private static MetricTrainerOptions CreateTrainerOptions(TrainSettings settings)
    {
        var options = new MetricTrainerOptions
        {
            HiddenLayers = settings.HiddenLayers,
            BatchNormalization = settings.BatchNorm,
            DropoutRate = (float)settings.Dropout,
            EmbeddingDimension = settings.Dimension,
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Optimizer = settings.Optimizer == "adam" ? OptimizerKind.Adam : OptimizerKind.Sgd,
            ValidationFraction = settings.Validation,
            Seed = settings.Seed,
            Threads = settings.Threads,
        };
        if (settings.LearningRate is { } rate)
            options.LearningRate = (float)rate;
        else if (options.Optimizer == OptimizerKind.Adam)
            options.LearningRate = DefaultAdamLearningRate;
        if (settings.WeightDecay is { } decay)
            options.WeightDecay = (float)decay;
        if (settings.Warmup is { } warmup)
            options.WarmupEpochs = warmup;
        if (settings.SamplesPerClass is { } perClass)
            options.SamplesPerClass = perClass;

        // The trainer's own check names its properties; rephrase the ones that options here can break.
        if (options.WarmupEpochs > options.Epochs)
            throw new UsageException($"--warmup {options.WarmupEpochs} is longer than --epochs {options.Epochs}; warm up for at most the whole run.");
        if (options.SamplesPerClass > options.BatchSize)
            throw new UsageException($"--per-class {options.SamplesPerClass} is larger than --batch {options.BatchSize}; a batch must hold at least one class.");
        return options;
    }

    private static int[] ParseHiddenLayers(ArgumentResult result)
    {
        string text = string.Join(',', result.Tokens.Select(token => token.Value));
        if (text.Trim() == "0")
            return [];
        var sizes = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 1 || size > 1 << 16)
            {
                result.AddError($"--hidden: '{part}' is not a layer size; give integers from 1 to 65536 separated by commas, for example 512 or 1024,512, or 0 for a linear head.");
                return [];
            }

            sizes.Add(size);
        }

        return sizes.ToArray();
    }

    /// <summary>Parses a finite number of at least 0; anything else becomes a parse error (a usage error).</summary>
    private static double? ParseNonNegative(ArgumentResult result, string rule)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < 0)
        {
            result.AddError($"{rule}; got '{text}'.");
            return null;
        }

        return value;
    }

    private static double ParseDropout(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 0 && value < 1))
        {
            result.AddError($"--dropout must be a number from 0 up to but excluding 1; got '{text}'.");
            return 0;
        }

        return value;
    }

    private static double ParseValidationFraction(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 0 && value <= 0.5))
        {
            result.AddError($"--validation must be a number from 0 to 0.5; got '{text}'.");
            return 0;
        }

        return value;
    }

    /// <summary>Parses a positive finite number; anything else becomes a parse error (a usage error).</summary>
    private static double? ParsePositive(ArgumentResult result, string rule)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value <= 0)
        {
            result.AddError($"{rule}; got '{text}'.");
            return null;
        }

        return value;
    }

    /// <summary>
    /// Shows each epoch on the progress bar, or as a line on standard error when no bar is shown, and
    /// keeps the history for the summary. The trainer calls Report synchronously after each epoch, from the training thread.
    /// </summary>
    private sealed class EpochReporter(CliConsole console, IProgressSink sink, int epochs, List<MetricEpochProgress> history) : IProgress<MetricEpochProgress>
    {
        public void Report(MetricEpochProgress value)
        {
            history.Add(value);
            string mapAtR = double.IsNaN(value.ValidationMapAtR) ? "-" : value.ValidationMapAtR.ToString("F4", CultureInfo.InvariantCulture);
            string line = string.Create(CultureInfo.InvariantCulture,
                $"Epoch {value.Epoch}/{epochs}: loss {value.TrainingLoss:F4}, validation MAP@R {mapAtR}, lr {value.LearningRate:G3}, {value.Elapsed.TotalSeconds:F1} s");
            sink.Restart(Markup.Escape(line), epochs);
            sink.Set(value.Epoch);
            if (!console.ShowsProgress)
                console.Info(line);
        }
    }
}
