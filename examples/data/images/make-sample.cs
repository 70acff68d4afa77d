#!/usr/bin/env -S dotnet run
// Regenerates the embedded image sample from Debian's openclipart-png package:
//
//     dotnet run examples/data/images/make-sample.cs [SOURCE]
//
// SOURCE defaults to /usr/share/openclipart/png. For each category below, the script lists the
// PNG files under the source folder recursively and sorts the paths ordinally. It shuffles them with
// a seeded System.Random, whose seeded sequence does not change between .NET versions. It keeps the
// first PerCategory files with distinct file names whose longer side is at least MinSourceSide
// pixels, because scaling smaller files up shows mostly blur. Each kept file is composited onto white, scaled so its longer side is
// MaxSide pixels, and written as an 8-bit RGB PNG under its source file name.
#:package SkiaSharp
#:package SkiaSharp.NativeAssets.Linux.NoDependencies

using SkiaSharp;

const int PerCategory = 10;
const int MaxSide = 160;
const int MinSourceSide = 64;
const int Seed = 20261204;

(string Label, string SourceFolder)[] categories =
[
    ("birds", "animals/birds"),
    ("bugs", "animals/bugs"),
    ("fish", "animals/fish"),
    ("flowers", "plants/flowers"),
    ("fruit", "food/fruit"),
    ("vehicles", "transportation/vehicles"),
];

string source = args.Length > 0 ? args[0] : "/usr/share/openclipart/png";
string target = Path.GetDirectoryName(Path.GetFullPath(AppContext.GetData("EntryPointFilePath") as string ?? "make-sample.cs"))!;
if (!Directory.Exists(source))
{
    Console.Error.WriteLine($"error: source folder not found: {source}. Install Debian's openclipart-png package or pass its png folder.");
    return 1;
}

var random = new Random(Seed);
foreach ((string label, string sourceFolder) in categories)
{
    string[] candidates = Directory.GetFiles(Path.Combine(source, sourceFolder), "*.png", SearchOption.AllDirectories);
    Array.Sort(candidates, StringComparer.Ordinal);
    random.Shuffle(candidates);

    string folder = Path.Combine(target, label);
    if (Directory.Exists(folder))
        Directory.Delete(folder, recursive: true);
    Directory.CreateDirectory(folder);

    int written = 0;
    var names = new HashSet<string>(StringComparer.Ordinal);
    foreach (string path in candidates)
    {
        if (written == PerCategory)
            break;

        // Sub-folders can hold files of the same name (vehicles has several hummer_01.png); keep the first.
        if (!names.Add(Path.GetFileName(path)))
            continue;
        using SKBitmap? original = SKBitmap.Decode(path);
        if (original is null || Math.Max(original.Width, original.Height) < MinSourceSide)
            continue;

        double scale = (double)MaxSide / Math.Max(original.Width, original.Height);
        int width = Math.Max(1, (int)Math.Round(original.Width * scale));
        int height = Math.Max(1, (int)Math.Round(original.Height * scale));
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.White);
        using SKImage image = SKImage.FromBitmap(original);
        var sampling = new SKSamplingOptions(SKCubicResampler.Mitchell);
        surface.Canvas.DrawImage(image, new SKRect(0, 0, width, height), sampling);

        // The canvas is opaque, so the file needs no alpha channel.
        using SKImage snapshot = surface.Snapshot();
        using var rgb = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgb888x, SKAlphaType.Opaque));
        snapshot.ReadPixels(rgb.Info, rgb.GetPixels(), rgb.RowBytes, 0, 0);
        using SKData png = rgb.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(folder, Path.GetFileName(path)), png.ToArray());
        written++;
    }

    Console.WriteLine($"{label}: {written} images from {sourceFolder}");
}

return 0;
