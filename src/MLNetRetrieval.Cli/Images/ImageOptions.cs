using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using MLNetRetrieval.Images;
using MLNetRetrieval.Images.IO;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Cli.Images;

/// <summary>Where the images of one run come from, parsed from the command line.</summary>
/// <param name="Folder">The folder given with --images, or null.</param>
/// <param name="File">The file given with --image, or null.</param>
/// <param name="Extensions">File extensions to list in <paramref name="Folder"/>.</param>
/// <param name="LabelsFromFolders">Whether the first sub-folder name is each image's label.</param>
/// <param name="FailuresPath">The failures CSV given with --failures, or null for the default.</param>
internal sealed record ImageInput(string? Folder, string? File, IReadOnlyList<string> Extensions, bool LabelsFromFolders, string? FailuresPath);

/// <summary>
/// The options that select image files (--images, --image, --extensions, --labels-from-folders) and
/// the failures CSV (--failures), shared by the index and search commands.
/// </summary>
internal sealed class ImageInputOptions
{
    public ImageInputOptions(bool forIndex)
    {
        Folder = new Option<string?>("--images")
        {
            Description = forIndex
                ? "Folder of images to embed and index, searched recursively (see --extensions). Replaces --input. The model zip then embeds its queries itself, and a manifest CSV (path,id,label) of the indexed images is written beside it as MODEL.manifest.csv."
                : "Folder of query images, searched recursively (see --extensions). Replaces --queries; the model must come from index --images.",
            HelpName = "DIR",
        };
        if (!forIndex)
        {
            File = new Option<string?>("--image")
            {
                Description = "One query image. Replaces --queries; the model must come from index --images.",
                HelpName = "FILE",
            };
        }

        Extensions = new Option<string[]>("--extensions")
        {
            Description = "With --images: file extensions to include, comma-separated, matched without regard to case. Files and folders whose names start with a dot are skipped.",
            HelpName = "EXT,EXT,...",
            DefaultValueFactory = _ => [.. ImageFolderOptions.DefaultExtensions],
            CustomParser = ParseExtensions,
        };
        if (forIndex)
        {
            LabelsFromFolders = new Option<bool>("--labels-from-folders")
            {
                Description = "With --images: label each image with the name of its first sub-folder under DIR (cats/a.jpg and cats/young/b.jpg get 'cats'); every image must then sit in a sub-folder. The labels go into the index, so evaluate can use them.",
            };
        }

        Failures = new Option<string?>("--failures")
        {
            Description = forIndex
                ? "CSV (path,reason) of the images that could not be read; the run indexes the others. Default: MODEL.failures.csv beside the model zip."
                : "CSV (path,reason) of the query images that could not be read; the run searches the others. Default: OUTPUT.failures.csv beside the results; with --output - the failures are printed to standard error instead.",
            HelpName = "FILE",
        };
    }

    public Option<string?> Folder { get; }

    public Option<string?>? File { get; }

    public Option<string[]> Extensions { get; }

    public Option<bool>? LabelsFromFolders { get; }

    public Option<string?> Failures { get; }

    public void AddTo(Command command)
    {
        command.Add(Folder);
        if (File is not null)
            command.Add(File);
        command.Add(Extensions);
        if (LabelsFromFolders is not null)
            command.Add(LabelsFromFolders);
        command.Add(Failures);
    }

    /// <summary>Whether --images or --image was given, which selects the image path of the command.</summary>
    public bool IsGiven(ParseResult parse) => parse.GetValue(Folder) is not null || (File is not null && parse.GetValue(File) is not null);

    /// <summary>Reads the options.</summary>
    /// <exception cref="UsageException">Both --images and --image are given, or an image-only option is given without them.</exception>
    public ImageInput? Read(ParseResult parse)
    {
        string? folder = parse.GetValue(Folder);
        string? file = File is null ? null : parse.GetValue(File);
        if (folder is not null && file is not null)
            throw new UsageException("--images and --image both select the query images; pass only one of them.");
        if (folder is null && file is null)
        {
            Option[] imageOnly = LabelsFromFolders is null ? [Extensions, Failures] : [Extensions, LabelsFromFolders, Failures];
            if (imageOnly.FirstOrDefault(option => parse.GetResult(option) is { Implicit: false }) is { } stray)
                throw new UsageException($"{stray.Name} applies to image folders only; pass --images DIR{(File is null ? "" : " or --image FILE")} as well, or drop {stray.Name}.");
            return null;
        }

        if (file is not null && parse.GetResult(Extensions) is { Implicit: false })
            throw new UsageException("--extensions applies to --images DIR, not to a single --image FILE; drop --extensions.");

        bool labels = LabelsFromFolders is not null && parse.GetValue(LabelsFromFolders);
        return new ImageInput(folder, file, parse.GetValue(Extensions)!, labels, parse.GetValue(Failures));
    }

    /// <summary>Parses a comma-separated extension list, accepting a leading dot on each name.</summary>
    private static string[] ParseExtensions(ArgumentResult result)
    {
        var extensions = new List<string>();
        foreach (string part in string.Join(',', result.Tokens.Select(token => token.Value)).Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
                continue;
            string name = part.TrimStart('.');
            if (name.Length == 0 || name.AsSpan().IndexOfAny(['/', '\\', '*', '?', '.']) >= 0)
            {
                result.AddError($"--extensions: '{part}' is not a file extension; give names such as jpg,png, without paths, wildcards or inner dots.");
                return [];
            }

            extensions.Add(name);
        }

        if (extensions.Count == 0)
            result.AddError("--extensions needs at least one extension, such as jpg,png.");
        return [.. extensions];
    }
}

/// <summary>
/// The options of <c>index --images</c> that choose the embedding model and its preprocessing:
/// --model-onnx, --input-name, --output-name, --image-size, --resize, --channels, --layout,
/// --scale, --mean, --std, --flip-average and --batch-size.
/// </summary>
internal sealed class ImageModelOptions
{
    public ImageModelOptions()
    {
        ModelPath = new Option<string?>("--model-onnx")
        {
            Description = "ONNX model that maps an image tensor to an embedding. Default: ResNet18 from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (512 values per image) with that package's own preprocessing. The model bytes are stored in the model zip.",
            HelpName = "FILE",
        };
        InputName = new Option<string?>("--input-name")
        {
            Description = "With --model-onnx: name of the model's image input. Default: the model's only input.",
            HelpName = "NAME",
        };
        OutputName = new Option<string?>("--output-name")
        {
            Description = "With --model-onnx: name of the output used as the embedding. Default: the model's only (or first) output.",
            HelpName = "NAME",
        };
        ImageSize = new Option<int[]?>("--image-size")
        {
            Description = "With --model-onnx: tensor size in pixels, N (square) or WxH. Default: 224.",
            HelpName = "WxH",
            CustomParser = ParseImageSize,
        };
        Resize = CliCommands.CreateChoice("--resize",
            "With --model-onnx: 'crop' scales the shorter side to the tensor size and cuts out the centre; 'stretch' scales width and height independently.",
            "crop", "crop", "stretch");
        Channels = CliCommands.CreateChoice("--channels", "With --model-onnx: channel order in the tensor.", "rgb", "rgb", "bgr");
        Layout = CliCommands.CreateChoice("--layout", "With --model-onnx: tensor layout, 'nchw' planar or 'nhwc' interleaved.", "nchw", "nchw", "nhwc");
        Scale = new Option<float?>("--scale")
        {
            Description = "With --model-onnx: factor applied to each 0-255 pixel value first; value = (pixel × scale − mean) / std. For example 0.00392157 (1/255). Default: 1.",
            HelpName = "X",
            CustomParser = result => ParseFinite(result, "--scale"),
        };
        Mean = CreateTripleOption("--mean", "With --model-onnx: value subtracted per channel after scaling, three numbers in --channels order, for example 0.485,0.456,0.406. Default: 0,0,0.");
        Std = CreateTripleOption("--std", "With --model-onnx: divisor per channel, applied last, three positive numbers in --channels order, for example 0.229,0.224,0.225. Default: 1,1,1.");
        FlipAverage = new Option<bool>("--flip-average")
        {
            Description = "Embed each image and its left-right mirror and average the two embeddings (costs two inferences per image).",
        };
        BatchSize = new Option<int>("--batch-size")
        {
            Description = "Images per inference call when the model has a dynamic batch dimension.",
            HelpName = "N",
            DefaultValueFactory = _ => 16,
            CustomParser = result => CliCommands.ParseInteger(result, 1, 4096, "--batch-size must be an integer from 1 to 4096"),
        };
    }

    public Option<string?> ModelPath { get; }

    public Option<string?> InputName { get; }

    public Option<string?> OutputName { get; }

    public Option<int[]?> ImageSize { get; }

    public Option<string> Resize { get; }

    public Option<string> Channels { get; }

    public Option<string> Layout { get; }

    public Option<float?> Scale { get; }

    public Option<float[]?> Mean { get; }

    public Option<float[]?> Std { get; }

    public Option<bool> FlipAverage { get; }

    public Option<int> BatchSize { get; }

    private Option[] CustomModelOnly => [InputName, OutputName, ImageSize, Resize, Channels, Layout, Scale, Mean, Std];

    private Option[] All => [ModelPath, .. CustomModelOnly, FlipAverage, BatchSize];

    public void AddTo(Command command)
    {
        foreach (Option option in All)
            command.Add(option);
    }

    /// <summary>Returns the first of these options that the user gave, or null.</summary>
    public Option? FirstGiven(ParseResult parse) => All.FirstOrDefault(option => parse.GetResult(option) is { Implicit: false });

    /// <summary>Builds the embedder settings.</summary>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="normalize">Whether each embedding is scaled to unit L2 norm (--normalize).</param>
    /// <param name="threads">Threads for decoding and inference (--threads).</param>
    /// <exception cref="UsageException">A preprocessing option is given without --model-onnx.</exception>
    /// <exception cref="FileNotFoundException">The --model-onnx file does not exist.</exception>
    public ImageEmbedderOptions Read(ParseResult parse, bool normalize, int threads)
    {
        string? modelPath = parse.GetValue(ModelPath);
        var options = new ImageEmbedderOptions
        {
            Normalize = normalize,
            FlipAverage = parse.GetValue(FlipAverage),
            BatchSize = parse.GetValue(BatchSize),
            Threads = threads,
        };
        if (modelPath is null)
        {
            if (CustomModelOnly.FirstOrDefault(option => parse.GetResult(option) is { Implicit: false }) is { } stray)
                throw new UsageException($"{stray.Name} describes a custom model and applies only with --model-onnx FILE; the default ResNet18 model brings its own preprocessing. Drop {stray.Name} or pass --model-onnx.");
            return options;
        }

        if (!System.IO.File.Exists(modelPath))
            throw new FileNotFoundException($"ONNX model not found: {modelPath}. Check the --model-onnx path.", modelPath);

        int[] size = GivenArrayOrNull(parse, ImageSize) ?? [224, 224];
        options.ModelPath = modelPath;
        options.InputName = parse.GetValue(InputName);
        options.OutputName = parse.GetValue(OutputName);
        options.Preprocessing = new ImagePreprocessing
        {
            Width = size[0],
            Height = size[1],
            ResizeMode = parse.GetValue(Resize) == "stretch" ? ImageResizeMode.Stretch : ImageResizeMode.ShorterSideThenCenterCrop,
            ChannelOrder = parse.GetValue(Channels) == "bgr" ? ChannelOrder.Bgr : ChannelOrder.Rgb,
            Layout = parse.GetValue(Layout) == "nhwc" ? TensorLayout.Nhwc : TensorLayout.Nchw,
            Scale = parse.GetValue(Scale) ?? 1f,
            Mean = GivenArrayOrNull(parse, Mean) ?? [0f, 0f, 0f],
            Std = GivenArrayOrNull(parse, Std) ?? [1f, 1f, 1f],
        };
        return options;
    }

    /// <summary>Describes the model for the summary table.</summary>
    public static string Describe(ImageEmbedderOptions options) =>
        (options.ModelPath ?? "ResNet18 (Microsoft.ML.DnnImageFeaturizer.ResNet18)")
        + (options.Normalize ? ", L2-normalized" : "")
        + (options.FlipAverage ? ", flip-averaged" : "");

    /// <summary>
    /// Returns the value of an array option, or null when it was omitted. System.CommandLine returns an empty
    /// array, not null, for an omitted array option, and the parsers here never accept an empty list.
    /// </summary>
    private static T[]? GivenArrayOrNull<T>(ParseResult parse, Option<T[]?> option) =>
        parse.GetValue(option) is { Length: > 0 } value ? value : null;

    /// <summary>Parses "N" or "WxH" into {width, height}, each from 1 to 8192 pixels.</summary>
    private static int[]? ParseImageSize(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        string[] parts = text.Split('x', 'X');
        var size = new int[2];
        bool valid = parts.Length is 1 or 2;
        for (int i = 0; valid && i < parts.Length; i++)
            valid = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out size[i]) && size[i] is >= 1 and <= 8192;
        if (!valid)
        {
            result.AddError($"--image-size must be N or WxH with each side an integer from 1 to 8192 pixels, for example 224 or 320x240; got '{text}'.");
            return null;
        }

        if (parts.Length == 1)
            size[1] = size[0];
        return size;
    }

    private static float? ParseFinite(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value) || value == 0f)
        {
            result.AddError($"{name} must be a finite non-zero number, for example 0.00392157; got '{text}'.");
            return null;
        }

        return value;
    }

    private static Option<float[]?> CreateTripleOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "A,B,C",
        CustomParser = result =>
        {
            string text = string.Join(',', result.Tokens.Select(token => token.Value));
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new float[3];
            bool valid = parts.Length == 3;
            for (int i = 0; valid && i < 3; i++)
            {
                valid = float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) && float.IsFinite(values[i])
                    && (name != "--std" || values[i] > 0f);
            }

            if (!valid)
            {
                string rule = name == "--std" ? "three positive numbers" : "three finite numbers";
                result.AddError($"{name} must be {rule} separated by commas, one per channel, for example 0.5,0.5,0.5; got '{text}'.");
                return null;
            }

            return values;
        },
    };
}
