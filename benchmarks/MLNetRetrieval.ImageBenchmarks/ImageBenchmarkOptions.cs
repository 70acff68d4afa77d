using System.Globalization;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>Command-line options of the image retrieval benchmarks.</summary>
internal sealed record ImageBenchmarkOptions
{
    /// <summary>Usage text.</summary>
    public const string Usage = """
        Image retrieval benchmarks on Debian's wallpaper and clip-art packages.
        Usage: MLNetRetrieval.ImageBenchmarks [--copydays] [--categories] [--check-attacks] [options]
          --copydays           near-duplicate retrieval of attacked wallpaper copies (INRIA Copydays style)
          --categories         leave-one-out category retrieval on openclipart-png
          --check-attacks      check that the attack generator is deterministic and crops the right area
          --seed N             seed of the original sample and of every attack (default 1)
          --wallpapers FILE    list of wallpaper files, one path per line (benchmarks/images/run.sh writes it)
          --originals N        originals sampled from the unique wallpapers; 0 for all (default 0)
          --min-side N         wallpapers with a shorter side below N pixels are skipped (default 512)
          --no-distractors     Copydays: only the wallpapers form the database, no clip-art distractors
          --clipart DIR        openclipart PNG folder (default /usr/share/openclipart/png)
          --keep-duplicates    clip-art: keep files whose bytes repeat (by default one copy is kept, or none
                               when the copies sit under different categories)
          --limit N            categories: seeded sample of N clip-art images; 0 for all (default 0)
          --methods LIST       comma-separated features: raw32, resnet18 (default raw32,resnet18)
          --threads N          threads for decoding, embedding and search; 0 for all cores (default 0)
          --cache DIR          feature cache and attacked copies (default /tmp/mlnr-imgbench)
          --font FILE          TrueType font of the text overlay (default DejaVu Sans Bold)
        """;

    /// <summary>Run the Copydays-style benchmark.</summary>
    public bool Copydays { get; init; }

    /// <summary>Run the category benchmark.</summary>
    public bool Categories { get; init; }

    /// <summary>Run the attack generator self-check.</summary>
    public bool CheckAttacks { get; init; }

    /// <summary>Seed of the sample and the attacks.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>File with one wallpaper path per line.</summary>
    public string? WallpaperList { get; init; }

    /// <summary>Number of originals to sample; 0 for all.</summary>
    public int Originals { get; init; }

    /// <summary>Smallest accepted shorter side of a wallpaper, in pixels.</summary>
    public int MinSide { get; init; } = 512;

    /// <summary>Whether the Copydays database also gets the clip-art images as distractors.</summary>
    public bool Distractors { get; init; } = true;

    /// <summary>The openclipart PNG folder.</summary>
    public string ClipartFolder { get; init; } = "/usr/share/openclipart/png";

    /// <summary>Whether the clip-art set keeps files whose bytes repeat.</summary>
    public bool KeepDuplicates { get; init; }

    /// <summary>Clip-art sample size for the category benchmark; 0 for all.</summary>
    public int Limit { get; init; }

    /// <summary>Feature methods to run.</summary>
    public IReadOnlyList<string> Methods { get; init; } = ["raw32", "resnet18"];

    /// <summary>Threads; 0 for all cores.</summary>
    public int Threads { get; init; }

    /// <summary>Folder for the feature cache and the attacked copies.</summary>
    public string CacheFolder { get; init; } = "/tmp/mlnr-imgbench";

    /// <summary>Font of the text overlay attack.</summary>
    public string FontPath { get; init; } = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    /// <summary>Parses the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown, lacks its value or has an invalid value.</exception>
    public static ImageBenchmarkOptions Parse(string[] args)
    {
        var options = new ImageBenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {name} needs a value.");
            int Count(int minimum)
            {
                string text = Value();
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < minimum)
                {
                    throw new ArgumentException($"Option {name} needs an integer of at least {minimum}, got '{text}'.");
                }

                return value;
            }

            options = name switch
            {
                "--copydays" => options with { Copydays = true },
                "--categories" => options with { Categories = true },
                "--check-attacks" => options with { CheckAttacks = true },
                "--seed" => options with { Seed = Count(0) },
                "--wallpapers" => options with { WallpaperList = Value() },
                "--originals" => options with { Originals = Count(0) },
                "--min-side" => options with { MinSide = Count(RawPixelFeaturizer.Side) },
                "--no-distractors" => options with { Distractors = false },
                "--clipart" => options with { ClipartFolder = Value() },
                "--keep-duplicates" => options with { KeepDuplicates = true },
                "--limit" => options with { Limit = Count(0) },
                "--methods" => options with { Methods = ParseMethods(Value()) },
                "--threads" => options with { Threads = Count(0) },
                "--cache" => options with { CacheFolder = Value() },
                "--font" => options with { FontPath = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }

        if (!options.Copydays && !options.Categories && !options.CheckAttacks)
        {
            throw new ArgumentException($"Choose at least one of --copydays, --categories and --check-attacks.\n{Usage}");
        }

        if (options.Copydays && options.WallpaperList is null)
        {
            throw new ArgumentException("--copydays needs --wallpapers FILE, a list of wallpaper paths; benchmarks/images/run.sh writes one with dpkg -L.");
        }

        return options;
    }

    private static string[] ParseMethods(string text)
    {
        string[] methods = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string method in methods)
        {
            if (method is not ("raw32" or "resnet18"))
            {
                throw new ArgumentException($"Unknown method '{method}' in --methods; valid: raw32, resnet18.");
            }
        }

        return methods.Length > 0 ? methods : throw new ArgumentException("--methods needs at least one of raw32, resnet18.");
    }
}
