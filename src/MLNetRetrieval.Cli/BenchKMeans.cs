using System.Diagnostics;
using System.Globalization;
using MLNetRetrieval.IO;
using MLNetRetrieval.Quantization;
using Spectre.Console;

namespace MLNetRetrieval.Cli;

/// <summary>
/// <c>bench --kmeans</c>: times k-means on the base vectors with FAISS's <c>Clustering</c> settings
/// (random initial centroids, fixed iterations, at most 256 points per centroid), once per repeat.
/// </summary>
internal static class BenchKMeans
{
    /// <summary>One timed k-means run.</summary>
    internal sealed record KMeansRow(int Repeat, double Seconds, double Objective, int SampledPoints);

    public static int Run(CliContext context, VectorSet data, int clusters, int iterations, int seed, int threads, int repeat, bool json)
    {
        CliConsole console = context.Console;
        if (clusters > data.Count)
            throw new UsageException($"--clusters {clusters} exceeds the {data.Count} base vectors; pass at most {data.Count}.");
        console.Info($"k-means: {data.Count} × {data.Dimension}, k = {clusters}, {iterations} iterations, seed {seed}, {threads} thread(s), {repeat} repeat(s).");

        var rows = new List<KMeansRow>();
        for (int r = 0; r < repeat; r++)
        {
            var options = new KMeansOptions
            {
                NumberOfClusters = clusters,
                MaxIterations = iterations,
                Initialization = KMeansInitialization.Random,
                Seed = seed,
                Threads = threads,
                CancellationToken = context.CancellationToken,
            };
            var clock = Stopwatch.StartNew();
            KMeansResult result = KMeans.Train(data.Values, data.Count, data.Dimension, options);
            rows.Add(new KMeansRow(r, clock.Elapsed.TotalSeconds, result.Objective, result.SampledPoints));
        }

        if (json)
        {
            console.WriteJson(new
            {
                command = "bench",
                mode = "kmeans",
                basePath = data.Source,
                baseCount = data.Count,
                dimension = data.Dimension,
                clusters,
                iterations,
                seed,
                threads,
                peakWorkingSetBytes = Process.GetCurrentProcess().PeakWorkingSet64,
                rows,
            });
            return ExitCodes.Success;
        }

        var table = CliConsole.CreateTable().AddColumn("repeat").AddColumn("seconds").AddColumn("objective").AddColumn("points");
        foreach (KMeansRow row in rows)
        {
            table.AddRow(
                row.Repeat.ToString(CultureInfo.InvariantCulture),
                row.Seconds.ToString("F2", CultureInfo.InvariantCulture),
                row.Objective.ToString("G6", CultureInfo.InvariantCulture),
                row.SampledPoints.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(table);
        return ExitCodes.Success;
    }
}
