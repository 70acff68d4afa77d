using SkiaSharp;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>
/// Self-check of <see cref="CopyAttackGenerator"/> on a synthetic image, so it needs none of the image packages:
/// the same seed gives the same bytes, crops keep the requested area, and the geometry of every copy is right.
/// </summary>
internal static class AttackCheck
{
    // A crop side is rounded to whole pixels, which moves the area fraction by at most about (w + h) / (w * h).
    private const double AreaTolerance = 0.01;

    /// <summary>Runs the checks and prints one line per failed condition.</summary>
    /// <param name="fontPath">Font of the text overlay.</param>
    /// <returns>The number of failed conditions.</returns>
    public static int Run(string fontPath)
    {
        var failures = new List<string>();
        using SKBitmap original = MakeSyntheticImage(640, 480);
        var first = new CopyAttackGenerator(seed: 7, fontPath);
        var second = new CopyAttackGenerator(seed: 7, fontPath);
        var otherSeed = new CopyAttackGenerator(seed: 8, fontPath);
        int differentWithOtherSeed = 0;
        foreach (CopyAttack attack in CopyAttackGenerator.AllAttacks)
        {
            AttackedCopy a = first.Apply(original, originalIndex: 3, attack);
            AttackedCopy b = second.Apply(original, originalIndex: 3, attack);
            if (!a.Encoded.AsSpan().SequenceEqual(b.Encoded))
            {
                failures.Add($"{attack}: the same seed gave different bytes ({a.Encoded.Length} and {b.Encoded.Length} bytes).");
            }

            differentWithOtherSeed += otherSeed.Apply(original, 3, attack).Encoded.AsSpan().SequenceEqual(a.Encoded) ? 0 : 1;
            CheckGeometry(original, a, failures);
        }

        // Seeded attacks are crops, rotation, brightness/contrast and text; JPEG, downscale and grayscale have no random choice.
        const int seededAttacks = 6;
        if (differentWithOtherSeed < seededAttacks)
        {
            failures.Add($"Only {differentWithOtherSeed} attacks changed with the seed, expected at least {seededAttacks}.");
        }

        foreach (string failure in failures)
        {
            Console.WriteLine($"FAILED: {failure}");
        }

        Console.WriteLine(failures.Count == 0
            ? $"Attack generator check passed: {CopyAttackGenerator.AllAttacks.Count} attacks, deterministic, geometry as specified."
            : $"Attack generator check: {failures.Count} failures.");
        return failures.Count;
    }

    private static void CheckGeometry(SKBitmap original, AttackedCopy copy, List<string> failures)
    {
        using SKBitmap? decoded = SKBitmap.Decode(copy.Encoded);
        if (decoded is null)
        {
            failures.Add($"{copy.Attack}: the copy does not decode as an image.");
            return;
        }

        if (decoded.Width != copy.Width || decoded.Height != copy.Height)
        {
            failures.Add($"{copy.Attack}: the file is {decoded.Width}x{decoded.Height} but the copy reports {copy.Width}x{copy.Height}.");
        }

        double? fraction = CopyAttackGenerator.CropAreaFraction(copy.Attack);
        if (fraction is double expected)
        {
            double kept = (double)copy.Region.Width * copy.Region.Height / (original.Width * original.Height);
            if (Math.Abs(kept - expected) > AreaTolerance)
            {
                failures.Add($"{copy.Attack}: the crop keeps {kept:F4} of the area, expected {expected} ± {AreaTolerance}.");
            }

            if (copy.Region.Left < 0 || copy.Region.Top < 0 || copy.Region.Right > original.Width || copy.Region.Bottom > original.Height)
            {
                failures.Add($"{copy.Attack}: the crop {copy.Region} leaves the {original.Width}x{original.Height} image.");
            }

            if (copy.Region.Width != copy.Width || copy.Region.Height != copy.Height)
            {
                failures.Add($"{copy.Attack}: the crop region is {copy.Region.Width}x{copy.Region.Height} but the copy {copy.Width}x{copy.Height}.");
            }

            double aspectChange = Math.Abs(((double)copy.Width / copy.Height) - ((double)original.Width / original.Height));
            if (aspectChange > 0.01)
            {
                failures.Add($"{copy.Attack}: the crop changes the aspect ratio by {aspectChange:F4}.");
            }
        }

        if (copy.Attack == CopyAttack.Downscale4 && (copy.Width != original.Width / 4 || copy.Height != original.Height / 4))
        {
            failures.Add($"Downscale4: the copy is {copy.Width}x{copy.Height}, expected {original.Width / 4}x{original.Height / 4}.");
        }

        if (copy.Attack == CopyAttack.Rotate)
        {
            float magnitude = Math.Abs(copy.AngleDegrees);
            if (magnitude < 2 || magnitude > 6)
            {
                failures.Add($"Rotate: the angle is {copy.AngleDegrees} degrees, expected a magnitude in [2, 6].");
            }

            // The synthetic image has no dark pixel, so a dark corner would be area outside the rotated original.
            foreach ((int x, int y) in new[] { (0, 0), (decoded.Width - 1, 0), (0, decoded.Height - 1), (decoded.Width - 1, decoded.Height - 1) })
            {
                SKColor corner = decoded.GetPixel(x, y);
                if (corner.Red + corner.Green + corner.Blue < 60)
                {
                    failures.Add($"Rotate: the corner ({x}, {y}) is {corner}, which looks like empty area.");
                }
            }
        }
    }

    // Smooth colour gradients plus a few discs, every channel kept at 40 or more.
    private static SKBitmap MakeSyntheticImage(int width, int height)
    {
        var image = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image.SetPixel(x, y, new SKColor((byte)(40 + (215 * x / width)), (byte)(40 + (215 * y / height)), (byte)(40 + (215 * ((x + y) % 97) / 97))));
            }
        }

        using var canvas = new SKCanvas(image);
        using var paint = new SKPaint { Color = new SKColor(200, 60, 90), IsAntialias = false };
        canvas.DrawCircle(160, 120, 50, paint);
        paint.Color = new SKColor(60, 200, 220);
        canvas.DrawCircle(480, 330, 80, paint);
        return image;
    }
}
