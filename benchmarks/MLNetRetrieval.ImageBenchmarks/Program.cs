using MLNetRetrieval.ImageBenchmarks;

// Image retrieval benchmarks on real images from Debian packages; benchmarks/images/run.sh runs them with fixed seeds.
ImageBenchmarkOptions options;
try
{
    options = ImageBenchmarkOptions.Parse(args);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    return 2;
}

Console.WriteLine($"<!-- load average at start: {LoadAverage.Read()}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z -->");
if (options.CheckAttacks && AttackCheck.Run(options.FontPath) > 0)
{
    return 1;
}

if (!options.Copydays && !options.Categories)
{
    return 0;
}

var featurizers = new List<IImageFeaturizer>();
foreach (string method in options.Methods)
{
    if (method == "raw32")
    {
        featurizers.Add(new RawPixelFeaturizer(options.Threads));
        continue;
    }

    try
    {
        featurizers.Add(new ResNet18Featurizer(options.Threads));
    }
    catch (NotImplementedException)
    {
        // NOTE: ImageEmbedder is a stub until the embedder branch is merged; the baseline still runs.
        Console.WriteLine("<!-- resnet18 skipped: ImageEmbedder is not implemented in this build -->");
    }
}

try
{
    var cache = new FeatureCache(options.CacheFolder);
    if (options.Copydays)
    {
        CopydaysBenchmark.Run(options, featurizers, cache);
    }

    if (options.Categories)
    {
        CategoryBenchmark.Run(options, featurizers, cache);
    }
}
finally
{
    foreach (IImageFeaturizer featurizer in featurizers)
    {
        featurizer.Dispose();
    }
}

Console.WriteLine();
Console.WriteLine($"<!-- load average at end: {LoadAverage.Read()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z -->");
return 0;
