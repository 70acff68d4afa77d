using System.Diagnostics;
using MLNetRetrieval.Images;
using SkiaSharp;

namespace MLNetRetrieval.ImageBenchmarks;

/// <summary>Feature vectors of a list of images, one row per image; rows of failed images are NaN.</summary>
/// <param name="Dimension">Length of one vector.</param>
/// <param name="Vectors">Row-major vectors, size count × <paramref name="Dimension"/>.</param>
/// <param name="Failed">Whether each image failed to decode or embed.</param>
/// <param name="Seconds">Wall-clock seconds the computation took when it actually ran.</param>
/// <param name="ComputedAtUtc">When it ran; older than this run when the features came from the cache.</param>
/// <param name="LoadAverage">The 1-, 5- and 15-minute load averages when it started and when it finished.</param>
internal sealed record FeatureMatrix(int Dimension, float[] Vectors, bool[] Failed, double Seconds, DateTime ComputedAtUtc, string LoadAverage)
{
    /// <summary>Number of rows.</summary>
    public int Count => Failed.Length;

    /// <summary>Images per second of the run that computed the features, failures included.</summary>
    public double ImagesPerSecond => Count / Seconds;

    /// <summary>Returns one row.</summary>
    /// <param name="row">The row.</param>
    /// <returns>The vector.</returns>
    public ReadOnlySpan<float> Row(int row) => Vectors.AsSpan(row * Dimension, Dimension);
}

/// <summary>Turns image files into feature vectors.</summary>
internal interface IImageFeaturizer : IDisposable
{
    /// <summary>Short name for tables and cache files.</summary>
    string Name { get; }

    /// <summary>Text that changes whenever the features would change (model bytes, settings).</summary>
    string CacheKey { get; }

    /// <summary>Computes the features of every file; a file that fails gets a NaN row.</summary>
    /// <param name="paths">The files.</param>
    /// <returns>The features.</returns>
    FeatureMatrix Compute(IReadOnlyList<string> paths);
}

/// <summary>
/// Raw-pixel baseline: the image composited onto white, shrunk to Side × Side by averaging the pixels of each
/// cell (stretched, so the aspect ratio is not kept), RGB values / 255, scaled to unit L2 norm.
/// </summary>
internal sealed class RawPixelFeaturizer : IImageFeaturizer
{
    /// <summary>Thumbnail width and height.</summary>
    public const int Side = 32;

    /// <summary>
    /// Largest accepted width × height, the default <c>ImageDecoderOptions.MaxPixelCount</c>, so that both
    /// featurizers accept the same images.
    /// </summary>
    public const long MaxPixels = 100_000_000;

    private readonly int _threads;

    /// <summary>Creates the featurizer.</summary>
    /// <param name="threads">Decoding threads; 0 for the processor count.</param>
    public RawPixelFeaturizer(int threads) => _threads = threads > 0 ? threads : Environment.ProcessorCount;

    /// <inheritdoc/>
    public string Name => "raw32";

    /// <inheritdoc/>
    public string CacheKey => $"raw-pixels v1 {Side}x{Side} rgb box l2";

    /// <inheritdoc/>
    public FeatureMatrix Compute(IReadOnlyList<string> paths)
    {
        const int dimension = Side * Side * 3;
        var vectors = new float[checked(paths.Count * dimension)];
        var failed = new bool[paths.Count];
        string loadAtStart = LoadAverage.Read();
        var watch = Stopwatch.StartNew();
        Parallel.For(0, paths.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, i =>
        {
            using SKBitmap? image = HasAcceptedSize(paths[i]) ? CopyAttackGenerator.DecodeOpaque(paths[i], out _) : null;
            Span<float> row = vectors.AsSpan(i * dimension, dimension);
            if (image is null || !TryWrite(image, row))
            {
                failed[i] = true;
                row.Fill(float.NaN);
            }
        });

        return new FeatureMatrix(dimension, vectors, failed, watch.Elapsed.TotalSeconds, DateTime.UtcNow, $"{loadAtStart} -> {LoadAverage.Read()}");
    }

    /// <summary>Checks from the file header that the image is between <see cref="Side"/> pixels a side and <see cref="MaxPixels"/>.</summary>
    /// <param name="path">The image file.</param>
    /// <returns>False also when Skia cannot read the header.</returns>
    public static bool HasAcceptedSize(string path)
    {
        using var codec = SKCodec.Create(path);
        if (codec is null)
        {
            return false;
        }

        SKImageInfo info = codec.Info;
        return info.Width >= Side && info.Height >= Side && (long)info.Width * info.Height <= MaxPixels;
    }

    /// <summary>Writes the normalized thumbnail of an opaque image.</summary>
    /// <param name="image">The image, Rgba8888.</param>
    /// <param name="destination">Side × Side × 3 floats, in row-major RGB order.</param>
    /// <returns>False when the image is smaller than the thumbnail.</returns>
    public static bool TryWrite(SKBitmap image, Span<float> destination)
    {
        if (image.Width < Side || image.Height < Side)
        {
            return false;
        }

        using SKBitmap thumbnail = CopyAttackGenerator.BoxResize(image, Side, Side);
        ReadOnlySpan<byte> pixels = thumbnail.GetPixelSpan();
        int stride = thumbnail.RowBytes;
        double sumOfSquares = 0;
        for (int y = 0; y < Side; y++)
        {
            for (int x = 0; x < Side; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float value = pixels[(y * stride) + (x * 4) + c] / 255f;
                    destination[(((y * Side) + x) * 3) + c] = value;
                    sumOfSquares += value * value;
                }
            }
        }

        // An all-black thumbnail stays zero: it is at distance 1 from every unit vector.
        if (sumOfSquares > 0)
        {
            float scale = (float)(1 / Math.Sqrt(sumOfSquares));
            foreach (ref float value in destination)
            {
                value *= scale;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}

/// <summary>ResNet18 embeddings through <see cref="ImageEmbedder"/>, L2-normalized.</summary>
internal sealed class ResNet18Featurizer : IImageFeaturizer
{
    private readonly ImageEmbedder _embedder;
    private readonly string _modelHash;
    private readonly string _probeHash;

    /// <summary>Loads the default model and embeds a probe image for the cache key.</summary>
    /// <param name="threads">Threads for decoding and inference; 0 for the processor count.</param>
    public ResNet18Featurizer(int threads)
    {
        _embedder = new ImageEmbedder(new ImageEmbedderOptions { Normalize = true, Threads = threads });
        _modelHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(_embedder.ModelBytes.Span))[..16];
        _probeHash = EmbedProbe(_embedder);
    }

    /// <inheritdoc/>
    public string Name => "resnet18";

    /// <inheritdoc/>
    public string CacheKey => $"resnet18 v2 model {_modelHash} l2 probe {_probeHash}";

    /// <inheritdoc/>
    public FeatureMatrix Compute(IReadOnlyList<string> paths)
    {
        int dimension = _embedder.Dimension;
        string loadAtStart = LoadAverage.Read();
        var watch = Stopwatch.StartNew();
        int lastPercent = -1;
        var progress = new SynchronousProgress<EmbeddingProgress>(p =>
        {
            int percent = p.Total == 0 ? 100 : p.Done * 100 / p.Total;
            if (percent / 10 != lastPercent / 10)
            {
                lastPercent = percent;
                Console.Error.WriteLine($"  resnet18: {p.Done}/{p.Total} images, {p.Failed} failed, {watch.Elapsed.TotalSeconds:F0} s");
            }
        });
        EmbeddingBatchResult result = _embedder.EmbedFiles(paths, progress);
        double seconds = watch.Elapsed.TotalSeconds;

        var vectors = new float[checked(paths.Count * dimension)];
        Array.Fill(vectors, float.NaN);
        var failed = new bool[paths.Count];
        Array.Fill(failed, true);
        for (int row = 0; row < result.SourceIndices.Length; row++)
        {
            int source = result.SourceIndices[row];
            result.Vectors.AsSpan(row * dimension, dimension).CopyTo(vectors.AsSpan(source * dimension, dimension));
            failed[source] = false;
        }

        foreach (var failure in result.Failures.Take(5))
        {
            Console.Error.WriteLine($"  resnet18 failed: {failure.Source}: {failure.Reason}");
        }

        return new FeatureMatrix(dimension, vectors, failed, seconds, DateTime.UtcNow, $"{loadAtStart} -> {LoadAverage.Read()}");
    }

    /// <inheritdoc/>
    public void Dispose() => _embedder.Dispose();

    // Embeds a synthetic PNG file (gradients and a translucent band) through the whole file pipeline and hashes
    // the embedding rounded to 3 decimals. The hash changes when a change to decoding, preprocessing or inference
    // changes the output, but not with every rebuild, as an assembly id would.
    // NOTE: a change that leaves this one image unchanged but alters others keeps stale features in the cache.
    private static string EmbedProbe(ImageEmbedder embedder)
    {
        const int width = 96;
        const int height = 64;
        using var probe = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte alpha = (byte)(y < height / 4 ? 128 : 255);
                probe.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) * 2), alpha));
            }
        }

        string path = Path.Combine(Path.GetTempPath(), $"mlnr-imgbench-probe-{Environment.ProcessId}.png");
        try
        {
            using (SKData png = probe.Encode(SKEncodedImageFormat.Png, 100))
            {
                File.WriteAllBytes(path, png.ToArray());
            }

            EmbeddingBatchResult result = embedder.EmbedFiles([path]);
            if (result.SourceIndices.Length != 1)
            {
                throw new InvalidOperationException(
                    $"The embedder failed on the probe image '{path}': {string.Join("; ", result.Failures.Select(f => f.Reason))}");
            }

            string rounded = string.Join(',', result.Vectors.Select(v => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(rounded)))[..16];
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Progress<T> posts to the thread pool and can report out of order; this calls back on the reporting thread.
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly object _lock = new();

        public void Report(T value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}

/// <summary>Reads the system load average.</summary>
internal static class LoadAverage
{
    /// <summary>Returns the 1-, 5- and 15-minute load averages from /proc/loadavg, or "n/a".</summary>
    /// <returns>For example "1.02 0.88 0.95".</returns>
    public static string Read()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', parts.Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
